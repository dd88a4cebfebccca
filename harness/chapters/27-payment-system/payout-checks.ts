// PAY-C7 and PAY-I9: the pay-out flow. A seller is paid in (a paid checkout), then paid out through the payout
// provider fake, whose own record says how many transfers each payout made.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { type LedgerEntry, newEvent, type PayApi, payApi } from './api.ts';
import { expectNotReplayed } from './conformance.ts';
import { createAndPay, orderIds, waitFinal } from './flow.ts';
import { decimalOf, minorOf } from './money.ts';
import { expectRetrySchedule, RETRIES_BOUNDED_ABOVE, retrySlack } from './retry-schedule.ts';
import { pspOf } from './third-parties.ts';

interface Payout {
  payout_id: string;
  amount: string;
  status: 'PENDING' | 'PAID' | 'FAILED';
}

/** A seller with `amounts` paid in and settled; returns the seller's account. */
async function fundedSeller(ctx: CheckContext, api: PayApi, amounts: string[]): Promise<string> {
  const seller = `seller_po_${randomUUID().slice(0, 8)}`;
  const [ev] = await createAndPay(ctx, api, () => newEvent('po', amounts, { seller }), 1);
  const settled = await waitFinal(ctx, api, orderIds([ev!]), 15_000);
  ctx.expect(
    [...settled.values()].every((s) => s.order.status === 'SUCCESS'),
    'the seller could not be paid in',
  );
  return seller;
}

async function balanceOf(ctx: CheckContext, api: PayApi, seller: string, currency = 'USD'): Promise<bigint> {
  const w = await api.wallet(seller);
  ctx.expectStatus(w, 200);
  const b = (w.body as { balances: { currency: string; amount: string }[] }).balances.find(
    (x) => x.currency === currency,
  );
  return b ? minorOf(b.amount, currency) : 0n;
}

async function waitPayouts(ctx: CheckContext, api: PayApi, ids: string[], timeoutMs: number): Promise<Payout[]> {
  const started = Date.now();
  for (;;) {
    const all: Payout[] = [];
    for (const id of ids) {
      const x = await api.getPayout(id);
      ctx.expectStatus(x, 200);
      all.push(x.body as Payout);
    }
    if (all.every((p) => p.status !== 'PENDING')) return all;
    if (Date.now() - started > checkSlack(ctx.evidence, 5000).bound(timeoutMs))
      ctx.fail(
        `payouts still PENDING after ${timeoutMs} ms: ${all
          .filter((p) => p.status === 'PENDING')
          .map((p) => p.payout_id)
          .join(', ')}`,
      );
    await sleep(100);
  }
}

