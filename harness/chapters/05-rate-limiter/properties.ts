// RL-I1..I4: the chapter's invariants as fast-check properties over the wire, each with the check's seed. RL-I1 is
// model-based: it holds the admissions of generated bursts and idle gaps to the bound the reported algorithm's
// definition (specs/05-rate-limiter/README.md) implies, allowing for the fact that the target decided each request
// at some moment between the harness sending it and hearing the answer.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Algorithm,
  algorithmOf,
  clearOfBoundary,
  decided,
  installRules,
  maxRetryAfterMs,
  perMinute,
  type RlApi,
  rlApi,
  runNonce,
  type Timed,
  UNIT_MS,
} from './api.ts';

const W = 1000; // every generated rule is per second: short windows keep the checks fast

/** The admissions that exceed the definition's bound, or null when the trace keeps it. */
export function overAdmission(algorithm: Algorithm, limit: number, trace: readonly Timed[]): string | null {
  const admitted = trace.filter((t) => t.d?.allowed).sort((a, b) => a.sentAt - b.sentAt);
  if (algorithm === 'fixed_window' || algorithm === 'sliding_window_counter') {
    // At most `limit` admitted in any window [kW, (k+1)W): count requests decided surely inside one.
    const byWindow = new Map<number, number>();
    for (const t of admitted) {
      const k = Math.floor(t.sentAt / W);
      if (Math.floor(t.doneAt / W) === k) byWindow.set(k, (byWindow.get(k) ?? 0) + 1);
    }
    for (const [k, n] of byWindow)
      if (n > limit) return `${n} admitted inside the window starting at ${k * W} (limit ${limit} per second)`;
    if (algorithm === 'sliding_window_counter') return overPreviousWindow(limit, admitted, byWindow);
    return null;
  }
  for (let i = 0; i < admitted.length; i++) {
    for (let j = i; j < admitted.length; j++) {
      const from = admitted[i]!.sentAt;
      const to = Math.max(...admitted.slice(i, j + 1).map((t) => t.doneAt));
      const n = j - i + 1;
      const span = to - from;
      // Buckets start full (token) or empty (leaking) and gain limit per W; the log admits limit per any W.
      const bound =
        algorithm === 'sliding_window_log'
          ? span < W
            ? limit
            : Number.POSITIVE_INFINITY
          : Math.floor(limit + (span * limit) / W);
      if (n > bound) return `${n} admitted within ${span} ms (the ${algorithm} definition allows ${bound})`;
    }
  }
  return null;
}

/**
 * The counter's estimate also weighs the previous window: in window k+1, at elapsed share p, no admission happens
 * while curr + floor(prev · (1 - p)) >= L, so by time T at most L - floor(prev · (1 - p(T))) are admitted in it. prev
 * (window k's admissions) is at least those surely inside window k, and the admissions counted in k+1 by T are
 * those surely inside it answered by T: both only make the bound looser. Needs the target's clock (same machine).
 */
function overPreviousWindow(limit: number, admitted: readonly Timed[], byWindow: Map<number, number>): string | null {
  for (const [k, prev] of byWindow) {
    const start = (k + 1) * W;
    const next = admitted
      .filter((t) => t.sentAt >= start && Math.floor(t.doneAt / W) === k + 1)
      .sort((a, b) => a.doneAt - b.doneAt);
    for (const [i, t] of next.entries()) {
      const p = (t.doneAt - start) / W;
      const bound = limit - Math.floor(prev * (1 - p));
      if (i + 1 > bound)
        return `${i + 1} admitted ${t.doneAt - start} ms into the window after one with ${prev} admitted (limit ${limit} per second): the counter's estimate allows ${bound}`;
    }
  }
  return null;
}

async function burst(ctx: CheckContext, domain: string, value: string, size: number): Promise<Timed[]> {
  const api = rlApi(ctx);
  return Promise.all(Array.from({ length: size }, () => decided(ctx, api, domain, [{ key: 'client', value }])));
}

