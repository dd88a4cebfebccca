// RL-I2: a denial's wait is honoured: the 429's headers on the protected endpoint, then generated limits and overshoots
// on the decision endpoint (fast-check, with the check's seed), and denials to the last millisecond of a wait.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { algorithmOf, decided, installRules, maxRetryAfterMs, type RlApi, rlApi, runNonce, type Timed } from './api.ts';
import { W } from './over-admission.ts';

export async function retryAfterIsHonoured(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  // Over the protected endpoint: the headers of a 429, then one request after Retry-After seconds.
  const limit = 3;
  await installRules(ctx, api, 'api', [{ key: 'user_id', rate_limit: { unit: 'second', requests_per_unit: limit } }]);
  const user = `i2-${runNonce()}`;
  let limited: Awaited<ReturnType<typeof api.protected>> | undefined;
  // Sent together, not one after another: on a loaded machine six sequential requests can take over a second, and
  // a 3-per-second bucket refills meanwhile, so nothing would be limited however right the limiter is.
  const answers = await Promise.all(Array.from({ length: limit + 3 }, () => api.protected(user)));
  for (const x of answers) {
    if (x.status === 429) limited = x;
    else ctx.expectStatus(x, 200);
  }
  ctx.expect(limited, `${limit + 3} requests at once to a ${limit}-per-second rule were never limited`);
  const h = limited.headers;
  const retry = Number(h['retry-after']);
  ctx.expect(
    h['x-ratelimit-retry-after'] === h['retry-after'],
    'X-Ratelimit-Retry-After differs from Retry-After',
    limited,
  );
  ctx.expect(retry >= 1 && retry <= 2, `Retry-After is ${retry} s for a per-second rule`, limited);
  ctx.expect(h['x-ratelimit-limit'] === String(limit), `X-Ratelimit-Limit is ${h['x-ratelimit-limit']}`, limited);
  ctx.expect(h['x-ratelimit-remaining'] === '0', 'a 429 says requests remain', limited);
  ctx.expect(/^"rule";r=0;t=\d+$/.test(h.ratelimit ?? ''), `RateLimit is ${h.ratelimit}, not r=0`, limited);
  ctx.expect(
    h['ratelimit-policy'] === `"rule";q=${limit};w=1`,
    `RateLimit-Policy is ${h['ratelimit-policy']}`,
    limited,
  );
  await ctx.sleep(retry * 1000 + 10);
  const after = await api.protected(user);
  ctx.expect(after.status === 200, `a request ${retry} s after Retry-After: ${retry} got ${after.status}`, after);

  // Over the decision endpoint, where retryAfterMs is precise: generated limits and overshoots.
  // Timing: the request after the wait is sent at the earliest retryAfterMs + 10 ms after the denial's answer came
  // back, so after the target decided; a slow scheduler only makes it later, which every algorithm must allow. What a
  // slow scheduler can do is space the burst out: an allowed answer after the denial (a refill came in between)
  // spends what the denial promised. So the burst goes on until its last answer is a denial (bounded), and the
  // extra wait the scheduler added is recorded (waitedBeyondMs), not allowed for: no slack is needed in this
  // direction, and none is given, so a wrong retryAfterMs is caught as before.
  const domain = `i2-${runNonce()}`;
  const algorithm = await algorithmOf(ctx, api);
  let run = 0;
  let checked = 0;
  let waitedBeyondMs = 0;
  await ctx.property(
    fc.record({ limit: fc.integer({ min: 2, max: 8 }), extra: fc.integer({ min: 1, max: 4 }) }),
    async ({ limit, extra }) => {
      const d = `${domain}-${run++}`;
      await installRules(ctx, api, d, [{ key: 'client', rate_limit: { unit: 'second', requests_per_unit: limit } }]);
      const entries = [{ key: 'client', value: 'k' }];
      let last: Timed | undefined;
      // Only the last request's denial says when the next is admitted: a denial followed by an admission (requests
      // slow enough that a refill came between them) promises nothing, since that admission took the token. So the
      // burst goes on (bounded) until its last answer is a denial.
      for (let i = 0; i < 3 * (limit + extra) && !(i >= limit + extra && last?.d?.allowed === false); i++)
        last = await decided(ctx, api, d, entries);
      if (!last || last.d!.allowed) return; // slow enough that refills kept up: nothing to wait for
      const wait = last.d!.retryAfterMs;
      const most = maxRetryAfterMs(algorithm, limit, W);
      ctx.expect(
        wait > 0 && wait <= most,
        `a denial says retryAfterMs ${wait} for ${limit} per second: the ${algorithm} definition never waits more than ${most} ms`,
        last.x,
      );
      await ctx.sleep(Math.max(0, last.doneAt + wait + 10 - Date.now()));
      const next = await decided(ctx, api, d, entries);
      checked++;
      waitedBeyondMs = Math.max(waitedBeyondMs, next.sentAt - (last.doneAt + wait));
      ctx.evidence.retryAfterChecked = checked;
      ctx.evidence.waitedBeyondRetryAfterMs = waitedBeyondMs;
      ctx.expect(
        next.d.allowed,
        `denied again ${next.sentAt - last.doneAt} ms after a denial that said retryAfterMs ${wait} ` +
          '(and no request in between)',
        next.x,
      );
    },
    Math.min(ctx.numRuns, 10),
  );
  await denialsToTheLastMillisecond(ctx, api, `${domain}-near`);
}

