// The book's five rate limiting algorithms, in memory, exactly as specs/05-rate-limiter/README.md defines them.
// Each takes the time as an argument so that tests can drive it; `limit` is requests_per_unit, `windowMs` the unit.

export const ALGORITHMS = [
  'token_bucket',
  'leaking_bucket',
  'fixed_window',
  'sliding_window_log',
  'sliding_window_counter',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export interface Limit {
  limit: number;
  windowMs: number;
}

export interface Outcome {
  allowed: boolean;
  /** Requests still allowed now, after this one. */
  remaining: number;
  /** 0 when allowed; else milliseconds until one request would be allowed. */
  retryAfterMs: number;
  /** Milliseconds until the quota is whole again (the IETF RateLimit header's `t`). */
  resetMs: number;
}

/** A store of per-key state that decides one request at a time (atomically per key). */
export interface LimiterStore {
  readonly kind: 'memory' | 'redis';
  hit(key: string, l: Limit, now: number): Promise<Outcome>;
  /** Forgets every key (used only by a mutant). */
  clear(): Promise<void>;
  health(): 'up' | 'down' | 'embedded';
  close(): Promise<void>;
}

export interface BoundaryOptions {
  /** MUTANT fixed-window-boundary: windows centred on multiples of the unit instead of starting at them. */
  roundedWindows?: boolean;
  /** MUTANT token-bucket-uncapped: an idle bucket keeps refilling past its capacity L. */
  uncappedBucket?: boolean;
  /** MUTANT denied-requests-cost-tokens: every request takes a token first; a denied one leaves the bucket in debt. */
  deniedCostsToken?: boolean;
  /** MUTANT token-bucket-whole-token-refill: refills whole tokens only, yet moves its clock on past the fraction. */
  wholeTokenRefill?: boolean;
  /** MUTANT sweeper-forgets-all: the sweeper forgets every key, also those whose state still matters. */
  sweepAll?: boolean;
  /** MUTANT sliding-log-skips-denied: the log keeps admitted requests only, so refused ones never hold a client back. */
  logAdmittedOnly?: boolean;
  /** MUTANT fixed-window-retry-whole-window: a fixed window denial says to wait a whole window, not to its end. */
  retryWholeWindow?: boolean;
  /** MUTANT sliding-counter-stale-previous: the counter's previous count is the key's last window, however old. */
  stalePrevious?: boolean;
}

type Decide = (state: unknown, l: Limit, now: number) => { state: unknown; outcome: Outcome };

const ceil = (x: number) => Math.max(0, Math.ceil(x));

function tokenBucket(s: unknown, { limit, windowMs }: Limit, now: number) {
  const rate = limit / windowMs;
  const prev = s as { tokens: number; t: number } | undefined;
  let tokens = prev ? Math.min(limit, prev.tokens + (now - prev.t) * rate) : limit;
  const allowed = tokens >= 1;
  if (allowed) tokens -= 1;
  return {
    state: { tokens, t: now },
    outcome: {
      allowed,
      remaining: Math.floor(tokens),
      retryAfterMs: allowed ? 0 : ceil((1 - tokens) / rate) + 1,
      resetMs: ceil((limit - tokens) / rate),
    },
  };
}

function leakingBucket(s: unknown, { limit, windowMs }: Limit, now: number) {
  const rate = limit / windowMs;
  const prev = s as { level: number; t: number } | undefined;
  let level = prev ? Math.max(0, prev.level - (now - prev.t) * rate) : 0;
  const allowed = level + 1 <= limit;
  if (allowed) level += 1;
  return {
    state: { level, t: now },
    outcome: {
      allowed,
      remaining: Math.max(0, Math.floor(limit - level)),
      retryAfterMs: allowed ? 0 : ceil((level + 1 - limit) / rate) + 1,
      resetMs: ceil(level / rate),
    },
  };
}

function fixedWindow(o: BoundaryOptions) {
  return (s: unknown, { limit, windowMs }: Limit, now: number) => {
    const win = o.roundedWindows ? Math.round(now / windowMs) : Math.floor(now / windowMs);
    const prev = s as { win: number; count: number } | undefined;
    let count = prev && prev.win === win ? prev.count : 0;
    const allowed = count < limit;
    if (allowed) count++;
    const end = (o.roundedWindows ? win + 0.5 : win + 1) * windowMs;
    return {
      state: { win, count },
      outcome: {
        allowed,
        remaining: limit - count,
        retryAfterMs: allowed ? 0 : ceil(end - now),
        resetMs: ceil(end - now),
      },
    };
  };
}

function slidingLog(s: unknown, { limit, windowMs }: Limit, now: number, admittedOnly = false) {
  // The book's variant: a rejected request's timestamp is logged too.
  const log = ((s as number[] | undefined) ?? []).filter((t) => t > now - windowMs);
  log.push(now);
  const allowed = log.length <= limit;
  if (!allowed && admittedOnly) log.pop(); // MUTANT sliding-log-skips-denied: the refused request is not logged
  const retryAfterMs = allowed ? 0 : ceil(log[log.length - limit]! + windowMs - now) + 1;
  return {
    state: log,
    outcome: {
      allowed,
      remaining: Math.max(0, limit - log.length),
      retryAfterMs,
      resetMs: ceil(log[0]! + windowMs - now),
    },
  };
}

function slidingCounter(s: unknown, { limit, windowMs }: Limit, now: number) {
  const win = Math.floor(now / windowMs);
  const prevState = s as { win: number; curr: number; prev: number } | undefined;
  let curr = 0;
  let prev = 0;
  if (prevState?.win === win) ({ curr, prev } = prevState);
  else if (prevState?.win === win - 1) prev = prevState.curr;
  const start = win * windowMs;
  const p = (now - start) / windowMs;
  const estimate = () => curr + Math.floor(prev * (1 - p));
  const allowed = estimate() < limit;
  if (allowed) curr++;
  let retryAfterMs = 0;
  if (!allowed) {
    const at =
      curr < limit
        ? start + windowMs * (1 - (limit - curr) / prev)
        : start + windowMs * (2 - Math.min(1, limit / curr));
    retryAfterMs = ceil(at - now) + 1;
  }
  return {
    state: { win, curr, prev },
    outcome: {
      allowed,
      remaining: Math.max(0, limit - estimate()),
      retryAfterMs,
      resetMs: ceil(start + 2 * windowMs - now),
    },
  };
}

/** MUTANT token-bucket-uncapped, denied-requests-cost-tokens, token-bucket-whole-token-refill: one of three mistakes. */
function brokenTokenBucket(o: BoundaryOptions): Decide {
  return (s, { limit, windowMs }, now) => {
    const rate = limit / windowMs;
    const prev = s as { tokens: number; t: number } | undefined;
    const earned = (now - (prev?.t ?? now)) * rate;
    const refilled = prev ? prev.tokens + (o.wholeTokenRefill ? Math.floor(earned) : earned) : limit;
    let tokens = o.uncappedBucket ? refilled : Math.min(limit, refilled);
    let allowed = tokens >= 1;
    if (o.deniedCostsToken) {
      tokens -= 1;
      allowed = tokens >= 0;
    } else if (allowed) tokens -= 1;
    return {
      state: { tokens, t: now },
      outcome: {
        allowed,
        remaining: Math.max(0, Math.floor(tokens)),
        retryAfterMs: allowed ? 0 : ceil((1 - tokens) / rate) + 1,
        resetMs: ceil((limit - tokens) / rate),
      },
    };
  };
}

export function decider(algorithm: Algorithm, o: BoundaryOptions = {}): Decide {
  switch (algorithm) {
    case 'token_bucket':
      return o.uncappedBucket || o.deniedCostsToken || o.wholeTokenRefill ? brokenTokenBucket(o) : tokenBucket;
    case 'leaking_bucket':
      return leakingBucket;
    case 'fixed_window':
      // MUTANT fixed-window-retry-whole-window: a denial's wait is a whole window.
      return o.retryWholeWindow
        ? (s, l, now) => {
            const r = fixedWindow(o)(s, l, now);
            return r.outcome.allowed ? r : { ...r, outcome: { ...r.outcome, retryAfterMs: l.windowMs } };
          }
        : fixedWindow(o);
    case 'sliding_window_log':
      return o.logAdmittedOnly ? (s, l, now) => slidingLog(s, l, now, true) : slidingLog;
    case 'sliding_window_counter':
      // MUTANT sliding-counter-stale-previous: an older window's state is shown to the counter as the previous one.
      return o.stalePrevious
        ? (s, l, now) => {
            const st = s as { win: number; curr: number; prev: number } | undefined;
            const win = Math.floor(now / l.windowMs);
            return slidingCounter(st && st.win < win - 1 ? { ...st, win: win - 1 } : st, l, now);
          }
        : slidingCounter;
  }
}

/** The embedded store: one Map of per-key state; Node runs one decision at a time, so each is atomic. */
export class MemoryStore implements LimiterStore {
  readonly kind = 'memory';
  private readonly states = new Map<string, { state: unknown; expires: number }>();
  private readonly decide: Decide;
  private readonly sweeper: NodeJS.Timeout;

  constructor(algorithm: Algorithm, o: BoundaryOptions = {}) {
    this.decide = decider(algorithm, o);
    // Forget keys whose state cannot matter any more (two windows idle): memory stays proportional to active keys.
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, v] of this.states) if (v.expires < now || o.sweepAll) this.states.delete(k);
    }, 10_000);
    this.sweeper.unref();
  }

  async hit(key: string, l: Limit, now: number): Promise<Outcome> {
    const { state, outcome } = this.decide(this.states.get(key)?.state, l, now);
    this.states.set(key, { state, expires: now + 2 * l.windowMs });
    return outcome;
  }

  async clear(): Promise<void> {
    this.states.clear();
  }

  health(): 'embedded' {
    return 'embedded';
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
