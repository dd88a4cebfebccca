// Part of PAY-F5: PostgreSQL goes away after the PSP answered a createPayment's registration, while the service
// writes what follows it (the registration's token, the answer under the Idempotency-Key: the request's last
// statements). The work is done by then; if its answer cannot be kept the client gets a 503, and the spec says the
// retry with the same key, once the database is back, is executed: never 409 idempotency_key_in_use, also when the
// key could not be released while the database was away.
//
// Where the cut lands is placed from what this run measured, not from a fixed time: with LINK_LATENCY_MS of latency
// on the link towards PostgreSQL (added as the registration arrives, so the statements before it run at full speed),
// each statement after the PSP's answer spends that long on its way. A first createPayment measures how long after
// the PSP's answer its 201 comes (the tail: one latency per statement, plus the service's own time); the next one's
// database is taken away half a latency before its tail ends, while the last statement before the answer is on its
// way (each statement before it has been answered by then, on a fast or a loaded machine alike, as long as the
// service's own time varies by less than half a latency between the two requests).
import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import type { DependencyHandle } from '../../core/target.ts';
import { newEvent, type OrderInput, type PayApi, type PaymentEvent, type PaymentEventInput } from './api.ts';
import { DB_BACK_BOUND_MS } from './db-restart.ts';
import { payOnHostedPage, remembering } from './flow.ts';
import type { PaymentThirdParties } from './third-parties.ts';

/** Latency on the link towards PostgreSQL from the registration on: the width of the window the cut aims at. */
const LINK_LATENCY_MS = 500;
/** Measuring createPayments tried before the check gives up (each a fresh event). */
const PROBES = 3;

type Database = Pick<DependencyHandle, 'setReachable' | 'addToxic' | 'removeToxic'>;

interface Tail {
  exchange: Exchange;
  /** From the PSP's registration answer to the service's answer, in ms (null when the PSP was never asked). */
  tailMs: number | null;
}

/**
 * One createPayment with the link slowed from its registration on; `afterAnswer` runs as the PSP answers it. The
 * latency is taken off again before this returns.
 */
async function slowedAfterRegistration(
  third: PaymentThirdParties,
  api: PayApi,
  database: Database,
  event: PaymentEventInput,
  key: string,
  afterAnswer: () => void = () => {},
): Promise<Tail> {
  let slow: Promise<string> | null = null;
  let answeredAt: number | null = null;
  third.psp.beforeNextRegistration = async () => {
    slow = database.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: LINK_LATENCY_MS } });
    await slow;
  };
  third.psp.afterNextRegistration = () => {
    answeredAt = performance.now();
    afterAnswer();
  };
  try {
    const exchange = await api.create(event, key);
    const at = answeredAt as number | null;
    return { exchange, tailMs: at === null ? null : performance.now() - at };
  } finally {
    third.psp.beforeNextRegistration = null;
    third.psp.afterNextRegistration = null;
    const name = await (slow as Promise<string> | null);
    if (name) await database.removeToxic(name);
  }
}

export async function outageAfterRegistering(
  ctx: CheckContext,
  third: PaymentThirdParties,
  api: PayApi,
  database: Database,
  asked: Map<string, OrderInput>,
): Promise<void> {
  // The measure: a createPayment whose statements after the registration each take LINK_LATENCY_MS.
  let probe: Tail | null = null;
  for (let i = 0; i < PROBES && probe?.exchange.status !== 201; i++)
    probe = await slowedAfterRegistration(third, api, database, newEvent('f5t', ['4.40']), randomUUID());
  if (probe?.exchange.status !== 201 || probe.tailMs === null)
    return ctx.fail(
      `with ${LINK_LATENCY_MS} ms of latency on the link to PostgreSQL, createPayment answered ` +
        `${probe?.exchange.status ?? probe?.exchange.error} ${PROBES} times, not 201`,
      probe ? { exchange: probe.exchange } : {},
    );
  const tailMs = probe.tailMs;
  const cutAfterMs = Math.max(0, tailMs - LINK_LATENCY_MS / 2);

  const event = remembering(asked, () => newEvent('f5a', ['6.15', '0.35']))(0);
  const key = randomUUID();
  let cut: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let first: Tail;
  try {
    first = await slowedAfterRegistration(third, api, database, event, key, () => {
      timer = setTimeout(() => {
        cut = database.setReachable(false);
      }, cutAfterMs);
    });
  } finally {
    clearTimeout(timer);
    await (cut as Promise<void> | null);
    await database.setReachable(true);
  }
  const bit = cut !== null && first.exchange.status === 503;
  ctx.evidence.afterRegistrationCut = {
    tailMs: Math.round(tailMs),
    cutAfterMs: Math.round(cutAfterMs),
    answeredAfterMs: first.tailMs === null ? null : Math.round(first.tailMs),
    firstStatus: first.exchange.status ?? first.exchange.error,
    bit,
  };
  const x = first.exchange;
  ctx.expect(
    x.status === 201 || x.status === 503,
    `createPayment whose database went away after the PSP answered its registration answered ` +
      `${x.status ?? x.error}, not 201 or 503`,
    x,
  );
  const created = x.status === 201 ? (x.body as PaymentEvent) : await retryExecuted(ctx, api, event, key, x);
  ctx.expect(
    created.checkout_id === event.checkout_id,
    `the retry's 201 is not the checkout asked (${created.checkout_id})`,
  );
  await payOnHostedPage(ctx, created);
}

/**
 * The retry with the key of the createPayment answered 503, once the database is back: 503 while the service
 * reconnects, then 201. 409 idempotency_key_in_use is a client locked out: the previous request with the key was
 * answered, so none is in flight.
 */
async function retryExecuted(
  ctx: CheckContext,
  api: PayApi,
  event: PaymentEventInput,
  key: string,
  first: Exchange,
): Promise<PaymentEvent> {
  const bound = checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS);
  const since = Date.now();
  let last = first;
  let retries = 0;
  while (Date.now() - since < bound) {
    await sleep(last.status === 503 ? 500 : 200);
    const prev = last;
    last = await api.create(event, key);
    retries++;
    if (last.status === 201) break;
    const code = (last.body as { code?: string } | undefined)?.code;
    if (last.status === 409 && code === 'idempotency_key_in_use' && prev.status !== null)
      return ctx.fail(
        `the retry of a createPayment answered ${prev.status} (the database went away after the PSP answered its ` +
          'registration, while the service wrote what followed) answered 409 idempotency_key_in_use with the ' +
          'database back: the key stayed claimed after the failure (the spec: a 503 releases its key, or the key is ' +
          'taken over at once when it could not be released; the retry is executed)',
        { exchange: last },
      );
    if (last.status !== 503 && last.status !== null && !(last.status === 409 && code === 'idempotency_key_in_use'))
      return ctx.fail(
        `the retry of a createPayment answered 503 answered ${last.status} ${code ?? ''}, not 201 or 503`,
        { exchange: last },
      );
  }
  ctx.evidence.afterRegistrationRetries = retries;
  if (last.status !== 201)
    return ctx.fail(
      `the retry of a createPayment answered 503 (the database went away after the PSP answered its registration) ` +
        `did not answer 201 within ${DB_BACK_BOUND_MS} ms of the database coming back (last: ${last.status ?? last.error})`,
      { exchange: last },
    );
  return last.body as PaymentEvent;
}
