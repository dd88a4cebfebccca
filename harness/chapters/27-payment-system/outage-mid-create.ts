// Part of PAY-F5: PostgreSQL goes away in the middle of a createPayment, after the service claimed its
// Idempotency-Key and stored the event, while it waits for the PSP's registration (the PSP fake takes the database
// away the moment the registration request reaches it, so the fault lands there on a fast or a loaded machine). The
// service can then answer 201 (it had all it needed) or 503. The spec: a request answered 503 releases its key, and
// its retry with the same key, once the database is back, is executed: never 409 idempotency_key_in_use (no request
// with the key is in flight any more; a key the service could not release while the database was away must not lock
// the client out once it is back). Then the checkout is paid and must settle once, for the amount asked.
//
// What a claim left behind by the outage must not do (each a way a service "takes over" such a claim wrongly):
// - serve another body: the key's next request with another body is 409, or executed as a new request (the key was
//   released), and then the first body under the key is 409 idempotency_key_reused, never a replay of the other's;
// - be taken over twice: the retry goes out as RACERS simultaneous requests; at most one is executed (201 without
//   Idempotent-Replayed), the others wait (409 idempotency_key_in_use) or get its replay;
// - make a first answer look like a replay: when every earlier attempt was answered (503), nothing was stored for the
//   key, so the retry's 201 is a fresh one (no Idempotent-Replayed);
// - register the checkout twice: the PSP's own record holds one registration for it (the book: the registration's
//   nonce is its idempotency key at the PSP; the spec: nothing is registered again), also after the same event
//   was sent under a new key before the retry (a registration keyed by the request's Idempotency-Key is made again).
import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import type { DependencyHandle } from '../../core/target.ts';
import { newEvent, type OrderInput, type PayApi, type PaymentEvent, type PaymentEventInput } from './api.ts';
import { DB_BACK_BOUND_MS } from './db-restart.ts';
import { expectSettledOnce, orderIds, payOnHostedPage, remembering } from './flow.ts';
import type { PaymentThirdParties } from './third-parties.ts';

/** Simultaneous retries once the database is back: enough that two of them meet at a left-behind claim. */
const RACERS = 3;
/**
 * Latency put on the database link while the retries race: each statement takes this long, so the racers' reads of
 * the claim land together, within one statement of each other, on a fast or a loaded machine alike (without it the
 * racers can reach the service one after another and a claim taken over twice goes unseen).
 */
const RACE_LATENCY_MS = 100;

const codeOf = (x: Exchange) => (x.body as { code?: string } | undefined)?.code;
const replayed = (x: Exchange) => x.headers['idempotent-replayed'] === 'true';

export async function outageWhileRegistering(
  ctx: CheckContext,
  third: PaymentThirdParties,
  api: PayApi,
  database: Pick<DependencyHandle, 'setReachable' | 'addToxic' | 'removeToxic'>,
): Promise<void> {
  const asked = new Map<string, OrderInput>();
  const event = remembering(asked, () => newEvent('f5m', ['8.15', '0.85']))(0);
  let key = randomUUID();
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
  const bound = checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS);
  if (!created && first.status === 503) {
    const stillOurs = await anotherBodyUnderKey(ctx, api, event, key, bound);
    if (stillOurs === undefined) return;
    // The other body took the released key: the first one goes on under a key of its own.
    if (!stillOurs) key = randomUUID();
    // The same payment event under a new key first (a client that lost the 503 and starts over): 201 with the
    // existing event, and not registered at the PSP again (its registration key is the checkout, not the request's).
    else if (!(await sameEventUnderNewKey(ctx, api, event, bound))) return;
  }
  // The retry with the same key: 503 while the service reconnects, then 201. A 409 in_use is a locked-out client.
  const slow = await database.addToxic({ type: 'latency', attributes: { latency: RACE_LATENCY_MS } });
  const since = Date.now();
  let last: Exchange = first;
  let rounds = 0;
  let fresh = 0;
  let unanswered = first.status === null;
  try {
    while (!created && Date.now() - since < bound) {
      await sleep(last.status === 503 ? 500 : 200);
      const round = await Promise.all(Array.from({ length: RACERS }, () => api.create(event, key)));
      rounds++;
      last = round.find((x) => x.status === 201) ?? round[0]!;
      if (round.every((x) => x.status === 409 && codeOf(x) === 'idempotency_key_in_use'))
        return ctx.fail(
          `the retry of a createPayment answered ${first.status} (its database went away while the PSP registered ` +
            `it) answered 409 idempotency_key_in_use to all ${RACERS} simultaneous retries with the database back: ` +
            'none was executed, so the key stayed locked after the failure (the spec: a 503 releases its key; the ' +
            'retry is executed)',
          { exchange: last },
        );
      for (const x of round) {
        if (x.status === 201 && !replayed(x)) fresh++;
        else if (x.status === 201 || x.status === 503) continue;
        else if (x.status === null) unanswered = true;
        else
          ctx.expect(
            x.status === 409 && codeOf(x) === 'idempotency_key_in_use',
            `a retry of a createPayment answered 503 answered ${x.status}, not 201, 503 or 409 in_use`,
            x,
          );
      }
      if (last.status === 201) created = last.body as PaymentEvent;
    }
  } finally {
    await database.removeToxic(slow);
  }
  ctx.evidence.midCreateRetries = { rounds, racers: RACERS, fresh };
  if (!created)
    return ctx.fail(
      `the retry of a createPayment answered 503 (its database went away while the PSP registered it) did not ` +
        `answer 201 within ${DB_BACK_BOUND_MS} ms of the database coming back (last: ${last.status ?? last.error})`,
      { exchange: last },
    );
  ctx.expect(
    fresh <= 1,
    `${fresh} of ${RACERS} simultaneous retries of a createPayment whose key the outage left claimed were each ` +
      'executed (201 without Idempotent-Replayed): the claim was taken over twice (the spec: another request with ' +
      'the key while one is executed is 409 idempotency_key_in_use, never executed)',
    last,
  );
  if (rounds > 0 && !unanswered)
    ctx.expect(
      fresh === 1,
      'the retries of a createPayment answered 503 got 201 only with Idempotent-Replayed: true, though every ' +
        'attempt before was answered 503 (nothing stored for the key): the first answer to the key is not a replay',
      last,
    );
  ctx.expect(
    created.checkout_id === event.checkout_id &&
      created.payment_orders.map((o) => o.payment_order_id).join() ===
        event.payment_orders.map((o) => o.payment_order_id).join(),
    `the retry's 201 is not the checkout asked (${created.checkout_id}: ` +
      `${created.payment_orders.map((o) => o.payment_order_id).join(', ')})`,
    last,
  );
  const regs = [...third.psp.registrations.values()].filter((r) => r.reference === event.checkout_id);
  ctx.expect(
    regs.length === 1,
    `the PSP holds ${regs.length} registrations for the checkout registered when the database went away and then ` +
      'retried, under its key and under a new one (the spec: the registration is made once, with the checkout as ' +
      'its idempotency key at the PSP; the same event under a new key is not registered again)',
  );
  await payOnHostedPage(ctx, created);
  await expectSettledOnce(ctx, third.psp, orderIds([created]), 30_000, asked);
}

