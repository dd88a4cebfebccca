// PAY-I1: no double charge, with the PSP fake's own record of charges as the evidence.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { newEvent, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createPayment, expectChargedOnce, payOnHostedPage, waitFinal } from './flow.ts';
import { pspOf } from './third-parties.ts';

/** PAY-I1: whatever the retries, duplicate requests and lost answers, the PSP charges each order at most once. */
export async function noDoubleCharge(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const scenario = fc.record({
    amounts: fc.array(amountArb('USD'), { minLength: 1, maxLength: 3 }),
    duplicateCreates: fc.integer({ min: 1, max: 3 }),
    fault: fc.constantFrom('none', 'error5xx', 'lost-answer', 'lost-then-5xx'),
    faultCalls: fc.integer({ min: 1, max: 3 }),
    webhooks: fc.constantFrom('normal', 'duplicate', 'delay'),
  });
  const all: string[] = [];
  type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
  const run = async (s: Scenario) => {
    third.service.faults.clear();
    third.psp.loseAnswers(0);
    third.psp.setWebhookMode(s.webhooks === 'delay' ? { mode: 'delay', delayMs: 800 } : { mode: s.webhooks });
    const event = newEvent('i1', s.amounts);
    const key = randomUUID();
    const created = await Promise.all(
      Array.from({ length: s.duplicateCreates }, () => createPayment(ctx, api, event, key, { sharedKey: true })),
    );
    await payOnHostedPage(ctx, created[0]!);
    if (s.fault === 'error5xx') third.service.faults.set({ mode: 'error5xx', times: s.faultCalls });
    if (s.fault === 'lost-answer' || s.fault === 'lost-then-5xx') third.psp.loseAnswers(s.faultCalls);
    const ids = event.payment_orders.map((o) => o.payment_order_id);
    if (s.fault === 'lost-then-5xx') {
      await sleep(300);
      third.service.faults.set({ mode: 'error5xx', times: s.faultCalls });
    }
    all.push(...ids);
    const settled = await waitFinal(ctx, api, ids, 20_000);
    expectChargedOnce(ctx, third.psp, ids);
    const failed = ids.filter((id) => settled.get(id)?.order.status !== 'SUCCESS');
    ctx.expect(failed.length === 0, `paid orders ended FAILED: ${failed.join(', ')}`);
  };
  // The dangerous case first, whatever the seed: the charge is made, its answer lost and the webhook late, so only
  // the executor's retry can settle the order. Then random scenarios.
  await run({
    amounts: ['10.00', '0.01'],
    duplicateCreates: 2,
    fault: 'lost-answer',
    faultCalls: 2,
    webhooks: 'delay',
  });
  await ctx.property(scenario, run);
  third.service.faults.clear();
  third.psp.setWebhookMode({ mode: 'normal' });
  ctx.evidence.orders = all.length;
  ctx.evidence.lostAnswers = third.psp.lostAnswers;
  ctx.evidence.pspCharges = all.reduce((n, id) => n + (third.psp.chargeCounts().get(id) ?? 0), 0);
}
