// The book's distributed design: counters in a central Redis, each decision one atomic Lua script, so that several
// stateless limiter instances enforce one limit (no read-modify-write race). The scripts implement the definitions
// of specs/05-rate-limiter/README.md exactly as algorithms.ts does; the caller's clock gives `now`.
// When Redis is unreachable a command fails at once (no offline queue, short timeout) and the app applies
// FAIL_MODE; the connection keeps reconnecting in the background.
import { Redis } from 'ioredis';
import type { Algorithm, Limit, LimiterStore, Outcome } from './algorithms.ts';

const HEAD = `
local L = tonumber(ARGV[1]); local W = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local function num(x) return string.format('%.17g', x) end
`;

const SCRIPTS: Record<Algorithm, string> = {
  token_bucket: `${HEAD}
local rate = L / W
local s = redis.call('HMGET', KEYS[1], 'v', 't')
local v = L; local t = now
if s[1] then t = math.max(tonumber(s[2]), now); v = math.min(L, tonumber(s[1]) + (t - tonumber(s[2])) * rate) end
local ok = 0
if v >= 1 then v = v - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'v', num(v), 't', num(t)); redis.call('PEXPIRE', KEYS[1], 2 * W)
local retry = 0
if ok == 0 then retry = math.ceil((1 - v) / rate) + 1 end
return {ok, math.floor(v), retry, math.ceil((L - v) / rate)}`,
  leaking_bucket: `${HEAD}
local rate = L / W
local s = redis.call('HMGET', KEYS[1], 'v', 't')
local v = 0; local t = now
if s[1] then t = math.max(tonumber(s[2]), now); v = math.max(0, tonumber(s[1]) - (t - tonumber(s[2])) * rate) end
local ok = 0
if v + 1 <= L then v = v + 1; ok = 1 end
redis.call('HSET', KEYS[1], 'v', num(v), 't', num(t)); redis.call('PEXPIRE', KEYS[1], 2 * W)
local retry = 0
if ok == 0 then retry = math.ceil((v + 1 - L) / rate) + 1 end
return {ok, math.max(0, math.floor(L - v)), retry, math.ceil(v / rate)}`,
  fixed_window: `${HEAD}
local w = math.floor(now / W)
local k = KEYS[1] .. ':' .. w
local c = tonumber(redis.call('GET', k) or '0')
local ok = 0
if c < L then c = redis.call('INCR', k); ok = 1; if c == 1 then redis.call('PEXPIRE', k, 2 * W) end end
local left = (w + 1) * W - now
local retry = 0
if ok == 0 then retry = math.ceil(left) end
return {ok, L - c, retry, math.ceil(left)}`,
  sliding_window_log: `${HEAD}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - W)
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], W + 1000)
local n = redis.call('ZCARD', KEYS[1])
local ok = 0
if n <= L then ok = 1 end
local retry = 0
if ok == 0 then
  local e = redis.call('ZRANGE', KEYS[1], n - L, n - L, 'WITHSCORES')
  retry = math.ceil(tonumber(e[2]) + W - now) + 1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {ok, math.max(0, L - n), retry, math.ceil(tonumber(first[2]) + W - now)}`,
  sliding_window_counter: `${HEAD}
local w = math.floor(now / W)
local curr = tonumber(redis.call('GET', KEYS[1] .. ':' .. w) or '0')
local prev = tonumber(redis.call('GET', KEYS[1] .. ':' .. (w - 1)) or '0')
local start = w * W
local p = (now - start) / W
local ok = 0
if curr + math.floor(prev * (1 - p)) < L then
  curr = redis.call('INCR', KEYS[1] .. ':' .. w); ok = 1
  if curr == 1 then redis.call('PEXPIRE', KEYS[1] .. ':' .. w, 2 * W + 1000) end
end
local retry = 0
if ok == 0 then
  local at
  if curr < L then at = start + W * (1 - (L - curr) / prev) else at = start + W * (2 - math.min(1, L / curr)) end
  retry = math.ceil(at - now) + 1
end
return {ok, math.max(0, L - (curr + math.floor(prev * (1 - p)))), retry, math.ceil(start + 2 * W - now)}`,
};

/** Replaces `from` in a script, and fails loudly if the script no longer holds it (a mutant must not be a no-op). */
function edited(script: string, from: string, to: string): string {
  if (!script.includes(from)) throw new Error(`mutant script: ${from} not found`);
  return script.replace(from, to);
}

/** Scripts of mutants that live in Redis's own key expiry (each needs its algorithm: ALGORITHM in its env). */
const MUTANT_SCRIPTS = {
  // MUTANT redis-counter-prev-expires: a window's count expires one window after its first request, so the previous
  // window stops weighing before the current one ends.
  'redis-counter-prev-expires': () =>
    edited(SCRIPTS.sliding_window_counter, "KEYS[1] .. ':' .. w, 2 * W + 1000)", "KEYS[1] .. ':' .. w, W)"),
  // MUTANT redis-log-expiry-from-admission: the log's expiry is renewed on admission only, so a client refused for
  // longer than it loses its logged refusals with the key.
  'redis-log-expiry-from-admission': () =>
    edited(
      edited(SCRIPTS.sliding_window_log, "redis.call('PEXPIRE', KEYS[1], W + 1000)\n", ''),
      'if n <= L then ok = 1 end',
      "if n <= L then ok = 1; redis.call('PEXPIRE', KEYS[1], W + 1000) end",
    ),
  // MUTANT redis-fixed-window-from-first-hit: the classic INCR + PEXPIRE, a window from the key's first request.
  'redis-fixed-window-from-first-hit': () => `${HEAD}
local k = KEYS[1]
local c = tonumber(redis.call('GET', k) or '0')
local ok = 0
if c < L then c = redis.call('INCR', k); ok = 1; if c == 1 then redis.call('PEXPIRE', k, W) end end
local left = redis.call('PTTL', k)
if left < 0 then left = W end
local retry = 0
if ok == 0 then retry = math.ceil(left) end
return {ok, L - c, retry, math.ceil(left)}`,
};

