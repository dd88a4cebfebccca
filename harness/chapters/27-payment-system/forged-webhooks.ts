// PAY-I7: unsigned, forged or stale webhooks are refused and change nothing.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { newEvent, type PaymentOrder, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createPayment } from './flow.ts';
import { signWebhook } from './signature.ts';
import { pspOf } from './third-parties.ts';

/** PAY-I7: unsigned, forged or stale webhooks are refused and change nothing. */
export async function forgedWebhooksRefused(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const forgeries = ['unsigned', 'wrong-secret', 'stale', 'other-body'] as const;
  await ctx.property(fc.record({ forgery: fc.constantFrom(...forgeries), amount: amountArb('USD') }), async (s) => {
    const created = await createPayment(ctx, api, newEvent('i7', [s.amount]));
    const id = created.payment_orders[0]!.payment_order_id;
    // The buyer never paid; a forged "paid" event must not start a charge.
    const event = {
      id: `evt_forged_${randomUUID()}`,
      type: 'registration.authorized',
      created: Math.floor(Date.now() / 1000),
      data: { object: { token: created.psp_token, reference: created.checkout_id, status: 'authorized' } },
    };
    const raw = JSON.stringify(event);
    const sig = {
      unsigned: null,
      'wrong-secret': signWebhook(`not-${third.secret}`, raw),
      stale: signWebhook(third.secret, raw, Math.floor(Date.now() / 1000) - 3600),
      'other-body': signWebhook(third.secret, raw.replace('authorized', 'declined')),
    }[s.forgery];
    const x = await api.webhook(raw, sig);
    ctx.expectStatus(x, 401, 'invalid_signature');
    await sleep(300);
    const o = await api.order(id);
    ctx.expect(
      (o.body as PaymentOrder).status === 'NOT_STARTED',
      `a ${s.forgery} webhook moved ${id} to ${(o.body as PaymentOrder).status}`,
      o,
    );
    ctx.expect(!third.psp.chargeCounts().has(id), `a ${s.forgery} webhook made the service charge an unpaid order`);
  });
}
