// PAY-I6: Stripe's Idempotency-Key semantics on createPayment, racing duplicates included.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { newEvent, type PaymentEvent, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createPayment } from './flow.ts';
import { pspOf } from './third-parties.ts';

/** PAY-I6: Stripe's idempotency semantics for createPayment, concurrent duplicates included. */
export async function idempotencyKeys(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(
    fc.record({
      amounts: fc.array(amountArb('GBP'), { minLength: 1, maxLength: 3 }),
      racers: fc.integer({ min: 2, max: 5 }),
    }),
    async (s) => {
      third.psp.latencyMs = 150; // the first request is still registering at the PSP while the others arrive
      try {
        const event = newEvent('i6', s.amounts, { currency: 'GBP' });
        const key = randomUUID();
        const racing = await Promise.all(Array.from({ length: s.racers }, () => api.create(event, key)));
        const executed = racing.filter((x) => x.status === 201 && x.headers['idempotent-replayed'] !== 'true');
        for (const x of racing) {
          const code = (x.body as { code?: string }).code;
          ctx.expect(
            x.status === 201 || (x.status === 409 && code === 'idempotency_key_in_use'),
            `a racing duplicate got ${x.status} ${code ?? ''}`,
            x,
          );
        }
        ctx.expect(
          executed.length <= 1,
          `${executed.length} racing requests with one key were each executed`,
          executed[1],
        );
        const first = (await createPayment(ctx, api, event, key)) as PaymentEvent;
        const replay = await api.create(event, key);
        ctx.expectStatus(replay, 201);
        ctx.expect(replay.headers['idempotent-replayed'] === 'true', 'the same key and body was not replayed', replay);
        ctx.expect(
          JSON.stringify(replay.body) === JSON.stringify(first),
          'the replay differs from the first answer',
          replay,
        );
        const other = newEvent('i6b', s.amounts, { currency: 'GBP' });
        ctx.expectStatus(await api.create(other, key), 409, 'idempotency_key_reused');
        ctx.expectStatus(await api.order(other.payment_orders[0]!.payment_order_id), 404, 'not_found');
        const regs = [...third.psp.registrations.values()].filter((r) => r.reference === event.checkout_id);
        ctx.expect(regs.length === 1, `the PSP holds ${regs.length} registrations for one checkout`);
      } finally {
        third.psp.latencyMs = 0;
      }
    },
  );
}
