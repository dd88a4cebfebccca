// PAY-F7: connections to PostgreSQL broken inside transactions, many more than a connection pool holds. The target
// is pointed at the harness's PostgreSQL-protocol proxy (harness/faults/pg-wire-proxy.ts) in front of its own
// database, which resets each of the next K connections that send a statement inside a transaction block, right
// then (the statement never reaches PostgreSQL, the block rolls back). The cuts are made one after another as the
// check's createPayment requests (and the service's own work) reach a transaction: counted by the proxy, the same
// number on a fast or a loaded machine. K is three times the pool the spec allows (setting dbPoolSize), so a
// service that loses a pooled connection with each broken transaction has none left. Survive means: every answer
// meanwhile 201 or 503 (no 500, no hang); once the proxy stops cutting, 201 again within DB_BACK_BOUND_MS; every
// request answered 503 executed nothing (its retry with the same key is 201 with the orders asked, once); every
// event acknowledged with 201 still there; every paid order SUCCESS, charged once and recorded once. Then the
// transaction recording one charge is cut at each point it can break (settle-cuts.ts): SUCCESS, and in the wallet once.

import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import { newEvent, type OrderInput, type PaymentEvent, type PaymentEventInput, payApi } from './api.ts';
import { DB_BACK_BOUND_MS } from './db-restart.ts';
import {
  createAndPay,
  createPayment,
  EXECUTING_BOUND_MS,
  expectSettledOnce,
  orderIds,
  payOnAndReverify,
  payOnHostedPage,
  remembering,
} from './flow.ts';
import { cutsWhileRecording } from './settle-cuts.ts';
import { pspOf } from './third-parties.ts';

/** The pool the spec allows a node by default (README §5.7; a larger one is declared as the setting dbPoolSize). */
export const DEFAULT_POOL_SIZE = 20;
/** Transactions cut per pooled connection allowed. */
const CUTS_PER_CONNECTION = 3;
/** Requests in a row that reached no transaction before the cutting phase ends short of K. */
const STALL_REQUESTS = 5;
/** The 503'd checkouts paid after their retry (each is also checked to hold exactly its orders). */
const PAID_RETRIES = 4;

export async function transactionsCut(ctx: CheckContext): Promise<void> {
  const pool = ctx.setting('dbPoolSize', DEFAULT_POOL_SIZE);
  if (!Number.isInteger(pool) || pool < 1)
    throw new Error(`setting dbPoolSize must be a positive integer, not ${pool}`);
  await withPgWireProxy(ctx, 'a PostgreSQL-protocol proxy', (proxy) =>
    survivesCuts(ctx, proxy, CUTS_PER_CONNECTION * pool),
  );
}

