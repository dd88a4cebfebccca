// PAY-I8: reconciliation reports exactly the mismatches planted in a settlement file, classified.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { newEvent, payApi } from './api.ts';
import { createAndPay, createPayment, orderIds, payOnHostedPage, waitExecuting, waitFinal } from './flow.ts';
import { decimalOf, minorOf } from './money.ts';
import { pspOf } from './third-parties.ts';

/** PAY-I8: reconciliation reports exactly the planted mismatches among this run's orders, classified. */
export async function reconciliationFindsMismatches(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(
    fc.record({
      plants: fc.subarray(['amount', 'currency', 'missing', 'unknown', 'status'] as const),
      extra: fc.integer({ min: 0, max: 1 }),
    }),
    async (s) => {
      const since = new Date(Date.now() - 1000).toISOString();
      const events = await createAndPay(ctx, api, (i) => newEvent(`i8_${i}`, ['5.00', '12.34']), 2 + s.extra, 4);
      const ids = orderIds(events);
      await waitFinal(ctx, api, ids, 15_000);
      // The settlement file as the PSP would write it from its own record, then the planted differences.
      const rows = third.psp.charges
        .filter((c) => ids.includes(c.metadata['payment_order_id'] ?? ''))
        .map((c) => ({
          id: c.metadata['payment_order_id']!,
          amount: decimalOf(BigInt(c.amount), 'USD'),
          currency: 'USD',
          status: 'SUCCESS',
        }));
      const expected = new Map<string, { kind: string; classification: string }>();
      if (s.plants.includes('amount')) {
        const r = rows[0]!;
        r.amount = decimalOf(minorOf(r.amount, 'USD') + 1n, 'USD');
        expected.set(r.id, { kind: 'amount_differs', classification: 'classifiable_manual' });
      }
      if (s.plants.includes('status')) {
        const r = rows[1]!;
        r.status = 'FAILED';
        expected.set(r.id, { kind: 'status_differs', classification: 'classifiable_manual' });
      }
      if (s.plants.includes('currency')) {
        // The same number of minor units in another currency (5.00 USD settled as 500 JPY): the money differs.
        const r = rows[2]!;
        r.amount = String(minorOf(r.amount, 'USD'));
        r.currency = 'JPY';
        expected.set(r.id, { kind: 'amount_differs', classification: 'classifiable_manual' });
      }
      if (s.plants.includes('missing')) {
        const r = rows.pop()!;
        expected.set(r.id, { kind: 'ours_only', classification: 'classifiable_manual' });
      }
      if (s.plants.includes('unknown')) {
        const id = `po_theirs_${randomUUID().slice(0, 8)}`;
        rows.push({ id, amount: '3.00', currency: 'USD', status: 'SUCCESS' });
        expected.set(id, { kind: 'theirs_only', classification: 'unclassifiable' });
        ids.push(id);
      }
      const csv = `payment_order_id,amount,currency,status\n${rows.map((r) => `${r.id},${r.amount},${r.currency},${r.status}`).join('\n')}\n`;
      const x = await api.reconcile(csv, randomUUID(), since);
      ctx.expectStatus(x, 200);
      const report = x.body as { mismatches: { payment_order_id: string; kind: string; classification: string }[] };
      const mine = report.mismatches.filter((m) => ids.includes(m.payment_order_id));
      const got = new Map(mine.map((m) => [m.payment_order_id, { kind: m.kind, classification: m.classification }]));
      const describe = (m: Map<string, unknown>) => JSON.stringify([...m.entries()].sort());
      ctx.expect(describe(got) === describe(expected), `reported ${describe(got)}, planted ${describe(expected)}`, x);
    },
  );
  await inFlightIsAutomatic(ctx);
  await failedSettledIsManual(ctx);
}

/**
 * An order FAILED here (its card declined on the hosted page) that the PSP's file says SUCCESS: final statuses that
 * disagree, the finance team's case (classifiable_manual), never the in-flight status_differs whose standard fix
 * would apply the PSP's status to an order that is over.
 */
