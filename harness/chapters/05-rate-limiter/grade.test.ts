// Grades the chapter 05 reference the way a user grades theirs: by manifest and by URL, with every algorithm behind
// ALGORITHM=, then every mutant.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradeChapter } from '../../core/grade-chapter.ts';
import { loadManifest } from '../../core/manifest.ts';
import type { NetworkFaults } from '../../core/network-faults.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { startNetworkFaults } from '../../faults/network-faults-toxiproxy.ts';
import { findK6 } from '../../tools/k6.ts';
import { findToxiproxy } from '../../tools/toxiproxy.ts';
import {
  describeMutants,
  describeVariants,
  expectEveryCheckPassed,
  expectEveryTarget,
  expectMeasuredRatio,
  expectValidResults,
  failures,
  gradeByManifest,
  skipForSpeed,
  skippedForSpeed,
  timeLimit,
} from '../grade-test-kit.ts';
import { useOwnRedisDatabase } from '../own-redis-database.ts';
import { notTodayReason, rotation } from '../rotation.ts';
import { counterVsExactWindow } from './accuracy.ts';
import { againstDefinition } from './decisions-against-definition.ts';
import { rateLimiter } from './index.ts';
import { overAdmission } from './over-admission.ts';

useOwnRedisDatabase('05-rate-limiter'); // a database of this file's own (own-redis-database.ts)
const realRedis = Boolean(process.env.SDGRADE_REDIS_URL);
let network: NetworkFaults;

beforeAll(async () => {
  network = await startNetworkFaults((await findToxiproxy({ build: false })).path);
});
afterAll(async () => {
  await network?.close();
});

const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-05-test-'));
const base = { module: rateLimiter, runDir, runSeed: 42, numRuns: 6, load: null, onProgress: () => {} } as const;

