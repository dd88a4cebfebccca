// The in-process measurements of one node's storage engine (the book's write and read paths):
//   KV-T9  GET+SET pairs per second against Redis through ioredis on the same machine (needs SDGRADE_REDIS_URL)
//   KV-T10 write amplification: disk bytes (commit log, flushes, compactions) per byte written by clients
//   KV-T11 Bloom filters on read misses: disk block reads per missing-key lookup without filters over with them
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Version } from '../../../reference/07-key-value-store/clock.ts';
import { type EngineOptions, StorageEngine } from '../../../reference/07-key-value-store/storage/engine.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { seededRandom } from './api.ts';

const VALUE = 'v'.repeat(1000);

function version(i: number, value = VALUE): Version {
  return { value, dot: `bench:${i}`, past: { vv: { bench: i - 1 }, dots: [] }, ts: 0 };
}

/** Pairs per second of `pair(i)` over `ms` (after a short warm-up). */
async function pairsPerSecond(ms: number, pair: (i: number) => unknown): Promise<number> {
  let i = 0;
  const warm = performance.now() + Math.min(200, ms / 4);
  while (performance.now() < warm) await pair(i++);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < ms) {
    await pair(i++);
    n++;
  }
  return n / ((performance.now() - started) / 1000);
}

function withEngine<T>(o: Omit<EngineOptions, 'dir'>, fn: (e: StorageEngine) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-07-bench-'));
  const e = new StorageEngine({ dir, ...o });
  try {
    return fn(e);
  } finally {
    e.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchKeyValueStore: BenchRun = async ({ profile, onProgress }) => {
  const t = loadTargets('07-key-value-store');
  const ms = profile === 'full' ? 3000 : 500;
  const keys = profile === 'full' ? 20_000 : 4000;
  const results = [];

  // KV-T9: the engine (one node, in process, commit log written per SET) vs Redis GET/SET through ioredis.
  onProgress(`micro-benchmark: storage engine vs Redis (${profile})`);
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-07-bench-'));
  const engine = new StorageEngine({ dir });
  let counter = 0;
  const ours = await pairsPerSecond(ms, (i) => {
    const key = `k${i % 1000}`;
    engine.apply(key, version(++counter));
    engine.get(key);
  });
  engine.close();
  rmSync(dir, { recursive: true, force: true });
  const url = process.env.SDGRADE_REDIS_URL;
  if (!url) {
    results.push(
      gradeTarget(
        t['KV-T9']!,
        { value: null, reason: `needs SDGRADE_REDIS_URL (engine alone: ${Math.round(ours)} pairs/s)` },
        profile,
      ),
    );
  } else {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const theirs = await pairsPerSecond(ms, async (i) => {
        const key = `sdgrade:07-key-value-store:bench:k${i % 1000}`;
        await redis.set(key, VALUE);
        await redis.get(key);
      });
      const stale = await redis.keys('sdgrade:07-key-value-store:bench:*');
      if (stale.length) await redis.del(...stale);
      results.push(
        gradeTarget(
          t['KV-T9']!,
          {
            value: round3(ours / theirs),
            yardstick: {
              name: 'Redis GET+SET through ioredis, one at a time, same machine',
              value: Math.round(theirs),
              unit: 'pairs/s',
            },
            reason: `engine ${Math.round(ours)} pairs/s vs Redis ${Math.round(theirs)} pairs/s`,
          },
          profile,
        ),
      );
    } finally {
      redis.disconnect();
    }
  }

  // KV-T10: a skewed update stream through a small memtable, so flushes and compactions happen.
  const rnd = seededRandom(7);
  const amp = withEngine({ memtableBytes: 256 * 1024, maxTables: 4 }, (e) => {
    for (let i = 1; i <= keys * 2; i++) {
      const k = Math.floor(rnd() ** 2 * keys);
      e.apply(`user${k}`, version(i));
    }
    return { wa: e.writeAmplification(), s: e.engineStats() };
  });
  results.push(
    gradeTarget(
      t['KV-T10']!,
      {
        value: round3(amp.wa),
        reason: `${keys * 2} updates of 1 KB over ${keys} keys: ${amp.s.flushes} flushes, ${amp.s.compactions} compactions, ${amp.s.sstables} SSTables left`,
      },
      profile,
    ),
  );

  // KV-T11: the same four SSTables with and without their Bloom filters; lookups of keys that are not there.
  const misses = (bloom: boolean) =>
    withEngine({ memtableBytes: 1 << 30, maxTables: 100, bloom }, (e) => {
      for (let table = 0; table < 4; table++) {
        for (let i = 0; i < keys / 4; i++) e.apply(`user${table}-${i}`, version(table * keys + i + 1));
        e.flush([]);
      }
      const before = { ...e.engineStats() };
      const started = performance.now();
      for (let i = 0; i < keys; i++) e.get(`user${i % 4}-${i}-missing`);
      const elapsed = performance.now() - started;
      const s = e.engineStats();
      return { reads: s.blockReads - before.blockReads, usPerMiss: (elapsed * 1000) / keys };
    });
  const without = misses(false);
  const withBloom = misses(true);
  results.push(
    gradeTarget(
      t['KV-T11']!,
      {
        value: round3(without.reads / Math.max(1, withBloom.reads)),
        reason:
          `${keys} missing-key lookups over 4 SSTables: ${without.reads} block reads without filters ` +
          `(${without.usPerMiss.toFixed(1)} us each), ${withBloom.reads} with (${withBloom.usPerMiss.toFixed(1)} us each)`,
      },
      profile,
    ),
  );
  return results;
};
