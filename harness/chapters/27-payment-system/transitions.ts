import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { newEvent, type PaymentOrder, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createPayment, orderIds, payOnHostedPage, waitFinal } from './flow.ts';
import { declineWhileExecuting } from './late-decline.ts';
import { signWebhook } from './signature.ts';
import { pspOf } from './third-parties.ts';

// Statuses reachable from each along allowed transitions (NOT_STARTED -> EXECUTING -> SUCCESS | FAILED, and
// NOT_STARTED -> FAILED for a declined checkout). Polling can miss a short EXECUTING, never see a step back.
const NEXT: Record<string, string[]> = {
  NOT_STARTED: ['EXECUTING', 'SUCCESS', 'FAILED'],
  EXECUTING: ['SUCCESS', 'FAILED'],
  SUCCESS: [],
  FAILED: [],
};

/**
 * PAY-I5: statuses only move forward, even with old webhooks replayed after the end; and a late decline arriving
 * while an order is EXECUTING leaves it to its charge (late-decline.ts).
 */
export async function statusTransitions(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(
    fc.record({ amounts: fc.array(amountArb('USD'), { minLength: 1, maxLength: 3 }), decline: fc.boolean() }),
    async (s) => {
      const event = newEvent('i5', s.amounts);
      const created = await createPayment(ctx, api, event);
      const before = third.psp.webhooksSent().length;
      await payOnHostedPage(ctx, created, s.decline ? '4000000000000002' : undefined);
      const ids = orderIds([created]);
      const settled = await waitFinal(ctx, api, ids, 15_000);
      await third.psp.flushWebhooks();
      // Every event the PSP sent for this checkout, replayed now (freshly signed: a late retry by the PSP).
      const mine = third.psp
        .webhooksSent()
        .slice(before)
        .map((w) => w.event)
        .filter(
          (e) => JSON.stringify(e).includes(created.psp_token) || ids.some((id) => JSON.stringify(e).includes(id)),
        );
      for (const e of mine.reverse()) {
        const raw = JSON.stringify(e);
        ctx.expectStatus(await api.webhook(raw, signWebhook(third.secret, raw)), 200);
      }
      // A failure notice arriving late (an earlier attempt's, delivered out of order): SUCCESS and FAILED are final.
      for (const id of ids) {
        const late = {
          id: `evt_late_failure_${randomUUID()}`,
          type: 'charge.failed',
          created: Math.floor(Date.now() / 1000),
          data: {
            object: {
              id: `ch_failed_${randomUUID().slice(0, 8)}`,
              status: 'failed',
              metadata: { payment_order_id: id },
            },
          },
        };
        const raw = JSON.stringify(late);
        ctx.expectStatus(await api.webhook(raw, signWebhook(third.secret, raw)), 200);
      }
      for (const id of ids) {
        const x: Exchange = await api.order(id);
        const s2 = settled.get(id)!;
        const now = (x.body as PaymentOrder).status;
        const seen = s2.seen.at(-1) === now ? s2.seen : [...s2.seen, now];
        for (let i = 1; i < seen.length; i++) {
          if (!NEXT[seen[i - 1]!]!.includes(seen[i]!)) {
            ctx.fail(`${id} moved ${seen[i - 1]} -> ${seen[i]} (seen: ${seen.join(' -> ')})`, {
              exchange: x,
              counterexample: seen,
            });
          }
        }
        ctx.expect(
          (s.decline ? 'FAILED' : 'SUCCESS') === now,
          `${id} ended ${now} after a ${s.decline ? 'declined' : 'paid'} checkout`,
          x,
        );
      }
    },
  );
  await declineWhileExecuting(ctx, third, api);
}
