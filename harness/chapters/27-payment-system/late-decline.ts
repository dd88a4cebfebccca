// Part of PAY-I5: a registration.declined that arrives while the checkout's orders are EXECUTING (an earlier card's
// decline on the hosted page, delivered late and out of order after the authorization). The spec's state model:
// NOT_STARTED -> FAILED on a decline only; an EXECUTING order was authorized and is settled by its charge. So the
// order must end SUCCESS, charged once at the PSP (its own record): FAILED here is money taken for a failed order.
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { newEvent, type PayApi, type PaymentOrder } from './api.ts';
import { createPayment, orderIds, payOnHostedPage, waitFinal } from './flow.ts';
import { signWebhook } from './signature.ts';
import type { PaymentThirdParties } from './third-parties.ts';

/** How long the order's first charge request hangs at the PSP: the order stays EXECUTING meanwhile. */
const CHARGE_HOLD_MS = 3000;

export async function declineWhileExecuting(ctx: CheckContext, third: PaymentThirdParties, api: PayApi): Promise<void> {
  const hitsFrom = third.psp.chargeFaultHits.length;
  third.psp.planChargeFaults(['timeout'], CHARGE_HOLD_MS);
  try {
    const created = await createPayment(ctx, api, newEvent('i5_late_decline', ['5.55']));
    const [id] = orderIds([created]);
    await payOnHostedPage(ctx, created);
    // The first charge request of the order has reached the PSP (and hangs there): it is being charged.
    const charging = () => third.psp.chargeFaultHits.slice(hitsFrom).some((h) => h.paymentOrderId === id);
    // Bounded generously: on a loaded runner the executor's first attempt can come seconds after the payment.
    const bound = timeLimit(15_000);
    for (const until = Date.now() + bound; Date.now() < until && !charging(); ) await sleep(50);
    // Not made, said in the evidence (the checks before it in PAY-I5 stand): skipping the whole check here would hide
    // what PAY-I5 had already graded.
    if (!charging()) {
      ctx.evidence['lateDecline'] = `not made: no charge request of the paid order reached the PSP within ${bound} ms`;
      return;
    }
    ctx.evidence['lateDecline'] = 'made';
    const before = await api.order(id!);
    ctx.expectStatus(before, 200);
    const status = (before.body as PaymentOrder).status;
    ctx.expect(status === 'EXECUTING', `an order whose charge is in flight at the PSP reads ${status}`, before);
    const late = {
      id: `evt_late_decline_${id}`,
      type: 'registration.declined',
      created: Math.floor(Date.now() / 1000),
      data: { object: { token: created.psp_token, reference: created.checkout_id, status: 'declined' } },
    };
    const raw = JSON.stringify(late);
    ctx.expectStatus(await api.webhook(raw, signWebhook(third.secret, raw)), 200);
    ctx.evidence.lateDeclineWhileExecuting = id;
    const settled = await waitFinal(ctx, api, [id!], 15_000);
    const end = settled.get(id!)!;
    ctx.expect(
      end.order.status === 'SUCCESS',
      `${id}, EXECUTING (its charge in flight) when a late registration.declined arrived, ended ${end.order.status} ` +
        `(seen: ${end.seen.join(' -> ')}; the PSP charged it ${third.psp.chargeCounts().get(id!) ?? 0} times): ` +
        'a decline fails only orders not started, an EXECUTING order is settled by its charge',
    );
    ctx.expect(
      third.psp.chargeCounts().get(id!) === 1,
      `${id} ended SUCCESS but the PSP charged it ${third.psp.chargeCounts().get(id!) ?? 0} times, not once`,
    );
  } finally {
    third.psp.clearChargeFaults();
  }
}
