// PAY-I7: unsigned, forged or stale webhooks are refused and change nothing; a signed one naming a registration that
// is not the checkout's (another buyer's) changes nothing either.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { newEvent, type PaymentOrder, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createPayment } from './flow.ts';
import { signWebhook } from './signature.ts';
import { pspOf } from './third-parties.ts';

const FORGERIES = [
  'unsigned',
  'wrong-secret',
  'stale',
  'other-body',
  'other-registration',
  'padded-signature',
] as const;
type Forgery = (typeof FORGERIES)[number];

/** PAY-I7: unsigned, forged or stale webhooks are refused and change nothing. */
export async function forgedWebhooksRefused(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  await ctx.property(fc.record({ forgery: fc.constantFrom(...FORGERIES), amount: amountArb('USD') }), (s) =>
    forgedChangesNothing(ctx, third, s.forgery, s.amount),
  );
  // Every kind once more, whatever the property drew (a small --runs may not draw each).
  for (const forgery of FORGERIES) await forgedChangesNothing(ctx, third, forgery, '1.00');
}

/** One "paid" event for an unpaid checkout, forged as `forgery`: refused (or ignored), the order untouched. */
async function forgedChangesNothing(
  ctx: CheckContext,
  third: ReturnType<typeof pspOf>,
  forgery: Forgery,
  amount: string,
): Promise<void> {
  const api = payApi(ctx);
  const created = await createPayment(ctx, api, newEvent('i7', [amount]));
  const id = created.payment_orders[0]!.payment_order_id;
  // The buyer never paid; a forged "paid" event must not start a charge.
  // other-registration: correctly signed, but the token is another checkout's registration, not this one's.
  const token =
    forgery === 'other-registration'
      ? (await createPayment(ctx, api, newEvent('i7other', [amount]))).psp_token
      : created.psp_token;
  const event = {
    id: `evt_forged_${randomUUID()}`,
    type: 'registration.authorized',
    created: Math.floor(Date.now() / 1000),
    data: { object: { token, reference: created.checkout_id, status: 'authorized' } },
  };
  const raw = JSON.stringify(event);
  const sig = {
    unsigned: null,
    'wrong-secret': signWebhook(`not-${third.secret}`, raw),
    stale: signWebhook(third.secret, raw, Math.floor(Date.now() / 1000) - 3600),
    'other-body': signWebhook(third.secret, raw.replace('authorized', 'declined')),
    'other-registration': signWebhook(third.secret, raw),
    // The right signature with two more hex digits in front: v1 is 64 hex digits, nothing else.
    'padded-signature': signWebhook(third.secret, raw).replace('v1=', 'v1=00'),
  }[forgery];
  const x = await api.webhook(raw, sig);
  if (forgery === 'other-registration') ctx.expectStatus(x, 200);
  else ctx.expectStatus(x, 401, 'invalid_signature');
  await sleep(300);
  const o = await api.order(id);
  ctx.expect(
    (o.body as PaymentOrder).status === 'NOT_STARTED',
    `a ${forgery} webhook moved ${id} to ${(o.body as PaymentOrder).status}`,
    o,
  );
  ctx.expect(!third.psp.chargeCounts().has(id), `a ${forgery} webhook made the service charge an unpaid order`);
}
