// SE-F4: a write lost on its way to the event store, twice. The target reaches its PostgreSQL through a proxy that
// reads the wire protocol (harness/faults/pg-wire-proxy.ts); the check takes the database away there and then sends
// an order: the exchange's write of it is dropped by the proxy (it never reaches PostgreSQL) and its connection
// reset. Unlike SE-F3's crash, where a write under way may or may not have landed (the spec lets it stand), here the
// log provably never received it, so openapi.yaml ("The event log unavailable") leaves one answer: 503 and nothing
// changed, also once the store is back (its retry with the same clientOrderId places it, 201). The deposit and the
// cancel sent while the database is away are 503 and never applied; reads answer meanwhile; trading resumes on its own
// after each of the two losses (the second on the connection the first recovery opened).
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import {
  type Account,
  CASH,
  freshSymbol,
  freshUser,
  fund,
  type NewOrder,
  type Order,
  okBody,
  patient,
  readLog,
  seApi,
} from './api.ts';

/** Losses of the database, one after the other in one process's life. */
const ROUNDS = 2;
/** After the database is back, a write is acknowledged again within this (the same bound as SE-F3's). */
const BACK_BOUND_MS = 10_000;
const RETRY_AFTER = /^[1-9][0-9]*$/;
const FUNDS = 1_000_000;
/** The resting buy the lost cancels aim at: 10 shares at 100 cents hold 1,000. */
const REST = { price: 100, quantity: 10 };
/** Each lost order: a buy below the resting one (nothing sells, so nothing trades); it would hold 450. */
const LOST = { price: 90, quantity: 5 };
const LOST_DEPOSIT = 777;

export async function lostWrites(ctx: CheckContext): Promise<void> {
  await withPgWireProxy(ctx, 'a PostgreSQL-protocol proxy', (proxy) => loseWrites(ctx, proxy));
}

async function loseWrites(ctx: CheckContext, proxy: PgWireProxy): Promise<void> {
  const api = seApi(ctx);
  const symbol = freshSymbol();
  const user = freshUser('f4');
  await fund(ctx, api, user, { [CASH]: FUNDS });
  const rest = okBody<Order>(
    ctx,
    await api.place({ userId: user, clientOrderId: 'f4-rest', symbol, side: 'buy', ...REST }),
    201,
    'placing the resting buy',
  );
  let probes = 0; // 1-cent deposits acknowledged while waiting for the exchange to write again
  const lost: NewOrder[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    proxy.takeDown();
    const order: NewOrder = { userId: user, clientOrderId: `f4-lost-${round}`, symbol, side: 'buy', ...LOST };
    lost.push(order);
    // The first write after the cut: the exchange sends it to PostgreSQL, the proxy drops it there.
    expect503(ctx, `round ${round}: the order whose write was dropped`, await api.place(order));
    expect503(ctx, `round ${round}: a deposit with the database away`, await api.deposit(user, CASH, LOST_DEPOSIT));
    expect503(ctx, `round ${round}: a cancel with the database away`, await api.cancel(rest.id));
    const read = await api.order(rest.id);
    ctx.expect(
      read.status === 200,
      `round ${round}: reading an order with the database away answered ${read.status ?? read.error}, not 200`,
      read,
    );
    proxy.up();
    probes += await awaitWrites(ctx, api, user, round);
  }
  probes += await copyWhileWriteUnderWay(ctx, proxy, user, symbol, lost);
  ctx.evidence.rounds = ROUNDS;
  ctx.evidence.probes = probes;

  // Nothing the log never received is in it, nor in what the exchange answers: the log has no gap (readLog), holds
  // none of the lost orders, no cancel of the resting one and no lost deposit.
  const { events } = await readLog(ctx, api, 1);
  for (const e of events) {
    if (e.type === 'new' && e.userId === user)
      ctx.expect(
        !lost.some((o) => o.clientOrderId === e.clientOrderId),
        `the log holds order ${e.orderId} (${e.clientOrderId}), answered 503 when its write never reached PostgreSQL: it was placed after all`,
      );
    if (e.type === 'cancel')
      ctx.expect(
        e.orderId !== rest.id,
        `the log holds a cancel of order ${rest.id}, answered 503 while the database was away`,
      );
    if (e.type === 'deposit' && e.userId === user)
      ctx.expect(
        e.amount !== LOST_DEPOSIT,
        `the log holds the deposit of ${LOST_DEPOSIT} answered 503 while the database was away`,
      );
  }
  const still = okBody<Order>(ctx, await api.order(rest.id), 200, 'reading the resting buy back');
  ctx.expect(
    still.status === 'new' && still.remainingQuantity === REST.quantity,
    `the resting buy, whose cancel was answered 503, is ${still.status} with ${still.remainingQuantity} left, not new with ${REST.quantity}`,
  );
  expectCash(
    ctx,
    okBody<Account>(ctx, await api.account(user), 200, 'reading the account'),
    FUNDS + probes,
    REST.price * REST.quantity,
  );

  // Each lost order was not placed, so its retry with the same clientOrderId places it now: 201, not 200.
  for (const o of lost) {
    const x = await api.place(o);
    ctx.expect(
      x.status === 201,
      `${o.clientOrderId}, answered 503 when its write never reached PostgreSQL, retried with its clientOrderId answered ${x.status ?? x.error}${x.status === 200 ? ' with an existing order: it had been placed' : ''}, not 201`,
      x,
    );
  }
  const held = REST.price * REST.quantity + lost.length * LOST.price * LOST.quantity;
  expectCash(
    ctx,
    okBody<Account>(ctx, await api.account(user), 200, 'reading the account after the retries'),
    FUNDS + probes,
    held,
  );
}

