// Part of PAY-F7: the connection of the transaction that records a charge's outcome is reset at each point where a
// transaction can break: at a statement inside it (rolled back), at its COMMIT (rolled back), and once its COMMIT has
// reached PostgreSQL (committed; the service is never told). The order's charge is slowed at the PSP and its
// registration event delivered here, so that when the 200 for that event is back (the spec: applied) the next
// transaction the service opens is the one that records the charge: the cut is armed then, and lands there. Survive
// means: the order ends SUCCESS (the PSP charged it: a broken transaction is no reason to fail it), charged once,
// one ledger transaction moving the amount, and the seller's wallet credited that amount exactly once (a wallet
// written apart from the SUCCESS, in a transaction of its own, is lost when the cut falls between the two).
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { CutOptions, PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { newEvent, type PayApi, type PaymentOrder } from './api.ts';
import { createPayment, EXECUTING_BOUND_MS, expectSettledOnce, orderIds, payOnHostedPage } from './flow.ts';
import { minorOf } from './money.ts';
import { signWebhook } from './signature.ts';
import type { PaymentThirdParties } from './third-parties.ts';

const POINTS: readonly NonNullable<CutOptions['at']>[] = ['statement', 'commit', 'commit-answer'];
/**
 * How long the PSP holds the order's charge, per try: the cut is armed within this of the charge being sent. A try
 * whose cut found no transaction before the order settled (a slow machine) is made again with a longer hold, all
 * under the reference's 2 s deadline for a PSP call.
 */
const CHARGE_LATENCY_MS = [400, 900, 1500] as const;

export async function cutsWhileRecording(
  ctx: CheckContext,
  proxy: PgWireProxy,
  third: PaymentThirdParties,
  api: PayApi,
): Promise<void> {
  const landed: Record<string, number> = {};
  for (const at of POINTS) {
    for (const [i, latency] of CHARGE_LATENCY_MS.entries()) {
      if (await oneCut(ctx, proxy, third, api, at, latency)) {
        landed[at] = i + 1;
        break;
      }
    }
  }
  ctx.evidence.recordingCuts = landed;
  const missing = POINTS.filter((at) => !landed[at]);
  if (missing.length)
    ctx.skip(
      `the fault never bit on the transaction recording a charge at ${missing.join(', ')}: in ${CHARGE_LATENCY_MS.length} tries the ` +
        'cut armed after the registration event was applied found no transaction before the order settled',
    );
}

/** One paid order, its charge's transaction cut at `at`; true when the cut landed while the order was in flight. */
async function oneCut(
  ctx: CheckContext,
  proxy: PgWireProxy,
  third: PaymentThirdParties,
  api: PayApi,
  at: NonNullable<CutOptions['at']>,
  latencyMs: number,
): Promise<boolean> {
  const seller = `seller_f7r_${at.replace('-', '_')}_${Date.now().toString(36)}`;
  const event = newEvent(`f7r_${at.replace('-', '_')}`, ['17.43'], { seller });
  const created = await createPayment(ctx, api, event);
  const droppedFrom = third.psp.webhooksDropped().length;
  // Only this check's delivery of the registration event (below) and the executor settle the order.
  third.psp.setWebhookMode({ mode: 'drop' });
  third.psp.hiddenRegistrations.add(created.psp_token);
  let cutsBefore = proxy.cuts;
  try {
    await payOnHostedPage(ctx, created);
    const authorized = third.psp
      .webhooksDropped()
      .slice(droppedFrom)
      .find((e) => e.type === 'registration.authorized' && JSON.stringify(e).includes(created.psp_token));
    if (!authorized) throw new Error(`the PSP fake sent no registration.authorized for ${created.checkout_id}`);
    const raw = JSON.stringify(authorized);
    third.psp.latencyMs = latencyMs;
    const ack = await api.webhook(raw, signWebhook(third.secret, raw));
    ctx.expectStatus(ack, 200);
    cutsBefore = proxy.cuts;
    proxy.cutInTransaction(1, undefined, { at });
    const id = orderIds([created])[0]!;
    // Settled by the executor: SUCCESS within the bound, whatever the cut broke.
    await expectSettledOnce(ctx, third.psp, [id], EXECUTING_BOUND_MS, new Map([[id, event.payment_orders[0]!]]));
  } finally {
    proxy.disarm();
    third.psp.latencyMs = 0;
    third.psp.hiddenRegistrations.delete(created.psp_token);
    third.psp.setWebhookMode({ mode: 'normal' });
  }
  const bit = proxy.cuts > cutsBefore;
  // Whether or not the cut landed here, the money must be where the order says: the seller's wallet holds it once.
  await sleep(200);
  const w = await api.wallet(seller);
  // 404: no wallet for the seller, as good as empty here (the verdict below says what it holds).
  ctx.expect(w.status === 200 || w.status === 404, `GET the seller's wallet answered ${w.status ?? w.error}`, w);
  const balances = w.status === 200 ? (w.body as { balances: { currency: string; amount: string }[] }).balances : [];
  const held = balances.find((b) => b.currency === 'USD');
  const o = (await api.order(orderIds([created])[0]!)).body as PaymentOrder;
  ctx.expect(
    held !== undefined && minorOf(held.amount, 'USD') === 1743n,
    `a charge whose recording transaction was cut at ${at === 'statement' ? 'a statement' : at === 'commit' ? 'its COMMIT' : "its COMMIT's answer (committed)"} ` +
      `ended ${o.status} (wallet_updated ${o.wallet_updated}) but the seller's wallet holds ${held?.amount ?? 'nothing'}, not the 17.43 charged`,
    w,
  );
  return bit;
}