export async function admissionsWithinDefinition(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const algorithm = await algorithmOf(ctx, api);
  const domain = `i1-${runNonce()}`;
  ctx.evidence.algorithm = algorithm;
  const rule = (limit: number) => [
    { key: 'client', rate_limit: { unit: 'second' as const, requests_per_unit: limit } },
  ];
  // A key limited for an hour must stay limited while it is idle (its state outlives any idle time shorter than its
  // window); started first, and checked after the other traces, so its idle time costs the check little.
  const idle = await idleKeyStaysLimited(ctx, api, domain);
  // An idle key's bucket refills to its capacity and no further: one request, then an idle 1.5 windows, then a
  // burst. Every definition admits at most L of a burst sent at once after that (buckets cap at L, windows hold L).
  {
    const limit = 3;
    const d = `${domain}-cap`;
    await installRules(ctx, api, d, rule(limit));
    const trace: Timed[] = [await decided(ctx, api, d, [{ key: 'client', value: 'idle' }])];
    await ctx.sleep(1.5 * W);
    trace.push(...(await burst(ctx, d, 'idle', 2 * limit + 1)));
    const over = overAdmission(algorithm, limit, trace);
    if (over) ctx.fail(`a burst after 1.5 idle windows: ${over}`, { counterexample: { limit, trace: summary(trace) } });
  }
  // Then a fixed trace: the book's edge bursts, 2L+1 at 20% and at 70% of a window and again just past its end.
  {
    const limit = 4;
    await installRules(ctx, api, domain, rule(limit));
    const value = `edge-${runNonce()}`;
    const trace: Timed[] = [];
    await ctx.sleep(W - (Date.now() % W) + 0.2 * W);
    trace.push(...(await burst(ctx, domain, value, 2 * limit + 1)));
    await ctx.sleep(W - (Date.now() % W) - 0.3 * W);
    trace.push(...(await burst(ctx, domain, value, 2 * limit + 1)));
    await ctx.sleep(W - (Date.now() % W) + 0.05 * W);
    trace.push(...(await burst(ctx, domain, value, 2 * limit + 1)));
    const over = overAdmission(algorithm, limit, trace);
    if (over) ctx.fail(`edge bursts: ${over}`, { counterexample: { limit, trace: summary(trace) } });
  }
  // Then generated traces: per run a fresh key, a limit, and bursts separated by idle gaps.
  const step = fc.record({ gapMs: fc.integer({ min: 0, max: 600 }), size: fc.integer({ min: 1, max: 12 }) });
  let run = 0;
  await ctx.property(
    fc.record({ limit: fc.integer({ min: 2, max: 6 }), steps: fc.array(step, { minLength: 1, maxLength: 4 }) }),
    async ({ limit, steps }) => {
      const d = `${domain}-${run++}`;
      await installRules(ctx, api, d, rule(limit));
      const trace: Timed[] = [];
      for (const s of steps) {
        await ctx.sleep(s.gapMs);
        trace.push(...(await burst(ctx, d, 'k', s.size)));
      }
      const over = overAdmission(algorithm, limit, trace);
      if (over) ctx.fail(over, { counterexample: { limit, steps, trace: summary(trace) } });
    },
    Math.min(ctx.numRuns, 8),
  );
  await idle();
}

/**
 * Exhausts a key of a 2-per-hour rule now and returns the second half: after at least IDLE_MS without a request the
 * key is still denied. Every definition agrees: a bucket refills 2 per hour (far less than one token in IDLE_MS),
 * the fixed and sliding windows still hold both admissions (the trace stays clear of an hour boundary).
 */
const IDLE_MS = 20_000;
async function idleKeyStaysLimited(ctx: CheckContext, api: RlApi, domain: string): Promise<() => Promise<void>> {
  const d = `${domain}-idle`;
  const limit = 2;
  await installRules(ctx, api, d, [{ key: 'client', rate_limit: { unit: 'hour', requests_per_unit: limit } }]);
  await clearOfBoundary(ctx, UNIT_MS.hour, 2 * IDLE_MS);
  const entries = [{ key: 'client', value: 'idle' }];
  const first: Timed[] = [];
  for (let i = 0; i < limit + 1; i++) first.push(await decided(ctx, api, d, entries));
  const lastAt = first[first.length - 1]!.doneAt;
  return async () => {
    await ctx.sleep(Math.max(0, lastAt + IDLE_MS - Date.now()));
    const after = await decided(ctx, api, d, entries);
    ctx.evidence.idleMsBeforeRetry = after.sentAt - lastAt;
    if (after.d.allowed)
      ctx.fail(
        `a key that used its ${limit} per hour was let through again after ${after.sentAt - lastAt} ms idle: ` +
          'its state was lost before its window ended',
        { exchange: after.x },
      );
  };
}

function summary(trace: readonly Timed[]) {
  return trace.map((t) => ({ sentAt: t.sentAt, doneAt: t.doneAt, allowed: t.d?.allowed }));
}

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

export async function keysAreIsolated(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const domain = `i3-${runNonce()}`;
  await lookalikeListsAreIsolated(ctx, api, `${domain}-lookalike`);
  let run = 0;
  await ctx.property(
    fc.record({ limit: fc.integer({ min: 1, max: 6 }), others: fc.integer({ min: 1, max: 3 }) }),
    async ({ limit, others }) => {
      const d = `${domain}-${run++}`;
      await installRules(ctx, api, d, [perMinute('user', limit)]);
      await clearOfBoundary(ctx, 60_000, 3000);
      const key = (i: number) => [{ key: 'user', value: `u${i}` }];
      const first = await Promise.all(Array.from({ length: limit + 2 }, () => decided(ctx, api, d, key(0))));
      ctx.expect(
        first.some((t) => !t.d.allowed),
        `${limit + 2} requests at once to ${limit} per minute all passed`,
      );
      for (let i = 1; i <= others; i++) {
        const got = await Promise.all(Array.from({ length: limit }, () => decided(ctx, api, d, key(i))));
        const denied = got.find((t) => !t.d.allowed);
        if (denied)
          ctx.fail(`with user u0 limited, user u${i} was denied within its own limit of ${limit}`, {
            exchange: denied.x,
          });
      }
    },
    Math.min(ctx.numRuns, 10),
  );
}

