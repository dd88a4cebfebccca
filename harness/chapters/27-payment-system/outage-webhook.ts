// Part of PAY-F5: a signed webhook delivered while PostgreSQL is unreachable. The spec's 200 means the event was
// applied (and 503 is the service unable to apply it now; the PSP sends it again later). So a 200 while the database
// is away is only honest if the event is applied once the database is back, without the PSP sending it again. The
// event is a checkout's registration.authorized whose own delivery the PSP fake held back, and the fake's lookups of
// that registration answer 503, so neither the fake nor the poller can tell the service about the payment: the event
// delivered here is the service's only word of it.
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { newEvent, type OrderInput, type PayApi, type PaymentEvent, type PaymentOrder } from './api.ts';
import { createPayment, orderIds, payOnHostedPage, remembering } from './flow.ts';
import { signWebhook } from './signature.ts';
import type { PaymentThirdParties } from './third-parties.ts';

/** Once PostgreSQL is back, the held event's orders leave NOT_STARTED within this (PAY-F5's 10 s). */
const APPLIED_BOUND_MS = 10_000;

export interface HeldEvent {
  checkout: PaymentEvent;
  raw: string;
}

/** A paid checkout whose registration.authorized the PSP fake held back, the poller kept blind to it. */
export async function heldRegistrationEvent(
  ctx: CheckContext,
  third: PaymentThirdParties,
  api: PayApi,
  asked: Map<string, OrderInput>,
): Promise<HeldEvent> {
  const checkout = await createPayment(ctx, api, remembering(asked, () => newEvent('f5w', ['3.33']))(0));
  third.psp.hiddenRegistrations.add(checkout.psp_token);
  const droppedFrom = third.psp.webhooksDropped().length;
  third.psp.setWebhookMode({ mode: 'drop' });
  try {
    await payOnHostedPage(ctx, checkout);
  } finally {
    third.psp.setWebhookMode({ mode: 'normal' });
  }
  const event = third.psp
    .webhooksDropped()
    .slice(droppedFrom)
    .find((e) => e.type === 'registration.authorized' && JSON.stringify(e).includes(checkout.psp_token));
  if (!event) throw new Error(`the PSP fake sent no registration.authorized for ${checkout.checkout_id}`);
  return { checkout, raw: JSON.stringify(event) };
}

/** Delivers the held event while the database is away: 200 or 503 (no 500), within 10 s. */
export async function deliverWhileDown(ctx: CheckContext, third: PaymentThirdParties, api: PayApi, held: HeldEvent) {
  const x = await api.webhook(held.raw, signWebhook(third.secret, held.raw));
  ctx.evidence.webhookWhileDown = x.status ?? x.error;
  ctx.expect(
    x.status === 200 || x.status === 503,
    `a signed webhook delivered with PostgreSQL unreachable answered ${x.status ?? x.error}, not 200 or 503`,
    x,
  );
  ctx.expect(x.durationMs < 10_000, `the webhook took ${Math.round(x.durationMs)} ms with PostgreSQL unreachable`, x);
  return x;
}

/**
 * After the database is back: a 200 must have been applied (the orders leave NOT_STARTED, the PSP sending nothing
 * again); after a 503 the PSP sends the event again until it is 200, and then it is applied. Then the poller may see
 * the registration again.
 */
export async function expectAppliedOnceBack(
  ctx: CheckContext,
  third: PaymentThirdParties,
  api: PayApi,
  held: HeldEvent,
  whileDown: Exchange,
): Promise<void> {
  try {
    const ids = orderIds([held.checkout]);
    const since = Date.now();
    const bound = () => checkSlack(ctx.evidence, 5000).bound(APPLIED_BOUND_MS);
    let acked = whileDown.status === 200;
    let last: Exchange | undefined;
    for (;;) {
      if (!acked) {
        last = await api.webhook(held.raw, signWebhook(third.secret, held.raw));
        acked = last.status === 200;
      }
      if (acked) {
        const statuses = await Promise.all(ids.map(async (id) => ((await api.order(id)).body as PaymentOrder)?.status));
        if (statuses.every((s) => s && s !== 'NOT_STARTED')) return;
        if (Date.now() - since > bound())
          ctx.fail(
            whileDown.status === 200
              ? `a signed registration.authorized answered 200 while PostgreSQL was unreachable was never applied: ` +
                  `${APPLIED_BOUND_MS} ms after the database came back its orders are still ${statuses.join(', ')} ` +
                  '(a 200 tells the PSP the event was applied, so it never sends it again: the payment is lost)'
              : `a signed registration.authorized answered 200 once PostgreSQL was back left its orders ${statuses.join(', ')}`,
          );
      } else if (Date.now() - since > bound()) {
        ctx.fail(
          `the webhook was not answered 200 within ${APPLIED_BOUND_MS} ms of PostgreSQL coming back (last: ${last?.status ?? last?.error})`,
          last ? { exchange: last } : {},
        );
      }
      await sleep(200);
    }
  } finally {
    third.psp.hiddenRegistrations.delete(held.checkout.psp_token);
  }
}