export async function payoutConformance(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const seller = await fundedSeller(ctx, api, ['10.00']);
  // The seller holds a second currency too: a USD payout must leave the EUR balance alone (a wallet per currency).
  const [eur] = await createAndPay(ctx, api, () => newEvent('po_eur', ['3.00'], { seller, currency: 'EUR' }), 1);
  const eurPaid = await waitFinal(ctx, api, orderIds([eur!]), 15_000);
  ctx.expect(
    [...eurPaid.values()].every((s) => s.order.status === 'SUCCESS'),
    'the seller could not be paid in EUR',
  );
  const body = {
    payout_id: `pay_c7_${randomUUID().slice(0, 8)}`,
    seller_account: seller,
    amount: '4.00',
    currency: 'USD',
  };
  const key = randomUUID();
  const x = await api.payout(body, key);
  ctx.expectStatus(x, 201);
  expectNotReplayed(ctx, x, 'the first payout request with a key');
  ctx.expect((x.body as Payout).amount === '4.00', 'the payout does not echo its amount', x);
  const replay = await api.payout(body, key);
  ctx.expectStatus(replay, 201);
  ctx.expect(replay.headers['idempotent-replayed'] === 'true', 'a replayed payout lacks Idempotent-Replayed', replay);
  const [done] = await waitPayouts(ctx, api, [body.payout_id], 10_000);
  ctx.expect(done!.status === 'PAID', `the payout ended ${done!.status}`);
  ctx.expect((await balanceOf(ctx, api, seller)) === 600n, 'the wallet was not debited 4.00 of 10.00');
  // Its double entry (listed under the payout_id): the seller's account debited, bank:payouts credited.
  const payoutEntries = await api.ledger(body.payout_id);
  ctx.expectStatus(payoutEntries, 200);
  const pe = (payoutEntries.body as { entries: LedgerEntry[] }).entries;
  const sideOf = (account: string) =>
    pe.filter((e) => e.account === account).map((e) => `${e.currency} debit ${e.debit} credit ${e.credit}`);
  ctx.expect(
    pe.length === 2 &&
      sideOf(`seller:${seller}`).join() === 'USD debit 4.00 credit 0.00' &&
      sideOf('bank:payouts').join() === 'USD debit 0.00 credit 4.00',
    `the payout's ledger entries are not seller:${seller} debited 4.00 and bank:payouts credited 4.00: ${JSON.stringify(pe)}`,
    payoutEntries,
  );
  const overId = `pay_c7o_${randomUUID().slice(0, 8)}`;
  const overKey = randomUUID();
  const over = await api.payout({ ...body, payout_id: overId, amount: '6.01' }, overKey);
  ctx.expectStatus(over, 409, 'insufficient_funds');
  // A refused payout spends nothing: no payout recorded, the wallet as it was, no transfer at the provider.
  await sleep(100);
  ctx.expectStatus(await api.getPayout(overId), 404, 'not_found');
  ctx.expect((await balanceOf(ctx, api, seller)) === 600n, 'a payout refused insufficient_funds changed the wallet');
  ctx.expect(
    !third.payouts.transfers.some((t) => t.metadata['payout_id'] === overId),
    `a payout refused insufficient_funds was transferred at the provider (${overId})`,
  );
  ctx.expectStatus(await api.payout({ ...body, amount: '5.00' }), 409, 'already_exists');
  const tooPrecise = { ...body, payout_id: 'pay_c7z', amount: '0.001' };
  ctx.expectStatus(await api.payout(tooPrecise, randomUUID(), false), 400, 'invalid_request');
  ctx.expectStatus(await api.payout({ ...body, amount: 4 }, randomUUID(), false), 400, 'invalid_request');
  ctx.expectStatus(await api.getPayout(`pay_none_${randomUUID().slice(0, 8)}`), 404, 'not_found');
  const m = await ctx.http.send({ method: 'GET', path: '/v1/payouts/a.b', validRequest: false });
  ctx.expectStatus(m, 400, 'invalid_request');
  // The provider refuses the seller's bank account for good: the payout fails and the money is credited back.
  third.payouts.refused.add(seller);
  const refusedId = `pay_c7r_${randomUUID().slice(0, 8)}`;
  ctx.expectStatus(await api.payout({ ...body, payout_id: refusedId, amount: '1.50' }), 201);
  const [refused] = await waitPayouts(ctx, api, [refusedId], 10_000);
  ctx.expect(refused!.status === 'FAILED', `a payout the provider refused ended ${refused!.status}, not FAILED`);
  const after = await balanceOf(ctx, api, seller);
  ctx.expect(after === 600n, `after a refused payout the wallet holds ${decimalOf(after, 'USD')}, not 6.00`);
  // The whole balance can be paid out (insufficient_funds is for a wallet holding less than the amount).
  third.payouts.refused.delete(seller);
  const allId = `pay_c7a_${randomUUID().slice(0, 8)}`;
  const all = await api.payout({ ...body, payout_id: allId, amount: '6.00' });
  ctx.expectStatus(all, 201);
  const [emptied] = await waitPayouts(ctx, api, [allId], 10_000);
  ctx.expect(emptied!.status === 'PAID', `a payout of the whole balance ended ${emptied!.status}`);
  const left = await balanceOf(ctx, api, seller);
  ctx.expect(left === 0n, `after paying out the whole 6.00 the wallet holds ${decimalOf(left, 'USD')}`);
  const eurLeft = await balanceOf(ctx, api, seller, 'EUR');
  ctx.expect(
    eurLeft === 300n,
    `USD payouts changed the seller's EUR balance: ${decimalOf(eurLeft, 'EUR')} EUR, not the 3.00 paid in`,
  );
  // The payout refused insufficient_funds stored nothing, its key included: once the wallet holds enough, the same
  // request with the same key is executed (201), not the refusal replayed.
  const [more] = await createAndPay(ctx, api, () => newEvent('po_more', ['6.01'], { seller }), 1);
  const morePaid = await waitFinal(ctx, api, orderIds([more!]), 15_000);
  ctx.expect(
    [...morePaid.values()].every((s) => s.order.status === 'SUCCESS'),
    'the seller could not be paid in again',
  );
  const retried = await api.payout({ ...body, payout_id: overId, amount: '6.01' }, overKey);
  ctx.expect(
    retried.status === 201,
    `a payout refused insufficient_funds, retried with its Idempotency-Key once the wallet holds enough, answered ` +
      `${retried.status ?? retried.error} ${(retried.body as { code?: string } | undefined)?.code ?? ''} (the spec: a refused request stores nothing)`,
    retried,
  );
  expectNotReplayed(ctx, retried, 'the retry of a payout refused insufficient_funds');
}

/** PAY-I9: concurrent payouts never overdraw; each payout transfers once; the wallet equals paid in - paid out. */
export async function payoutsConserveMoney(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await concurrentPayouts(ctx, third, api);
  await transferRetriedOnSchedule(ctx, third, api);
}

/** How many transfer requests of one payout the provider answers 5xx in transferRetriedOnSchedule. */
const FAILED_TRANSFERS = RETRIES_BOUNDED_ABOVE + 1;

