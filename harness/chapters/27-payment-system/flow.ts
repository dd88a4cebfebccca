// The pay-in flow as a client and a buyer drive it, with the retries a careful client makes (same Idempotency-Key),
// and the waits a check needs: until every order is final, or a deadline says it never became final.
import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { scopedFetch, sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import {
  type LedgerEntry,
  newEvent,
  type OrderInput,
  type PayApi,
  type PaymentEvent,
  type PaymentEventInput,
  type PaymentOrder,
  payApi as payApiOf,
} from './api.ts';
import { decimalOf, minorOf } from './money.ts';
import type { PspFake } from './psp-fake.ts';

const FINAL = new Set(['SUCCESS', 'FAILED']);

/**
 * How a careful client may retry createPayment, and no further (the spec's rules, so the helper cannot hide a
 * service that makes its clients wait): a 503 or no answer executed nothing, so the retry with the same key runs
 * after Retry-After; 409 idempotency_key_in_use only while another request with the key is still being executed.
 * A client that retries one request at a time has no other request in flight once its last attempt was answered,
 * so in_use after an answered attempt means the key stayed locked after a failure (refused at once); after an
 * attempt with no answer the server may still be working on it, for at most IN_FLIGHT_GRACE_MS.
 */
export const CREATE_RETRY = {
  /** Attempts answered 503 or not at all, in a row (a PSP failing 60% of registrations: 0.6^20 = 4e-5). */
  maxUnavailable: 20,
  /** The longest wait a Retry-After may ask for between two attempts (seconds beyond it are not honoured). */
  maxRetryAfterMs: 2000,
  /** After an attempt with no answer, how long its key may stay in use (the harness's request timeout). */
  inFlightGraceMs: 15_000,
} as const;

/** What createPayment's retries cost, summed over a check (its evidence `createPaymentRetries`). */
interface RetryTally {
  calls: number;
  retries503: number;
  retriesNoAnswer: number;
  retriesInUse: number;
  waitedMs: number;
}

function tallyOf(ctx: CheckContext): RetryTally {
  const t = (ctx.evidence['createPaymentRetries'] as RetryTally | undefined) ?? {
    calls: 0,
    retries503: 0,
    retriesNoAnswer: 0,
    retriesInUse: 0,
    waitedMs: 0,
  };
  ctx.evidence['createPaymentRetries'] = t;
  return t;
}

function retryAfterMs(x: Exchange): number {
  const s = Number(x.headers['retry-after']);
  return Number.isFinite(s) && s >= 0 ? Math.min(s * 1000, CREATE_RETRY.maxRetryAfterMs) : 200;
}

/**
 * Creates a payment event, retrying with the same key within CREATE_RETRY. `sharedKey`: other callers use the key
 * at the same time (racing duplicates), so in_use may follow any answer, within the same grace.
 */
export async function createPayment(
  ctx: CheckContext,
  api: PayApi,
  event: PaymentEventInput,
  key = randomUUID(),
  o: { sharedKey?: boolean } = {},
): Promise<PaymentEvent> {
  const tally = tallyOf(ctx);
  tally.calls++;
  let last: Exchange | undefined;
  let unavailable = 0;
  /** Since when the key may legitimately be in use by a request of ours with no answer (or another caller's). */
  let inUseSince: number | null = null;
  for (;;) {
    const prev = last;
    last = await api.create(event, key);
    if (last.status === 201) return last.body as PaymentEvent;
    const code = (last.body as { code?: string } | undefined)?.code;
    let wait: number;
    if (last.status === 409 && code === 'idempotency_key_in_use') {
      if (prev?.status != null && !o.sharedKey) {
        ctx.fail(
          `createPayment answered 409 idempotency_key_in_use to a retry after the previous request with the key ` +
            `had been answered ${prev.status}: no request with the key was in flight, so the key stayed locked ` +
            `after the failure (the spec: a 503 executed nothing, retry with the same key)`,
          { exchange: last },
        );
      }
      inUseSince ??= Date.now();
      if (Date.now() - inUseSince > CREATE_RETRY.inFlightGraceMs) {
        ctx.fail(
          `the Idempotency-Key stayed in use for over ${CREATE_RETRY.inFlightGraceMs} ms after a request ` +
            `with it went unanswered (${tally.retriesInUse} in_use answers): a retrying client is locked out`,
          { exchange: last },
        );
      }
      tally.retriesInUse++;
      wait = retryAfterMs(last);
    } else if (last.status === null || last.status === 503) {
      if (++unavailable > CREATE_RETRY.maxUnavailable) break;
      if (last.status === null) {
        tally.retriesNoAnswer++;
        inUseSince = Date.now();
      } else tally.retries503++;
      wait = last.status === null ? 200 : retryAfterMs(last);
    } else break;
    tally.waitedMs += wait;
    await sleep(wait);
  }
  return ctx.fail(
    `createPayment did not answer 201 (last: ${last?.status ?? last?.error}` +
      `${unavailable > CREATE_RETRY.maxUnavailable ? `, after ${unavailable} attempts answered 503 or nothing` : ''})`,
    {
      ...(last ? { exchange: last } : {}),
    },
  );
}

/** The buyer pays on the PSP's hosted page (retrying through PSP faults). */
export async function payOnHostedPage(
  ctx: CheckContext,
  event: PaymentEvent,
  card = '4242424242424242',
): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const res = await scopedFetch(`${event.payment_page_url}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ card_number: card }),
        signal: AbortSignal.timeout(3000),
      });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      /* a PSP fault: the buyer clicks again */
    }
    await sleep(100);
  }
  ctx.fail(`the buyer could not pay on ${event.payment_page_url}`);
}

export interface Settled {
  order: PaymentOrder;
  /** Every status seen while waiting, in order (consecutive repeats collapsed). */
  seen: string[];
}

/** Polls the orders until each is SUCCESS or FAILED; fails naming the ones still open at the deadline. */
export async function waitFinal(
  ctx: CheckContext,
  api: PayApi,
  ids: readonly string[],
  timeoutMs: number,
  o: { allowOpen?: boolean } = {},
): Promise<Map<string, Settled>> {
  const out = new Map<string, Settled>();
  const started = Date.now();
  let open = [...ids];
  let lastOpen: Exchange | undefined;
  while (open.length > 0) {
    const still: string[] = [];
    for (const id of open) {
      const x = await api.order(id);
      if (x.status !== 200) {
        if (x.status !== null && x.status !== 503)
          ctx.fail(`GET payment order ${id} answered ${x.status}`, { exchange: x });
        still.push(id);
        continue;
      }
      const order = x.body as PaymentOrder;
      const s = out.get(id) ?? { order, seen: [] };
      s.order = order;
      if (s.seen.at(-1) !== order.status) s.seen.push(order.status);
      out.set(id, s);
      if (!FINAL.has(order.status)) {
        still.push(id);
        lastOpen = x;
      }
    }
    open = still;
    if (open.length === 0) break;
    // The bound plus the scheduling delay measured during the check (evidence.schedulingSlack), at most 5 s: an
    // order that never settles is still caught.
    if (Date.now() - started > checkSlack(ctx.evidence, 5000).bound(timeoutMs)) {
      if (o.allowOpen) break;
      const states = open.slice(0, 5).map((id) => `${id}: ${out.get(id)?.order.status ?? 'unreadable'}`);
      ctx.fail(`${open.length} of ${ids.length} orders not final after ${timeoutMs} ms (${states.join(', ')})`, {
        ...(lastOpen ? { exchange: lastOpen } : {}),
      });
    }
    await sleep(100);
  }
  return out;
}

/** Fails unless the PSP's own record shows each order charged exactly once (`atMostOnce`: 0 allowed). */
export function expectChargedOnce(
  ctx: CheckContext,
  psp: PspFake,
  ids: readonly string[],
  o: { atMostOnce?: boolean } = {},
): void {
  const counts = psp.chargeCounts();
  const twice = ids.filter((id) => (counts.get(id) ?? 0) > 1);
  if (twice.length) {
    ctx.fail(
      `double charge: the PSP charged ${twice.length} payment orders more than once (` +
        twice
          .slice(0, 5)
          .map((id) => `${id} x${counts.get(id)}`)
          .join(', ') +
        ')',
      { counterexample: psp.charges.filter((c) => twice.includes(c.metadata['payment_order_id'] ?? '')).slice(0, 6) },
    );
  }
  if (!o.atMostOnce) {
    const never = ids.filter((id) => (counts.get(id) ?? 0) === 0);
    ctx.expect(
      never.length === 0,
      `${never.length} paid orders were never charged at the PSP: ${never.slice(0, 5).join(', ')}`,
    );
  }
}

/** Creates `count` events of `amounts`, the buyer pays each; returns the events. Runs `parallel` at a time. */
export async function createAndPay(
  ctx: CheckContext,
  api: PayApi,
  make: (i: number) => PaymentEventInput,
  count: number,
  parallel = 4,
): Promise<PaymentEvent[]> {
  const out: PaymentEvent[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - i) }, async (_, j) => {
        const ev = await createPayment(ctx, api, make(i + j));
        await payOnHostedPage(ctx, ev);
        return ev;
      }),
    );
    out.push(...batch);
  }
  return out;
}

export function orderIds(events: readonly PaymentEvent[]): string[] {
  return events.flatMap((e) => e.payment_orders.map((o) => o.payment_order_id));
}

/** The time within which no order may stay EXECUTING after a restart (PAY-F4's and PAY-F6's stated bound). */
export const EXECUTING_BOUND_MS = 10_000;

/**
 * Ends the check unless every order is SUCCESS with one ledger transaction, and charged once at the PSP. With
 * `asked` (the orders as the check sent them), also checked against the provider's record and the ledger rather
 * than the service's answers: the one charge is for the amount and currency asked, the transaction moves it.
 */
export async function expectSettledOnce(
  ctx: CheckContext,
  psp: PspFake,
  ids: string[],
  timeoutMs: number,
  asked?: ReadonlyMap<string, OrderInput>,
): Promise<void> {
  const api = payApiOf(ctx);
  const settled = await waitFinal(ctx, api, ids, timeoutMs);
  expectChargedOnce(ctx, psp, ids);
  for (const id of ids) {
    const s = settled.get(id)!;
    ctx.expect(s.order.status === 'SUCCESS', `${id} ended ${s.order.status}, not SUCCESS`);
    const l = await api.ledger(id);
    const entries = (l.body as { entries: LedgerEntry[] }).entries;
    const txs = new Set(entries.map((e) => e.transaction_id));
    ctx.expect(txs.size === 1, `${id} has ${txs.size} ledger transactions`, l);
    const o = asked?.get(id);
    if (!o) continue;
    const want = minorOf(o.amount, o.currency);
    const charge = psp.charges.find((c) => c.metadata['payment_order_id'] === id)!;
    ctx.expect(
      BigInt(charge.amount) === want && charge.currency.toUpperCase() === o.currency,
      `${id}: the PSP's record shows a charge of ${charge.amount} ${charge.currency} (minor units) for ` +
        `${o.amount} ${o.currency} asked (${want} minor units)`,
    );
    const sum = (f: 'debit' | 'credit') => entries.reduce((n, e) => n + minorOf(e[f] || '0', o.currency), 0n);
    ctx.expect(
      entries.every((e) => e.currency === o.currency) && sum('debit') === want && sum('credit') === want,
      `${id}: its ledger transaction moves ${decimalOf(sum('debit'), o.currency)} debit / ` +
        `${decimalOf(sum('credit'), o.currency)} credit in ${[...new Set(entries.map((e) => e.currency))].join(', ')}, ` +
        `not the ${o.amount} ${o.currency} asked`,
      l,
    );
  }
}