export interface RedisStoreOptions {
  url: string;
  algorithm: Algorithm;
  namespace: string;
  /** MUTANT racy-redis-store: read, decide in the process, write back (two round trips, no script). */
  racy?: boolean;
  commandTimeoutMs?: number;
  /** MUTANT hang-on-redis-down: queue commands while disconnected instead of failing at once. */
  offlineQueue?: boolean;
  /** MUTANT stale-script-sha: decisions call EVALSHA with a SHA Redis never loaded (NOSCRIPT every time). */
  staleScript?: boolean;
  /** MUTANT log-member-without-pid: the sliding log's member is the millisecond and this process's counter only. */
  memberWithoutPid?: boolean;
  /** MUTANT redis-retry-on-timeout: a decision whose script timed out is sent once more before the fail mode. */
  retryOnTimeout?: boolean;
  /** MUTANT redis-reconnect-gives-up: the client stops reconnecting after five attempts. */
  reconnectGivesUp?: boolean;
  /** MUTANT redis-counter-prev-expires, redis-fixed-window-from-first-hit, redis-log-expiry-from-admission: its script. */
  scriptMutant?: keyof typeof MUTANT_SCRIPTS | undefined;
}

type Hit = (key: string, l: string, w: string, now: string, id: string) => Promise<[number, number, number, number]>;

export class RedisStore implements LimiterStore {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private seq = 0;
  private up = false;
  private generation = 0;
  private readonly rlHit: Hit;
  private readonly script: string;

  constructor(private readonly o: RedisStoreOptions) {
    this.redis = new Redis(o.url, {
      lazyConnect: true,
      enableOfflineQueue: o.offlineQueue ?? false,
      commandTimeout: o.commandTimeoutMs ?? 500,
      maxRetriesPerRequest: o.offlineQueue ? null : 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1000,
      // MUTANT redis-reconnect-gives-up: null after five attempts ends reconnecting for good.
      retryStrategy: (attempt) => (o.reconnectGivesUp && attempt > 5 ? null : Math.min(50 * 2 ** attempt, 500)),
      connectionName: 'sdgrade-reference/05-rate-limiter',
    });
    this.redis.on('error', () => {
      this.up = false;
    });
    this.redis.on('close', () => {
      this.up = false;
    });
    this.redis.on('ready', () => {
      this.up = true;
    });
    this.script = o.scriptMutant ? MUTANT_SCRIPTS[o.scriptMutant]() : SCRIPTS[o.algorithm];
    this.redis.defineCommand('rlHit', { numberOfKeys: 1, lua: this.script });
    this.rlHit = (this.redis as unknown as { rlHit: Hit }).rlHit.bind(this.redis);
  }

  /** Connects if Redis answers; the service starts anyway and uses Redis once it is back. */
  async connect(): Promise<void> {
    await this.redis.connect().catch(() => {});
    // Load the script before the first decision: otherwise that one pays EVALSHA, NOSCRIPT and EVAL in a row, and
    // on a busy machine can run past the command timeout and fail open.
    await this.redis.script('LOAD', this.script).catch(() => {});
  }

  async hit(key: string, l: Limit, now: number): Promise<Outcome> {
    const k = `${this.o.namespace}${this.generation}:${key}`;
    if (this.o.racy) return this.racyHit(k, l, now);
    if (this.o.staleScript) await this.redis.evalsha('0'.repeat(40), 1, k); // MUTANT stale-script-sha: NOSCRIPT
    // Only the sliding log needs a unique member per request (its sorted set's entry).
    const id = this.o.algorithm === 'sliding_window_log' ? `${now}-${process.pid}-${this.seq++}` : '';
    const call = () =>
      this.rlHit(
        k,
        String(l.limit),
        String(l.windowMs),
        String(now),
        // MUTANT log-member-without-pid: two instances' requests in one millisecond with one sequence number collide.
        this.o.memberWithoutPid ? id.replace(`-${process.pid}-`, '-') : id,
      );
    // MUTANT redis-retry-on-timeout: a timed-out script (which Redis usually still runs) is sent once more.
    const retried = this.o.retryOnTimeout
      ? call().catch((error: unknown) => (/timed out/i.test(String(error)) ? call() : Promise.reject(error)))
      : call();
    const [ok, remaining, retryAfterMs, resetMs] = await retried;
    return { allowed: ok === 1, remaining, retryAfterMs, resetMs };
  }

  /** MUTANT racy-redis-store: the book's race condition, read and write in separate round trips. */
  private async racyHit(k: string, l: Limit, now: number): Promise<Outcome> {
    const w = Math.floor(now / l.windowMs);
    const c = Number((await this.redis.get(`${k}:${w}`)) ?? '0');
    const allowed = c < l.limit;
    if (allowed) await this.redis.set(`${k}:${w}`, String(c + 1), 'PX', 2 * l.windowMs);
    const left = (w + 1) * l.windowMs - now;
    return {
      allowed,
      remaining: l.limit - c - (allowed ? 1 : 0),
      retryAfterMs: allowed ? 0 : Math.ceil(left),
      resetMs: Math.ceil(left),
    };
  }

  async clear(): Promise<void> {
    this.generation++;
  }

  health(): 'up' | 'down' {
    return this.up ? 'up' : 'down';
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