/**
 * Part of PAY-I9: the provider answers a payout's first transfer requests 5xx. The spec: the transfer is retried
 * like a charge (the same back-off), so the retries are spaced by it (retry-schedule.ts, judged from the provider
 * fake's record of when the failed requests arrived), and the payout ends PAID, transferred once.
 */
async function transferRetriedOnSchedule(
  ctx: CheckContext,
  third: ReturnType<typeof pspOf>,
  api: PayApi,
): Promise<void> {
  const seller = await fundedSeller(ctx, api, ['9.00']);
  const payoutId = `pay_i9r_${randomUUID().slice(0, 8)}`;
  const firedFrom = third.payoutService.faults.fired.length;
  const slack = retrySlack();
  try {
    third.payoutService.faults.set({ mode: 'error5xx', times: FAILED_TRANSFERS });
    ctx.expectStatus(
      await api.payout({ payout_id: payoutId, seller_account: seller, amount: '2.50', currency: 'USD' }),
      201,
    );
    const [done] = await waitPayouts(ctx, api, [payoutId], 30_000);
    ctx.expect(
      done!.status === 'PAID',
      `a payout whose first transfers the provider answered 5xx ended ${done!.status}`,
    );
  } finally {
    third.payoutService.faults.clear();
    slack.stop();
  }
  const at = third.payoutService.faults.fired
    .slice(firedFrom)
    .filter((f) => f.method === 'POST' && f.path === '/v1/transfers')
    .map((f) => f.at);
  ctx.evidence.failedTransferRequests = at.length;
  ctx.expect(
    at.length === FAILED_TRANSFERS,
    `the provider answered ${at.length} transfer requests 5xx, not the ${FAILED_TRANSFERS} planned (were all retried?)`,
  );
  expectRetrySchedule(ctx, [at], slack, 'a payout whose transfers the provider answered 5xx', 'transferRetryGaps');
  ctx.expect(
    third.payouts.transferCounts().get(payoutId) === 1,
    `the payout whose first transfers failed made ${third.payouts.transferCounts().get(payoutId) ?? 0} transfers, not 1`,
  );
}

/** Part of PAY-I9: concurrent payouts, with provider 5xx errors or without (the property). */
async function concurrentPayouts(ctx: CheckContext, third: ReturnType<typeof pspOf>, api: PayApi): Promise<void> {
  await ctx.property(
    fc.record({
      paidIn: fc.array(fc.integer({ min: 100, max: 5_000 }), { minLength: 1, maxLength: 2 }),
      // Shares of the balance, so that together they always ask for more than the wallet holds.
      shares: fc.array(fc.integer({ min: 35, max: 90 }), { minLength: 3, maxLength: 6 }),
      providerErrors: fc.boolean(),
    }),
    async (s) => {
      const seller = await fundedSeller(
        ctx,
        api,
        s.paidIn.map((m) => decimalOf(BigInt(m), 'USD')),
      );
      const paidIn = s.paidIn.reduce((a, b) => a + BigInt(b), 0n);
      if (s.providerErrors) third.payoutService.faults.set({ mode: 'error5xx', probability: 0.5, times: 6 });
      const requests = s.shares.map((share) => ({
        payout_id: `pay_i9_${randomUUID().slice(0, 8)}`,
        seller_account: seller,
        amount: decimalOf((paidIn * BigInt(share)) / 100n || 1n, 'USD'),
        currency: 'USD',
      }));
      const answers = await Promise.all(requests.map((r) => api.payout(r)));
      const accepted = requests.filter((_, i) => answers[i]!.status === 201);
      for (const a of answers) {
        const code = (a.body as { code?: string }).code;
        ctx.expect(
          a.status === 201 || (a.status === 409 && code === 'insufficient_funds'),
          `a payout answered ${a.status} ${code ?? ''}`,
          a,
        );
      }
      const out = accepted.reduce((n, r) => n + minorOf(r.amount, 'USD'), 0n);
      ctx.expect(
        out <= paidIn,
        `payouts of ${decimalOf(out, 'USD')} were accepted from a wallet paid ${decimalOf(paidIn, 'USD')}`,
      );
      const settled = await waitPayouts(
        ctx,
        api,
        accepted.map((r) => r.payout_id),
        20_000,
      );
      third.payoutService.faults.clear();
      const counts = third.payouts.transferCounts();
      for (const p of settled) {
        ctx.expect(p.status === 'PAID', `payout ${p.payout_id} ended ${p.status}`);
        ctx.expect(
          counts.get(p.payout_id) === 1,
          `payout ${p.payout_id} made ${counts.get(p.payout_id) ?? 0} transfers`,
        );
      }
      const balance = await balanceOf(ctx, api, seller);
      ctx.expect(
        balance === paidIn - out,
        `the wallet holds ${decimalOf(balance, 'USD')}, not ${decimalOf(paidIn, 'USD')} paid in - ${decimalOf(out, 'USD')} paid out`,
      );
    },
  );
}