/** Wraps an event maker so every order it makes is remembered as asked (for expectSettledOnce's `asked`). */
export function remembering(
  asked: Map<string, OrderInput>,
  make: (i: number) => PaymentEventInput,
): (i: number) => PaymentEventInput {
  return (i) => {
    const e = make(i);
    for (const o of e.payment_orders) asked.set(o.payment_order_id, o);
    return e;
  };
}

/**
 * After a fault: keep paying (new events must settle and not clobber what came before), then re-verify every
 * order the check had acknowledged, before the fault too, against the PSP's record and the ledger.
 */
export async function payOnAndReverify(
  ctx: CheckContext,
  psp: PspFake,
  asked: Map<string, OrderInput>,
  tag: string,
  timeoutMs = 15_000,
): Promise<void> {
  const api = payApiOf(ctx);
  const after = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`${tag}_after_${i}`, ['9.75', '0.05'])),
    2,
  );
  ctx.evidence.paidAfterFault = orderIds(after).length;
  await expectSettledOnce(ctx, psp, [...asked.keys()], timeoutMs, asked);
  ctx.evidence.reverifiedOrders = asked.size;
}

/** Polls until some of the orders are EXECUTING (up to 6 s); how many were. */
export async function waitExecuting(api: PayApi, ids: readonly string[]): Promise<number> {
  let executing = 0;
  for (let i = 0; i < 60 && executing === 0; i++) {
    await sleep(100);
    for (const id of ids) {
      const x = await api.order(id);
      if ((x.body as PaymentOrder | undefined)?.status === 'EXECUTING') executing++;
    }
  }
  return executing;
}

/** The ledger entries of one payment order (fails the check unless the read answers 200). */
export async function entriesOf(ctx: CheckContext, api: PayApi, id: string): Promise<LedgerEntry[]> {
  const x = await api.ledger(id);
  ctx.expectStatus(x, 200);
  return (x.body as { entries: LedgerEntry[] }).entries;
}