async function failedSettledIsManual(ctx: CheckContext): Promise<void> {
  pspOf(ctx);
  const api = payApi(ctx);
  const since = new Date(Date.now() - 1000).toISOString();
  const ev = await createPayment(ctx, api, newEvent('i8f', ['7.10']));
  await payOnHostedPage(ctx, ev, '4000000000000002');
  const id = ev.payment_orders[0]!.payment_order_id;
  const final = (await waitFinal(ctx, api, [id], 15_000)).get(id)?.order.status;
  ctx.expect(final === 'FAILED', `an order whose card the hosted page declined ended ${final}, not FAILED`);
  const x = await api.reconcile(
    `payment_order_id,amount,currency,status\n${id},7.10,USD,SUCCESS\n`,
    randomUUID(),
    since,
  );
  ctx.expectStatus(x, 200);
  const m = (
    x.body as { mismatches: { payment_order_id: string; kind: string; classification: string }[] }
  ).mismatches.find((r) => r.payment_order_id === id);
  ctx.expect(
    m?.kind === 'status_differs' && m.classification === 'classifiable_manual',
    `an order FAILED here that the PSP settled SUCCESS was reported ${JSON.stringify(m)}, not status_differs ` +
      'classifiable_manual (final statuses that disagree)',
    x,
  );
}

/**
 * The PSP settled a charge we are still executing (its answers never reach us: every charge attempt hangs until cut):
 * a known mismatch with a standard fix, classifiable_automatic. Counted only when the order is still EXECUTING after
 * the report (statuses only move forward, so it was in flight when the report was made); evidence otherwise.
 */
async function inFlightIsAutomatic(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const since = new Date(Date.now() - 1000).toISOString();
  third.psp.planChargeFaults(
    Array.from({ length: 30 }, () => 'timeout' as const),
    1000,
  );
  let id = '';
  try {
    const [ev] = await createAndPay(ctx, api, () => newEvent('i8x', ['4.20']), 1);
    id = ev!.payment_orders[0]!.payment_order_id;
    if ((await waitExecuting(api, [id])) === 0) {
      ctx.evidence.inFlightReconciled = 'the order was never seen EXECUTING';
      return;
    }
    const csv = `payment_order_id,amount,currency,status\n${id},4.20,USD,SUCCESS\n`;
    const x = await api.reconcile(csv, randomUUID(), since);
    ctx.expectStatus(x, 200);
    // The same order settled for another amount: the amounts differ whatever the statuses (the finance team's case,
    // classifiable_manual), never the in-flight status_differs whose standard fix would apply the PSP's record.
    const differing = await api.reconcile(
      `payment_order_id,amount,currency,status\n${id},4.21,USD,SUCCESS\n`,
      randomUUID(),
      since,
    );
    ctx.expectStatus(differing, 200);
    const after = (await api.order(id)).body as { status?: string };
    if (after.status !== 'EXECUTING') {
      ctx.evidence.inFlightReconciled = `the order was ${after.status} after the report, not EXECUTING`;
      return;
    }
    const report = x.body as { mismatches: { payment_order_id: string; kind: string; classification: string }[] };
    const m = report.mismatches.find((r) => r.payment_order_id === id);
    ctx.expect(
      m?.kind === 'status_differs' && m.classification === 'classifiable_automatic',
      `an EXECUTING order the PSP settled was reported ${JSON.stringify(m)}, not status_differs classifiable_automatic`,
      x,
    );
    const d = (differing.body as typeof report).mismatches.find((r) => r.payment_order_id === id);
    ctx.expect(
      d?.kind === 'amount_differs' && d.classification === 'classifiable_manual',
      `an EXECUTING order the PSP settled for another amount (4.21 USD, not 4.20) was reported ${JSON.stringify(d)}, ` +
        'not amount_differs classifiable_manual',
      differing,
    );
    ctx.evidence.inFlightReconciled = 'EXECUTING';
  } finally {
    third.psp.clearChargeFaults();
  }
  await waitFinal(ctx, api, [id], 30_000);
}
