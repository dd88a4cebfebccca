// Part of PAY-F5: PostgreSQL goes away in the middle of a createPayment, after the service claimed its
// Idempotency-Key and stored the event, while it waits for the PSP's registration (the PSP fake takes the database
// away the moment the registration request reaches it, so the fault lands there on a fast or a loaded machine). The
// service can then answer 201 (it had all it needed) or 503. The spec: a request answered 503 releases its key, and
// its retry with the same key, once the database is back, is executed: never 409 idempotency_key_in_use (no request
// with the key is in flight any more; a key the service could not release while the database was away must not lock
// the client out once it is back). Then the checkout is paid and must settle once, for the amount asked.
import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { newEvent, type OrderInput, type PayApi, type PaymentEvent } from './api.ts';
import { DB_BACK_BOUND_MS } from './db-restart.ts';
import { expectSettledOnce, orderIds, payOnHostedPage, remembering } from './flow.ts';
import type { PaymentThirdParties } from './third-parties.ts';

export async function outageWhileRegistering(
  ctx: CheckContext,
  third: PaymentThirdParties,
  api: PayApi,
  database: { setReachable(reachable: boolean): Promise<void> },
): Promise<void> {
  const asked = new Map<string, OrderInput>();
  const event = remembering(asked, () => newEvent('f5m', ['8.15', '0.85']))(0);
  const key = randomUUID();
  let cutAtRegistration = false;
  third.psp.beforeNextRegistration = async () => {
    cutAtRegistration = true;
    await database.setReachable(false);
  };
  let first: Exchange;
  try {
    first = await api.create(event, key);
  } finally {
    third.psp.beforeNextRegistration = null;
    await database.setReachable(true);
  }
  ctx.evidence.midCreateOutage = { bit: cutAtRegistration, firstStatus: first.status ?? first.error };
  if (!cutAtRegistration)
    return ctx.fail(
      `createPayment answered ${first.status ?? first.error} without registering the payment at the PSP`,
      { exchange: first },
    );
  ctx.expect(
    first.status === 201 || first.status === 503,
    `createPayment whose database went away while the PSP registered it answered ${first.status ?? first.error}, ` +
      'not 201 or 503',
    first,
  );
  let created = first.status === 201 ? (first.body as PaymentEvent) : null;
  // The retry with the same key: 503 while the service reconnects, then 201. A 409 in_use is a locked-out client.
  const since = Date.now();
  let last: Exchange = first;
  let retries = 0;
  while (!created && Date.now() - since < checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS)) {
    await sleep(last.status === 503 ? 500 : 200);
    last = await api.create(event, key);
    retries++;
    const code = (last.body as { code?: string } | undefined)?.code;
    if (last.status === 409 && code === 'idempotency_key_in_use')
      return ctx.fail(
        `the retry of a createPayment answered ${first.status} (its database went away while the PSP registered ` +
          'it) answered 409 idempotency_key_in_use with the database back: no request with the key was in flight, ' +
          'so the key stayed locked after the failure (the spec: a 503 releases its key; the retry is executed)',
        { exchange: last },
      );
    if (last.status === 201) created = last.body as PaymentEvent;
    else
      ctx.expect(
        last.status === 503,
        `the retry of a createPayment answered 503 answered ${last.status ?? last.error}, not 201 or 503`,
        last,
      );
  }
  ctx.evidence.midCreateRetries = retries;
  if (!created)
    return ctx.fail(
      `the retry of a createPayment answered 503 (its database went away while the PSP registered it) did not ` +
        `answer 201 within ${DB_BACK_BOUND_MS} ms of the database coming back (last: ${last.status ?? last.error})`,
      { exchange: last },
    );
  ctx.expect(
    created.checkout_id === event.checkout_id &&
      created.payment_orders.map((o) => o.payment_order_id).join() ===
        event.payment_orders.map((o) => o.payment_order_id).join(),
    `the retry's 201 is not the checkout asked (${created.checkout_id}: ` +
      `${created.payment_orders.map((o) => o.payment_order_id).join(', ')})`,
    last,
  );
  await payOnHostedPage(ctx, created);
  await expectSettledOnce(ctx, third.psp, orderIds([created]), 30_000, asked);
}