describe('05-rate-limiter reference', () => {
  it(
    'passes every check by manifest in memory (token bucket); the shared-store checks are skipped with the reason',
    async (t) => {
      const r = await gradeByManifest({
        ...base,
        target: { manifest: rateLimiter.referenceManifest },
        network,
        embedded: true,
      });
      expect(failures(r)).toEqual([]);
      for (const id of ['RL-I5', 'RL-F1', 'RL-F2', 'RL-F3']) {
        const c = r.checks.find((x) => x.id === id)!;
        expect(c.status, id).toBe('skipped');
        expect(c.reason, id).toMatch(/redis/);
      }
      const slow = skippedForSpeed(r, rateLimiter);
      expect(r.checks.filter((c) => c.status === 'pass').length).toBe(
        rateLimiter.catalog.checks.length - 4 - slow.length,
      );
      expectValidResults(r);
      if (slow.length) skipForSpeed(t, `every other check as expected; too slow a machine for ${slow.join('; ')}`);
    },
    timeLimit(60_000),
  );

  it.runIf(realRedis || process.env.CI)(
    'passes every check by manifest on a real Redis shared by two instances (CI)',
    async (t) => {
      expect(realRedis, 'CI must set SDGRADE_REDIS_URL (scripts/services.sh)').toBe(true);
      const r = await gradeByManifest({ ...base, target: { manifest: rateLimiter.referenceManifest }, network });
      expect(r.checks.find((c) => c.id === 'RL-I5')?.evidence?.['instances']).toBe(2);
      expectEveryCheckPassed(r, rateLimiter, t);
    },
    timeLimit(60_000),
  );

  it.runIf(realRedis || process.env.CI)(
    'fails closed when configured so: 503 while the store is unreachable or stalled, limiting again once it is back',
    async () => {
      const r = await gradeChapter({
        ...base,
        target: { manifest: rateLimiter.referenceManifest },
        network,
        only: ['RL-F1', 'RL-F3'],
        // The configuration and its declaration: RL-F1/F3 grade 503 only because the target declares it.
        envOverrides: { FAIL_MODE: 'closed' },
        settings: { failMode: 'closed' },
        variant: 'fail-closed',
      });
      expect(failures(r)).toEqual([]);
      const evidence = (id: string) => r.checks.find((c) => c.id === id)?.evidence ?? {};
      expect(evidence('RL-F1')['answersWhileDown']).toEqual([503, 503, 503, 503, 503]);
      expect(evidence('RL-F3')['answersStalledStore']).toEqual([503, 503, 503]);
      expect(evidence('RL-F3')['answersSlowStore']).toEqual([true, true, true, false, false]);
      expect(r.checks.find((c) => c.id === 'RL-F1')?.settings).toEqual({ failMode: 'closed' });
    },
    timeLimit(60_000),
  );

  // Each algorithm on a real Redis (its own Lua script), every check with two instances sharing it: the deployment
  // variants below grade that when Redis is configured (CI). What they then leave out is each algorithm's in-memory
  // store, graded here; without Redis the variants run in memory themselves, so this would repeat them. Under CI's
  // daily rotation one algorithm a day (~27 s each; four parts, four algorithms): the store is the same Map for all.
  const algorithms = ['leaking_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter'];
  const rot = rotation();
  for (const [i, algorithm] of algorithms.entries()) {
    it.runIf(realRedis)(
      `keeps admissions within the ${algorithm} definition in memory and honours its Retry-After`,
      async (t) => {
        if (i % rot.parts !== rot.part) t.skip(notTodayReason(rot));
        const r = await gradeChapter({
          ...base,
          numRuns: 2,
          target: { manifest: rateLimiter.referenceManifest },
          network: null,
          embedded: true,
          only: ['RL-I1', 'RL-I2'],
          envOverrides: { ALGORITHM: algorithm },
          variant: algorithm,
        });
        expect(failures(r)).toEqual([]);
        expect(r.checks.find((c) => c.id === 'RL-I1')?.evidence?.['algorithm']).toBe(algorithm);
      },
      timeLimit(60_000),
    );
  }

  it(
    'passes by URL',
    async () => {
      const started = await ProcessTarget.start({
        manifest: loadManifest(rateLimiter.referenceManifest),
        runDir: join(runDir, 'by-url'),
        embedded: true,
      });
      try {
        const r = await gradeChapter({
          ...base,
          target: { url: started.baseUrl },
          network: null,
          only: ['RL-C1', 'RL-C3'],
        });
        expect(failures(r)).toEqual([]);
      } finally {
        await started.close();
      }
    },
    timeLimit(60_000),
  );

  it(
    'runs the k6 smoke profile and the micro-benchmark, and maps them into valid results with every target',
    async () => {
      const k6 = await findK6({ build: false });
      const r = await gradeChapter({
        ...base,
        target: { manifest: rateLimiter.referenceManifest },
        network,
        embedded: true,
        only: ['RL-C1'],
        load: 'smoke',
        bench: true,
        k6: { path: k6.path, version: k6.version },
      });
      expect(r.load?.scenarios.map((s) => s.name)).toEqual(['limited', 'passthrough']);
      for (const s of r.load!.scenarios) {
        expect(s.rps).toBeGreaterThan(0);
        expectMeasuredRatio(s.errorRate, s.name);
      }
      const byId = expectEveryTarget(r, rateLimiter);
      expectMeasuredRatio(byId['RL-T2']!.value, 'RL-T2');
      expect(byId['RL-T1']!.yardstick?.value).toBeGreaterThan(0);
      expect(byId['RL-T3']!.yardstick?.value).toBeGreaterThan(0);
      // Capacity per node within RL-T1, searched side by side with the no-op server; the book gives no rate.
      expect(r.load?.capacity?.map((c) => [c.target, c.latency.id, c.bookRate, c.nodesNeeded])).toEqual([
        ['RL-T1', 'RL-T1', 0, null],
      ]);
      for (const c of r.load!.capacity!) expect(c.steps?.length && c.yardstickSteps?.length).toBeGreaterThan(0);
      // The micro-benchmark's ratios against rate-limiter-flexible, measured (their verdicts are the main job's).
      for (const id of ['RL-T4', 'RL-T6']) expect(byId[id]!.ratio, id).toBeGreaterThan(0);
      if (realRedis) expect(byId['RL-T5']!.ratio).toBeGreaterThan(0);
      else expect(byId['RL-T5']!.verdict).toBe('skipped');
      for (const id of ['RL-T8', 'RL-T9', 'RL-T10', 'RL-T11', 'RL-T12']) expect(byId[id]!.value, id).toBeGreaterThan(0);
      expect(byId['RL-T7']!.value).toBeGreaterThanOrEqual(0);
      expectValidResults(r, k6.version);
    },
    timeLimit(150_000),
  );

  // Every algorithm (in memory here, on Redis in CI) and fail-closed (CI): every check that applies passes.
  describeVariants(rateLimiter, {
    base: {
      ...base,
      get network() {
        return network;
      },
      embedded: !realRedis,
    },
    timeoutMs: 120_000,
    // With Redis, each algorithm's Lua script must hold one limit across the two instances (RL-I5).
    mustPass: realRedis ? ['RL-I1', 'RL-I2', 'RL-I5'] : ['RL-I1', 'RL-I2'],
  });

  // Failure messages name the cause: fail-open answers, or counters each instance keeps on its own.
  describeMutants(rateLimiter, {
    numRuns: 4,
    allowSkipped: !realRedis,
    mutantTimeoutMs: 60_000,
    ...(realRedis
      ? {
          reasons: {
            'stale-script-sha': /fail-open answers/,
            'instance-namespace': /counters are not shared/,
            'log-member-without-pid': /were admitted \d+ times: the shared limit/,
          },
        }
      : {}),
  });
});