/**
 * The last millisecond of a wait. A burst empties a 20-per-second rule, then requests follow one another for 1.5 s,
 * so that (at each refill, every 50 ms) some are denied just before one is let through: slow enough that requests
 * on a loaded machine still meet denials. Every denial says a wait of at least 1 ms (rounded up: 0 is the answer of
 * an admission), and a request sent once the previous one's denial has waited its retryAfterMs is admitted. That
 * second half is timed with the client's high-resolution clock: the target decided the denial before its answer
 * came back and the next request after it was sent, so at least retryAfterMs passed between the two decisions, also
 * in whole milliseconds of the target's clock. Requests slower than the refill see no denials and prove nothing:
 * the denials seen are recorded.
 */
async function denialsToTheLastMillisecond(ctx: CheckContext, api: RlApi, domain: string): Promise<void> {
  const limit = 20;
  await installRules(ctx, api, domain, [{ key: 'client', rate_limit: { unit: 'second', requests_per_unit: limit } }]);
  const entries = [{ key: 'client', value: 'near' }];
  await Promise.all(Array.from({ length: limit + 1 }, () => decided(ctx, api, domain, entries)));
  let prev: { t: Timed; doneHr: number } | undefined;
  let denials = 0;
  let retriedAfterWait = 0;
  for (const until = performance.now() + 1.5 * W; performance.now() < until; ) {
    const sentHr = performance.now();
    const t = await decided(ctx, api, domain, entries);
    const doneHr = performance.now();
    if (!t.d.allowed) {
      denials++;
      ctx.expect(
        t.d.retryAfterMs >= 1,
        `a denial says retryAfterMs ${t.d.retryAfterMs}: a denied request must wait at least 1 ms (0 means admitted)`,
        t.x,
      );
    }
    const wait = prev?.t.d?.allowed === false ? prev.t.d.retryAfterMs : undefined;
    if (prev && wait !== undefined && sentHr >= prev.doneHr + wait) {
      retriedAfterWait++;
      ctx.expect(
        t.d.allowed,
        `denied ${(sentHr - prev.doneHr).toFixed(1)} ms after a denial that said retryAfterMs ${wait} (no request in between)`,
        t.x,
      );
    }
    prev = { t, doneHr };
  }
  ctx.evidence.denialsNearRefill = denials;
  ctx.evidence.retriedAfterWaitNearRefill = retriedAfterWait;
}