/**
 * The event of the createPayment answered 503 sent again under a new key once the database is back: 201 with the
 * event (the spec: the same event under a new key is not a new payment, and is not registered again; the registration
 * count after the retry below shows the latter). False when the check failed.
 */
async function sameEventUnderNewKey(
  ctx: CheckContext,
  api: PayApi,
  event: PaymentEventInput,
  bound: number,
): Promise<boolean> {
  const key = randomUUID();
  const since = Date.now();
  let x = await api.create(event, key);
  while (x.status === 503 && Date.now() - since < bound) {
    await sleep(500);
    x = await api.create(event, key);
  }
  ctx.evidence.midCreateNewKey = x.status ?? x.error;
  if (x.status !== 201) {
    ctx.fail(
      `the same payment event under a new key, after a createPayment answered 503 (the database away mid-request), ` +
        `answered ${x.status ?? x.error} with the database back, not 201 with the existing event`,
      { exchange: x },
    );
    return false;
  }
  return true;
}

/**
 * Another body under the key of the createPayment answered 503: 409 (not executed: its payment order is unknown),
 * or 201 executed as a new request (the key was released), and then the first body under the key must be 409
 * idempotency_key_reused. True when the key still belongs to the first body, false when the other took it,
 * undefined when the check failed.
 */
async function anotherBodyUnderKey(
  ctx: CheckContext,
  api: PayApi,
  event: PaymentEventInput,
  key: string,
  bound: number,
): Promise<boolean | undefined> {
  const other = newEvent('f5o', ['3.30']);
  const since = Date.now();
  let x = await api.create(other, key);
  while (x.status === 503 && Date.now() - since < bound) {
    await sleep(500);
    x = await api.create(other, key);
  }
  ctx.evidence.midCreateOtherBody = x.status ?? x.error;
  if (x.status === 409) {
    const code = codeOf(x);
    ctx.expect(
      code === 'idempotency_key_reused' || code === 'idempotency_key_in_use',
      `another body under the key of a createPayment answered 503 answered 409 ${code}`,
      x,
    );
    const order = await api.order(other.payment_orders[0]!.payment_order_id);
    ctx.expectStatus(order, 404, 'not_found');
    return true;
  }
  if (x.status !== 201) {
    ctx.fail(
      `another body under the key of a createPayment answered 503 (the database away mid-request) answered ` +
        `${x.status ?? x.error} with the database back, not 409 or 201`,
      { exchange: x },
    );
    return undefined;
  }
  const again = await api.create(event, key);
  if (again.status === 201) {
    ctx.fail(
      'the first body under a key the outage left claimed answered 201 after another body was executed under the ' +
        `key (checkout ${(again.body as PaymentEvent).checkout_id}${replayed(again) ? ', replayed' : ''}), not ` +
        '409 idempotency_key_reused: the other body took over the claim and its answer was kept for the first body',
      { exchange: again },
    );
    return undefined;
  }
  ctx.expectStatus(again, 409, 'idempotency_key_reused');
  return false;
}