describe('05-rate-limiter accuracy measure (RL-T7)', () => {
  const limit = { limit: 10, windowMs: 1000 };
  it('finds no wrong decision when every source stays far below its limit', () => {
    // About 1 source in 100 goes over its limit; seed 3's 40 sources all stay below it, so the counter and the
    // exact window must agree on every request: any disagreement would be the measure's own error.
    const r = counterVsExactWindow({ sources: 40, windows: 5, limit: { limit: 1000, windowMs: 1000 }, seed: 3 });
    expect(r.requests).toBeGreaterThan(1000);
    expect(r).toMatchObject({ wronglyAdmitted: 0, wronglyLimited: 0 });
  });
  it('finds wrong admissions on traffic over the limit, and replays exactly from its seed', () => {
    const a = counterVsExactWindow({ sources: 400, windows: 10, limit, seed: 9 });
    expect(a.wronglyAdmitted).toBeGreaterThan(0);
    expect(counterVsExactWindow({ sources: 400, windows: 10, limit, seed: 9 })).toEqual(a);
  });
});

describe('05-rate-limiter model', () => {
  const t = (sentAt: number, allowed: boolean) => ({
    x: {} as never,
    d: { allowed, limit: 2, remaining: 0, retryAfterMs: 0, unit: 'second' as const },
    sentAt,
    doneAt: sentAt + 5,
  });
  it('bounds a token bucket by limit plus refill over the span', () => {
    expect(overAdmission('token_bucket', 2, [t(0, true), t(1, true), t(2, true)])).toMatch(/3 admitted/);
    expect(overAdmission('token_bucket', 2, [t(0, true), t(1, true), t(600, true)])).toBeNull();
  });
  it('bounds a fixed window per aligned window, not across a boundary', () => {
    expect(overAdmission('fixed_window', 2, [t(990, true), t(991, true), t(1000, true), t(1001, true)])).toBeNull();
    expect(overAdmission('fixed_window', 2, [t(1000, true), t(1001, true), t(1500, true)])).toMatch(/3 admitted/);
  });
  it('bounds a sliding log in any span shorter than the window', () => {
    expect(overAdmission('sliding_window_log', 2, [t(990, true), t(991, true), t(1000, true)])).toMatch(/3 admitted/);
    expect(overAdmission('sliding_window_log', 2, [t(0, true), t(1, true), t(1001, true)])).toBeNull();
  });
  it('finds refusals the window definitions surely admit, and sliding-log admissions over a log of refusals', () => {
    // Window 0 used up from 600 ms; at 1050 ms a new aligned window admits (one from the first hit would refuse).
    const used = [t(600, true), t(601, true), t(602, false)];
    expect(againstDefinition('fixed_window', 2, [...used, t(1050, false)])).toMatch(/at most 0 admissions/);
    expect(againstDefinition('fixed_window', 2, [...used, t(1050, true), t(1051, true), t(1052, false)])).toBeNull();
    expect(againstDefinition('fixed_window', 2, [...used, t(995, false)])).toBeNull(); // may be decided in window 0
    // The counter: window 0 full early, at 1300 ms its weight is floor(2 * 0.7) = 1, so one more is admitted.
    const early = [t(50, true), t(51, true)];
    expect(againstDefinition('sliding_window_counter', 2, [...early, t(1300, false)])).toMatch(/estimate is at most 1/);
    expect(againstDefinition('sliding_window_counter', 2, [...early, t(1300, true), t(1310, false)])).toBeNull();
    // The log keeps refused requests: admitted at 0, refused at 600, so at 1300 the refusals still fill it.
    const log = [t(0, true), t(1, true), t(600, false), t(601, false)];
    expect(againstDefinition('sliding_window_log', 2, [...log, t(1300, true)])).toMatch(/2 of them refused/);
    expect(againstDefinition('sliding_window_log', 2, [...log, t(1300, false)])).toBeNull();
    expect(againstDefinition('sliding_window_log', 2, [t(0, true), t(1, true), t(1300, false)])).toMatch(/log admits/);
    expect(againstDefinition('token_bucket', 2, [t(0, false)])).toBeNull(); // may have been empty
    const spentUp = [t(0, true), t(1, true), t(2, false)];
    expect(againstDefinition('token_bucket', 2, [...spentUp, t(400, false)])).toBeNull(); // 0.8 token earned
    expect(againstDefinition('token_bucket', 2, [...spentUp, t(600, false)])).toMatch(/earned 1\.\d+ tokens/);
    expect(againstDefinition('leaking_bucket', 2, [...spentUp, t(600, true), t(601, false)])).toBeNull();
    expect(againstDefinition('leaking_bucket', 2, [...spentUp, t(1600, false)])).toMatch(/earned 2\.00 tokens/);
  });
  it("bounds the sliding counter also by the previous window's weight", () => {
    // 4 in window 0, then at 5% of window 1 the estimate is floor(4 * 0.95) = 3: one more, not four.
    const full = [t(700, true), t(701, true), t(702, true), t(703, true)];
    expect(overAdmission('sliding_window_counter', 4, [...full, t(1050, true)])).toBeNull();
    expect(overAdmission('sliding_window_counter', 4, [...full, t(1050, true), t(1051, true)])).toMatch(
      /2 admitted 56 ms into the window after one with 4 admitted/,
    );
    // at 80% of window 1 the previous window weighs floor(4 * 0.2) = 0: four again
    expect(
      overAdmission('sliding_window_counter', 4, [...full, ...[1800, 1801, 1802, 1803].map((x) => t(x, true))]),
    ).toBeNull();
  });
});
