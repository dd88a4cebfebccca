// The pay-in flow as a client and a buyer drive it, with the retries a careful client makes (same Idempotency-Key),
// and the waits a check needs: until every order is final, or a deadline says it never became final.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import {
  type LedgerEntry,
  type PayApi,
  type PaymentEvent,
  type PaymentEventInput,
  type PaymentOrder,
  payApi as payApiOf,
} from './api.ts';
import type { PspFake } from './psp-fake.ts';

const FINAL = new Set(['SUCCESS', 'FAILED']);

/** Creates a payment event, retrying with the same key on 503, 409 idempotency_key_in_use and no answer. */
export async function createPayment(
  ctx: CheckContext,
  api: PayApi,
  event: PaymentEventInput,
  key = randomUUID(),
): Promise<PaymentEvent> {
  let last: Exchange | undefined;
  for (let attempt = 0; attempt < 60; attempt++) {
    last = await api.create(event, key);
    if (last.status === 201) return last.body as PaymentEvent;
    const code = (last.body as { code?: string } | undefined)?.code;
    const retryable = last.status === null || last.status === 503 || code === 'idempotency_key_in_use';
    if (!retryable) break;
    await sleep(100 + attempt * 20);
  }
  return ctx.fail(`createPayment did not answer 201 (last: ${last?.status ?? last?.error})`, {
    ...(last ? { exchange: last } : {}),
  });
}

/** The buyer pays on the PSP's hosted page (retrying through PSP faults). */
export async function payOnHostedPage(
  ctx: CheckContext,
  event: PaymentEvent,
  card = '4242424242424242',
): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const res = await fetch(`${event.payment_page_url}/pay`, {
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

/** Ends the check unless every order is SUCCESS with one ledger transaction, and charged once at the PSP. */
export async function expectSettledOnce(
  ctx: CheckContext,
  psp: PspFake,
  ids: string[],
  timeoutMs: number,
): Promise<void> {
  const api = payApiOf(ctx);
  const settled = await waitFinal(ctx, api, ids, timeoutMs);
  expectChargedOnce(ctx, psp, ids);
  for (const id of ids) {
    const s = settled.get(id)!;
    ctx.expect(s.order.status === 'SUCCESS', `${id} ended ${s.order.status}, not SUCCESS`);
    const l = await api.ledger(id);
    const txs = new Set((l.body as { entries: LedgerEntry[] }).entries.map((e) => e.transaction_id));
    ctx.expect(txs.size === 1, `${id} has ${txs.size} ledger transactions`, l);
  }
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