/** A write the exchange could not log: 503 unavailable with Retry-After, within the hang bound. */
/**
 * A copy of an order (its clientOrderId) sent while the order's write is under way: the write ran in PostgreSQL but
 * its commit is held by the proxy, then the database goes away and the uncommitted row with it. The log never held
 * the order, so the copy cannot have been told of it: 503 like the original (an exchange that answers a copy from
 * what it has not stored yet says 200). Returns the probes acknowledged while waiting for trading to resume.
 */
async function copyWhileWriteUnderWay(
  ctx: CheckContext,
  proxy: PgWireProxy,
  user: string,
  symbol: string,
  lost: NewOrder[],
): Promise<number> {
  const api = seApi(ctx, patient(ctx));
  const order: NewOrder = { userId: user, clientOrderId: 'f4-copied', symbol, side: 'buy', ...LOST };
  lost.push(order);
  // Any statement: the next one the exchange sends is this order's write (nothing else writes meanwhile).
  proxy.holdCommit(/[\s\S]/);
  const first = api.place(order);
  const until = performance.now() + timeLimit(10_000);
  while (proxy.held === 0) {
    ctx.expect(performance.now() < until, "the order's write never reached the database within 10 s");
    await sleep(5);
  }
  const copy = api.place(order);
  // Let the copy reach the exchange before the database goes away (an answer from memory would be at once).
  await sleep(200);
  proxy.takeDown();
  expect503(ctx, 'a copy of an order sent while its write was under way (never committed)', await copy);
  expect503(ctx, 'the order whose write was under way when the database went away', await first);
  // Not released: the held commit would land. The exchange's new connection ends the old one, and its row with it.
  proxy.up();
  return awaitWrites(ctx, api, user, ROUNDS + 1);
}

function expect503(ctx: CheckContext, what: string, x: Exchange): void {
  ctx.expect(x.status === 503, `${what} answered ${x.status ?? x.error}, not 503`, x);
  ctx.expect(x.durationMs < timeLimit(15_000), `${what} took ${Math.round(x.durationMs)} ms (a hang)`, x);
  if (x.status !== 503) return;
  ctx.expect(
    (x.body as { code?: string } | undefined)?.code === 'unavailable',
    `${what}: the 503's code is not unavailable`,
    x,
  );
  ctx.expect(
    RETRY_AFTER.test(x.headers['retry-after'] ?? ''),
    `${what}: the 503 has no Retry-After of whole seconds`,
    x,
  );
}

/** Trading resumes on its own (SE-F4, SE-F5): 1-cent deposits until one is acknowledged; returns how many were (one). */
export async function awaitWrites(
  ctx: CheckContext,
  api: ReturnType<typeof seApi>,
  user: string,
  round: number,
): Promise<number> {
  const back = performance.now();
  const bound = checkSlack(ctx.evidence, 5000).bound(BACK_BOUND_MS);
  for (;;) {
    const x = await api.deposit(user, CASH, 1);
    if (x.status === 200) {
      ctx.evidence[`resumedAfterMs${round}`] = Math.round(performance.now() - back);
      return 1;
    }
    ctx.expect(
      x.status === 503,
      `round ${round}: a deposit after the database came back answered ${x.status ?? x.error}, not 200 or 503`,
      x,
    );
    if (performance.now() - back > bound)
      ctx.fail(
        `round ${round}: within ${BACK_BOUND_MS} ms of the database coming back no write was acknowledged: trading did not resume`,
      );
    await sleep(200);
  }
}

function expectCash(ctx: CheckContext, a: Account, total: number, held: number): void {
  const cash = a.balances.find((b) => b.asset === CASH);
  ctx.expect(
    cash?.held === held && cash.available === total - held,
    `the account's cash is ${JSON.stringify(cash)}, not held ${held} and available ${total - held} (the writes answered 503 changed it)`,
  );
}
