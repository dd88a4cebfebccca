// Grades the chapter 09 reference the way a user grades theirs: by manifest and by URL, on embedded defaults and on
// real PostgreSQL and Redis, then every mutant, then the k6 smoke profile.
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
  expectEveryTarget,
  expectMeasuredRatio,
  expectValidResults,
  failures,
  gradeByManifest,
  timeLimit,
} from '../grade-test-kit.ts';
import { useOwnRedisDatabase } from '../own-redis-database.ts';
import { urlShortener } from './index.ts';

useOwnRedisDatabase('09-url-shortener'); // a database of this file's own (own-redis-database.ts)
const realServices = Boolean(process.env.SDGRADE_DATABASE_URL && process.env.SDGRADE_REDIS_URL);
const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-09-test-'));
let network: NetworkFaults;

beforeAll(async () => {
  network = await startNetworkFaults((await findToxiproxy({ build: false })).path);
});
afterAll(async () => {
  await network?.close();
});

const base = { module: urlShortener, runDir, runSeed: 42, numRuns: 20, load: null, onProgress: () => {} } as const;

describe('09-url-shortener reference', () => {
  it(
    'passes every check by manifest on embedded defaults; the Redis and database faults are skipped with their reasons',
    async () => {
      const r = await gradeByManifest({
        ...base,
        target: { manifest: urlShortener.referenceManifest },
        network,
        embedded: true,
      });
      expect(failures(r)).toEqual([]);
      const f3 = r.checks.find((c) => c.id === 'URL-F3')!;
      expect(f3.status).toBe('skipped');
      expect(f3.reason).toMatch(/redis/);
      const f5 = r.checks.find((c) => c.id === 'URL-F5')!;
      expect(f5.status).toBe('skipped');
      expect(f5.reason).toMatch(/database/);
      const f6 = r.checks.find((c) => c.id === 'URL-F6')!;
      expect(f6.status).toBe('skipped');
      expect(f6.reason).toMatch(/database|redis/i);
      expect(r.checks.filter((c) => c.status === 'pass').length).toBe(urlShortener.catalog.checks.length - 3);
    },
    timeLimit(120_000),
  );

  it.runIf(realServices || process.env.CI)(
    'passes every check by manifest on real PostgreSQL and Redis (CI)',
    async () => {
      expect(realServices, 'CI must set SDGRADE_DATABASE_URL and SDGRADE_REDIS_URL (scripts/services.sh)').toBe(true);
      const r = await gradeChapter({ ...base, target: { manifest: urlShortener.referenceManifest }, network });
      expect(failures(r)).toEqual([]);
      expect(r.checks.every((c) => c.status === 'pass')).toBe(true);
      const f3 = r.checks.find((c) => c.id === 'URL-F3')!;
      expect((f3.evidence?.healthWhileDown as { dependencies?: { cache?: string } })?.dependencies?.cache).toBe('down');
      const f5 = r.checks.find((c) => c.id === 'URL-F5')!;
      expect((f5.evidence?.statusesWhileDown as { shorten?: number[] })?.shorten).toEqual([503, 503, 503]);
    },
    timeLimit(120_000),
  );

  it(
    'passes by URL, and reports the process-level faults as skipped (never passed)',
    async () => {
      const started = await ProcessTarget.start({
        manifest: loadManifest(urlShortener.referenceManifest),
        runDir: join(runDir, 'by-url'),
        embedded: true,
      });
      try {
        const r = await gradeChapter({ ...base, target: { url: started.baseUrl }, network });
        expect(failures(r)).toEqual([]);
        for (const id of ['URL-F1', 'URL-F3', 'URL-F4', 'URL-F5']) {
          const c = r.checks.find((x) => x.id === id)!;
          expect(c.status, id).toBe('skipped');
          expect(c.reason, id).toMatch(/manifest/);
        }
        expect(r.checks.find((c) => c.id === 'URL-F2')!.status).toBe('pass');
      } finally {
        await started.close();
      }
    },
    timeLimit(120_000),
  );

  // embedded (SQLite and the in-process cache) and no-cache: every check that applies passes.
  describeVariants(urlShortener, {
    base: {
      ...base,
      get network() {
        return network;
      },
      embedded: !realServices,
    },
    timeoutMs: 180_000,
  });

  // The mutants that live on the real services fail for their own cause, not for something the machine did.
  describeMutants(urlShortener, {
    numRuns: 25,
    allowSkipped: !realServices,
    mutantTimeoutMs: 60_000,
    reasons: {
      'cache-required': /answered 503|answer 503/,
      'cache-keys-without-instance': /the cache answered a code of another database/,
      'redis-waits-forever': /a hung cache holds up redirects/,
      'cache-health-inverted': /health\/ready never went .* without a dependency down .*"cache":"down"/,
      'db-errors-500': /answered 500/,
      'unavailable-without-retry-after': /without a Retry-After/,
      'clicks-dropped-on-db-error': /clicks counted more than a second before the database went away/,
      'clicks-read-during-flush': /clicks counted more than a second before the database went away/,
      'click-batch-readded': /clicks counted twice, a write retried after it had landed/,
      'click-retry-carries-newer': /redirects served while it was away.*fewer than counted/,
      'click-batch-split': /clicks counted twice, a write retried after it had landed/,
    },
  });

  it(
    'runs the k6 smoke profile and maps it into valid results with every target',
    async () => {
      const k6 = await findK6({ build: false });
      const r = await gradeChapter({
        ...base,
        target: { manifest: urlShortener.referenceManifest },
        network,
        embedded: true,
        only: ['URL-C4'],
        load: 'smoke',
        bench: true,
        k6: { path: k6.path, version: k6.version },
      });
      expect(r.load?.scenarios.map((s) => s.name)).toEqual(['shorten', 'redirect']);
      for (const s of r.load!.scenarios) {
        expect(s.rps).toBeGreaterThan(0);
        expectMeasuredRatio(s.errorRate, s.name);
      }
      const byId = expectEveryTarget(r, urlShortener);
      expectMeasuredRatio(byId['URL-T3']!.value, 'URL-T3');
      expect(byId['URL-T6']!.yardstick?.value).toBeGreaterThan(0);
      expect(byId['URL-T7']!.value).toBeGreaterThan(0);
      // The rate targets know the offered rate and what the no-op yardstick did at it, same run.
      expect(byId['URL-T1']!.atRate?.offeredRps).toBeGreaterThan(0);
      expect(byId['URL-T1']!.atRate?.yardstick?.rps).toBeGreaterThan(0);
      // Capacity per node for both of the book's rates, each within its latency target.
      expect(r.load?.capacity?.map((c) => [c.target, c.latency.id])).toEqual([
        ['URL-T2', 'URL-T4'],
        ['URL-T1', 'URL-T5'],
      ]);
      for (const c of r.load!.capacity!) expect(c.steps?.length).toBeGreaterThan(0);
      expectValidResults(r, k6.version);
    },
    timeLimit(300_000),
  );
});

describe('09-url-shortener micro-benchmark', () => {
  it(
    'measures the base62 codec against base-x in one process and reports the ratio (graded by the main job)',
    async () => {
      const { benchUrlShortener } = await import('./bench.ts');
      const [t8] = await benchUrlShortener({ profile: 'smoke', onProgress: () => {} });
      expect(t8!.id).toBe('URL-T8');
      expect(t8!.yardstick?.value).toBeGreaterThan(0);
      expect(t8!.ratio).toBeGreaterThan(0);
    },
    timeLimit(30_000),
  );
});
