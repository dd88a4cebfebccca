// Chapter 05's in-process micro-benchmark: the reference's stores against rate-limiter-flexible (the most used npm
// package for this job) in one process, plus memory per tracked key and the sliding window counter's accuracy.
// Like for like: rate-limiter-flexible's limiters are fixed windows, so its figures face our fixed_window; the
// other four algorithms are reported beside them.
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { ALGORITHMS, type Algorithm, MemoryStore } from '../../../reference/05-rate-limiter/algorithms.ts';
import { RedisStore } from '../../../reference/05-rate-limiter/store-redis.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { heapBytesOf } from '../../core/heap-bytes.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { counterVsExactWindow } from './accuracy.ts';

const settings = {
  smoke: { keys: 100_000, decideMs: 400, redisMs: 1000, sources: 2000 },
  full: { keys: 1_000_000, decideMs: 3000, redisMs: 5000, sources: 20_000 },
};
const LIMIT = { limit: 100, windowMs: 60_000 };
const KEYS = 65_536;

/** Decisions per second of `decide` over `ms`, with `concurrency` callers awaiting one decision at a time each. */
async function decisionsPerSecond(decide: (key: string) => Promise<unknown>, ms: number, concurrency = 1) {
  let n = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; performance.now() < end; i += concurrency) {
        await decide(`user:${i & (KEYS - 1)}`);
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

/** Median of ours/theirs over alternating rounds, so that a noisy moment hurts both sides alike. */
async function alternating(rounds: number, ours: () => Promise<number>, theirs: () => Promise<number>) {
  const o: number[] = [];
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    o.push(await ours());
    t.push(await theirs());
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { ours: median(o), theirs: median(t) };
}

async function memoryDecisions(profile: Profile) {
  const ms = settings[profile].decideMs;
  const rate: Partial<Record<Algorithm, number>> = {};
  for (const a of ALGORITHMS) {
    const store = new MemoryStore(a);
    rate[a] = await decisionsPerSecond((k) => store.hit(k, LIMIT, Date.now()), ms);
    await store.close();
  }
  const ours = new MemoryStore('fixed_window');
  const theirs = new RateLimiterMemory({ points: LIMIT.limit, duration: LIMIT.windowMs / 1000 });
  // rate-limiter-flexible rejects its promise when limited; at 100 per minute over 65,536 keys none is.
  const vs = await alternating(
    3,
    () => decisionsPerSecond((k) => ours.hit(k, LIMIT, Date.now()), ms),
    () => decisionsPerSecond((k) => theirs.consume(k).catch((e) => e), ms),
  );
  await ours.close();
  return { rate, vs };
}

async function redisDecisions(url: string, profile: Profile) {
  const ms = settings[profile].redisMs;
  const concurrency = 32;
  const ours = new RedisStore({ url, algorithm: 'fixed_window', namespace: `sdgrade:05-bench:${Date.now()}:` });
  await ours.connect();
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  try {
    const theirs = new RateLimiterRedis({
      storeClient: client,
      points: LIMIT.limit,
      duration: LIMIT.windowMs / 1000,
      keyPrefix: `sdgrade:05-bench-rlf:${Date.now()}`,
    });
    return await alternating(
      3,
      () => decisionsPerSecond((k) => ours.hit(k, LIMIT, Date.now()), ms, concurrency),
      () => decisionsPerSecond((k) => theirs.consume(k).catch((e) => e), ms, concurrency),
    );
  } finally {
    await ours.close();
    client.disconnect();
  }
}

/** Heap bytes per key after one decision on each of `keys` keys. */
async function bytesPerKey(keys: number) {
  const per: Partial<Record<Algorithm | 'rate-limiter-flexible', number>> = {};
  const now = Date.now();
  for (const a of ALGORITHMS) {
    per[a] =
      (await heapBytesOf(async () => {
        const store = new MemoryStore(a);
        for (let i = 0; i < keys; i++) await store.hit(`user:${i}`, LIMIT, now);
        await store.close(); // stops its sweeper; the map stays alive through `store`
        return store;
      })) / keys;
  }
  per['rate-limiter-flexible'] =
    (await heapBytesOf(async () => {
      const rl = new RateLimiterMemory({ points: LIMIT.limit, duration: LIMIT.windowMs / 1000 });
      for (let i = 0; i < keys; i++) await rl.consume(`user:${i}`);
      return rl;
    })) / keys;
  return per as Record<Algorithm | 'rate-limiter-flexible', number>;
}

export const benchRateLimiter: BenchRun = async ({ profile, onProgress }) => {
  const t = loadTargets('05-rate-limiter');
  const s = settings[profile];
  onProgress('micro-benchmark: in-memory decisions/s of each algorithm and of rate-limiter-flexible');
  const mem = await memoryDecisions(profile);
  const rates = ALGORITHMS.map((a) => `${a} ${Math.round(mem.rate[a]!)}`).join(', ');
  const url = process.env['SDGRADE_REDIS_URL'];
  onProgress(url ? 'micro-benchmark: Redis decisions/s vs rate-limiter-flexible' : 'micro-benchmark: no Redis');
  const redis = url ? await redisDecisions(url, profile) : null;
  onProgress(`micro-benchmark: bytes per tracked key at ${s.keys.toLocaleString('en')} keys`);
  const bytes = await bytesPerKey(s.keys);
  onProgress(`micro-benchmark: sliding window counter vs the exact window, ${s.sources} sources`);
  const acc = counterVsExactWindow({ sources: s.sources, windows: 10, limit: LIMIT, seed: 5 });
  const pct = (n: number) => (100 * n) / acc.requests;
  // A heap that did not grow while keys were added (the rest of the process freed more) is no measurement.
  const notMeasured = (a: string) =>
    `not measured: the heap did not grow while ${a} tracked ${s.keys.toLocaleString('en')} keys, so any figure would be noise`;
  const bytesTarget = (id: string, a: Algorithm) =>
    gradeTarget(
      t[id]!,
      bytes[a] > 0
        ? { value: Math.round(bytes[a]), reason: `${s.keys.toLocaleString('en')} keys, one decision each` }
        : { value: null, reason: notMeasured(a) },
      profile,
    );
  return [
    gradeTarget(
      t['RL-T4']!,
      {
        value: round3(mem.vs.ours / mem.vs.theirs),
        yardstick: {
          name: 'rate-limiter-flexible RateLimiterMemory (fixed window), same keys, same run',
          value: Math.round(mem.vs.theirs),
          unit: 'decisions/s',
        },
        reason: `fixed_window ${Math.round(mem.vs.ours)} vs ${Math.round(mem.vs.theirs)} decisions/s (median of 3 alternating rounds); all algorithms: ${rates}`,
      },
      profile,
    ),
    redis
      ? gradeTarget(
          t['RL-T5']!,
          {
            value: round3(redis.ours / redis.theirs),
            yardstick: {
              name: 'rate-limiter-flexible RateLimiterRedis on the same Redis, 32 callers, same run',
              value: Math.round(redis.theirs),
              unit: 'decisions/s',
            },
            reason: `fixed_window Lua ${Math.round(redis.ours)} vs ${Math.round(redis.theirs)} decisions/s, 32 concurrent callers`,
          },
          profile,
        )
      : gradeTarget(t['RL-T5']!, { value: null, reason: 'needs SDGRADE_REDIS_URL (a real Redis)' }, profile),
    gradeTarget(
      t['RL-T6']!,
      !(bytes.fixed_window > 0 && bytes['rate-limiter-flexible'] > 0)
        ? { value: null, reason: notMeasured(bytes.fixed_window > 0 ? 'rate-limiter-flexible' : 'fixed_window') }
        : {
            value: round3(bytes.fixed_window / bytes['rate-limiter-flexible']),
            yardstick: {
              name: 'rate-limiter-flexible RateLimiterMemory bytes per key',
              value: Math.round(bytes['rate-limiter-flexible']),
              unit: 'bytes',
            },
            reason: `fixed_window ${Math.round(bytes.fixed_window)} vs ${Math.round(bytes['rate-limiter-flexible'])} bytes per key at ${s.keys.toLocaleString('en')} keys`,
          },
      profile,
    ),
    gradeTarget(
      t['RL-T7']!,
      {
        value: Math.round(pct(acc.wronglyAdmitted) * 10_000) / 10_000,
        reason: `${acc.requests.toLocaleString('en')} requests from ${s.sources.toLocaleString('en')} sources over 10 windows: ${pct(acc.wronglyAdmitted).toFixed(4)}% wrongly admitted, ${pct(acc.wronglyLimited).toFixed(4)}% wrongly limited`,
      },
      profile,
    ),
    bytesTarget('RL-T8', 'token_bucket'),
    bytesTarget('RL-T9', 'leaking_bucket'),
    bytesTarget('RL-T10', 'fixed_window'),
    bytesTarget('RL-T11', 'sliding_window_log'),
    bytesTarget('RL-T12', 'sliding_window_counter'),
  ];
};