/**
 * Descriptor lists that differ, but read the same once their keys and values are strung together, are different
 * keys: a nested [a=1, b=2] and a single a="1b=2"; a NUL inside a value; '=' inside a key or value (the schema
 * allows any character in both). Each pair matches rules of one unit and limit, so a shared bucket shows: one list
 * used up leaves the other its whole limit.
 */
async function lookalikeListsAreIsolated(ctx: CheckContext, api: RlApi, domain: string): Promise<void> {
  const limit = 2;
  const rateLimit = { unit: 'minute' as const, requests_per_unit: limit };
  await installRules(ctx, api, domain, [
    { key: 'a', rate_limit: rateLimit, descriptors: [{ key: 'b', rate_limit: rateLimit }] },
    { key: 'a=1', rate_limit: rateLimit },
  ]);
  const e = (...kv: [string, string][]) => kv.map(([key, value]) => ({ key, value }));
  const pairs = [
    [e(['a', '1'], ['b', '2']), e(['a', '1b=2'])],
    [e(['a', '3'], ['b', '4']), e(['a', '3\u0000b=4'])],
    [e(['a', '1=x']), e(['a=1', 'x'])],
  ];
  const show = (l: { key: string; value: string }[]) => JSON.stringify(l.map((x) => [x.key, x.value]));
  for (const [used, other] of pairs as [ReturnType<typeof e>, ReturnType<typeof e>][]) {
    await clearOfBoundary(ctx, 60_000, 3000);
    let last: Timed | undefined;
    for (let i = 0; i < limit + 1; i++) last = await decided(ctx, api, domain, used);
    ctx.expect(
      !last!.d!.allowed,
      `${limit + 1} requests of ${show(used)} to ${limit} per minute: the last passed`,
      last!.x,
    );
    for (let i = 0; i < limit; i++) {
      const t = await decided(ctx, api, domain, other);
      if (!t.d.allowed)
        ctx.fail(
          `with ${show(used)} limited, ${show(other)} (another descriptor list) was denied within its own limit of ${limit}: the two share a bucket`,
          { exchange: t.x },
        );
    }
  }
}

export async function ruleChangeKeepsOthers(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const nonce = runNonce();
  let run = 0;
  await ctx.property(
    fc.record({ limit: fc.integer({ min: 1, max: 5 }), factor: fc.integer({ min: 2, max: 4 }) }),
    async ({ limit, factor }) => {
      const a = `i4-${nonce}-a${run}`;
      const b = `i4-${nonce}-b${run++}`;
      await installRules(ctx, api, a, [perMinute('user', limit)]);
      await installRules(ctx, api, b, [perMinute('user', limit), perMinute('ip', limit)]);
      await clearOfBoundary(ctx, 60_000, 3000);
      const exhaust = async (d: string, key: string) => {
        for (let i = 0; i < limit + 1; i++) await decided(ctx, api, d, [{ key, value: 'x' }]);
        const t = await decided(ctx, api, d, [{ key, value: 'x' }]);
        ctx.expect(!t.d.allowed, `${limit + 2} requests to ${limit} per minute: the last was allowed`, t.x);
      };
      await exhaust(a, 'user');
      await exhaust(b, 'ip');
      // Raise b's user limit: no restart; the unrelated limited keys must stay limited.
      await installRules(ctx, api, b, [perMinute('user', limit * factor), perMinute('ip', limit)]);
      for (const [d, key] of [
        [a, 'user'],
        [b, 'ip'],
      ] as const) {
        const t = await decided(ctx, api, d, [{ key, value: 'x' }]);
        ctx.expect(
          !t.d.allowed,
          `after a change to domain ${b}'s user rule, the limited ${d} ${key} key was let through`,
          t.x,
        );
      }
      const fresh = await Promise.all(
        Array.from({ length: limit * factor }, () => decided(ctx, api, b, [{ key: 'user', value: 'new' }])),
      );
      const denied = fresh.find((t) => !t.d.allowed || t.d.limit !== limit * factor);
      if (denied)
        ctx.fail(`the raised limit ${limit * factor} did not apply without a restart`, { exchange: denied.x });
    },
    Math.min(ctx.numRuns, 10),
  );
}