async function survivesCuts(ctx: CheckContext, proxy: PgWireProxy, k: number): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const asked = new Map<string, OrderInput>();
  // Paid before the fault, and (slow PSP) still being charged while it runs: the executor's transactions are cut too.
  const before = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`f7_${i}`, ['31.40', '0.27'])),
    3,
  );
  third.psp.latencyMs = 200;
  const inFlight = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`f7f_${i}`, ['5.55'])),
    2,
  );

  proxy.cutInTransaction(k);
  const refused: { event: PaymentEventInput; key: ReturnType<typeof randomUUID> }[] = [];
  const acknowledged: PaymentEvent[] = [];
  const statuses: Record<string, number> = {};
  let requests = 0;
  let sinceCut = 0;
  try {
    // One request at a time, each a new checkout, until K transactions were cut (or requests stop reaching one).
    while (proxy.cuts < k && sinceCut < STALL_REQUESTS) {
      const cutsBefore = proxy.cuts;
      const event = newEvent(`f7c_${requests}`, ['12.34', '0.66']);
      const key = randomUUID();
      const x = await api.create(event, key);
      requests++;
      statuses[String(x.status ?? x.error)] = (statuses[String(x.status ?? x.error)] ?? 0) + 1;
      expectAnswered(ctx, x, 'while transactions were being cut');
      if (x.status === 201) {
        acknowledged.push(x.body as PaymentEvent);
        for (const o of event.payment_orders) asked.set(o.payment_order_id, o);
      } else refused.push({ event, key });
      sinceCut = proxy.cuts > cutsBefore ? 0 : sinceCut + 1;
    }
  } finally {
    proxy.disarm();
    third.psp.latencyMs = 0;
  }
  const cuts = proxy.cuts;
  ctx.evidence.transactionsToCut = k;
  ctx.evidence.transactionsCut = cuts;
  ctx.evidence.requestsWhileCutting = requests;
  ctx.evidence.statusesWhileCutting = statuses;
  ctx.evidence.cutStatements = [...new Set(proxy.cutLog.map((c) => c.statement.slice(0, 60)))].slice(0, 8);
  ctx.log(`${cuts} of ${k} transactions cut in ${requests} requests (${JSON.stringify(statuses)})`);

  const recovered = await answersAgain(ctx, api, cuts);
  ctx.evidence.answersAgainAfterMs = recovered.ms;
  acknowledged.push(recovered.event);
  for (const o of recovered.asked) asked.set(o.payment_order_id, o);

  // A 503 executed nothing: its retry with the same key is executed, and stores the event as asked, once.
  for (const [i, r] of refused.entries()) {
    const event = await createPayment(ctx, api, r.event, r.key);
    const want = r.event.payment_orders.map((o) => `${o.payment_order_id} ${o.amount}`).sort();
    const got = event.payment_orders.map((o) => `${o.payment_order_id} ${o.amount}`).sort();
    ctx.expect(
      event.checkout_id === r.event.checkout_id && JSON.stringify(got) === JSON.stringify(want),
      `the retry of a createPayment answered 503 while transactions were cut holds orders [${got.join(', ')}], ` +
        `not the [${want.join(', ')}] asked`,
    );
    if (i < PAID_RETRIES) {
      for (const o of r.event.payment_orders) asked.set(o.payment_order_id, o);
      await payOnHostedPage(ctx, event);
    }
  }
  ctx.evidence.retriedAfterCuts = refused.length;
  // Acknowledged is durable: every event answered 201 while cutting is still there, then paid.
  for (const e of acknowledged) {
    for (const id of orderIds([e])) {
      const x = await api.order(id);
      ctx.expect(
        x.status === 200,
        `payment order ${id}, acknowledged with 201 while cutting, is gone (${x.status})`,
        x,
      );
    }
    await payOnHostedPage(ctx, e);
  }
  await expectSettledOnce(ctx, third.psp, orderIds([...before, ...inFlight]), EXECUTING_BOUND_MS, asked);
  await payOnAndReverify(ctx, third.psp, asked, 'f7', 30_000);
  // Then the transaction that records a charge, cut at a statement, at its COMMIT and after its COMMIT.
  await cutsWhileRecording(ctx, proxy, third, api);

  if (cuts === 0) ctx.skip(`the fault never bit: in ${requests} requests no transaction reached the proxy to be cut`);
  if (cuts < k)
    ctx.skip(
      `the fault bit short: ${cuts} of ${k} transactions were cut, then ${STALL_REQUESTS} requests in a row ` +
        'reached no transaction (createPayment may not use one)',
    );
}

function expectAnswered(ctx: CheckContext, x: Exchange, when: string): void {
  ctx.expect(
    x.status === 201 || x.status === 503,
    `createPayment answered ${x.status ?? x.error} ${when}, not 201 or 503`,
    x,
  );
  ctx.expect(x.durationMs < 10_000, `createPayment took ${Math.round(x.durationMs)} ms ${when}`, x);
}

/** Polls createPayment with fresh events until a 201; fails past DB_BACK_BOUND_MS. The time it took, the event. */
async function answersAgain(
  ctx: CheckContext,
  api: ReturnType<typeof payApi>,
  cuts: number,
): Promise<{ ms: number; event: PaymentEvent; asked: OrderInput[] }> {
  const since = Date.now();
  let last: Exchange | undefined;
  // The bound plus the scheduling delay measured (at most 5 s): a service that lost its pool is still caught.
  for (let i = 0; Date.now() - since < checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS); i++) {
    const event = newEvent(`f7b_${i}`, ['2.00']);
    last = await api.create(event);
    if (last.status === 201)
      return { ms: Date.now() - since, event: last.body as PaymentEvent, asked: event.payment_orders };
    expectAnswered(ctx, last, 'after the proxy stopped cutting');
    await sleep(200);
  }
  return ctx.fail(
    `after ${cuts} transactions were broken mid-way (their connections reset), createPayment did not answer 201 ` +
      `within ${DB_BACK_BOUND_MS} ms of the cuts ending, with PostgreSQL up (last: ${last?.status ?? last?.error}): ` +
      'broken connections are not given back or replaced',
    last ? { exchange: last } : {},
  );
}
