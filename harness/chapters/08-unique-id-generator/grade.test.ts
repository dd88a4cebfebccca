// Grades the chapter 08 reference the way a user grades theirs: by manifest (three nodes) and by URL, then every
// mutant, a cluster misconfigured with one machine ID twice, the k6 smoke profile and the micro-benchmark.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeChapter } from '../../core/grade-chapter.ts';
import { loadManifest } from '../../core/manifest.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { findK6 } from '../../tools/k6.ts';
import {
  describeMutants,
  describeVariants,
  expectMeasuredRatio,
  expectValidResults,
  failures,
  gradeByManifest,
  timeLimit,
} from '../grade-test-kit.ts';
import { uniqueIdGenerator } from './index.ts';

const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-08-test-'));
const base = {
  module: uniqueIdGenerator,
  runDir,
  runSeed: 42,
  numRuns: 20,
  load: null,
  network: null,
  onProgress: () => {},
} as const;

describe('08-unique-id-generator reference', () => {
  it(
    'passes every check by manifest, three nodes',
    async () => {
      const r = await gradeByManifest({ ...base, target: { manifest: uniqueIdGenerator.referenceManifest } });
      expect(failures(r)).toEqual([]);
      // UID-F4 grades the ticket server's database: the default (Snowflake) nodes have none (the ticket variant below).
      expect(r.checks.filter((c) => c.id !== 'UID-F4').every((c) => c.status === 'pass')).toBe(true);
      const f4 = r.checks.find((c) => c.id === 'UID-F4')!;
      expect(f4.status).toBe('skipped');
      expect(f4.reason).toMatch(/snowflake IDs: there is no ticket server's database|needs the real database/);
      const f1 = r.checks.find((c) => c.id === 'UID-F1')!;
      expect(f1.evidence?.refusals, 'the clock step must bite').toBeGreaterThan(0);
      const f5 = r.checks.find((c) => c.id === 'UID-F5')!;
      expect(f5.evidence?.idsInHeldMillisecond, 'the clock hold must reach the node').toBeGreaterThanOrEqual(200);
      expect(r.checks.find((c) => c.id === 'UID-F3')!.evidence?.nodeIds).toBeTruthy();
    },
    timeLimit(150_000),
  );

  it(
    'passes by URL, and reports the process-level faults and the cluster check as skipped (never passed)',
    async () => {
      const started = await ProcessTarget.start({
        manifest: loadManifest(uniqueIdGenerator.referenceManifest),
        runDir: join(runDir, 'by-url'),
        embedded: true,
      });
      try {
        const r = await gradeChapter({ ...base, numRuns: 10, target: { url: started.baseUrl } });
        expect(failures(r)).toEqual([]);
        for (const id of ['UID-F1', 'UID-F2', 'UID-F5']) {
          const c = r.checks.find((x) => x.id === id)!;
          expect(c.status, id).toBe('skipped');
          expect(c.reason, id).toMatch(/manifest/);
        }
        const f3 = r.checks.find((x) => x.id === 'UID-F3')!;
        expect(f3.status).toBe('skipped');
        expect(f3.reason).toMatch(/two or more nodes/);
      } finally {
        await started.close();
      }
    },
    timeLimit(150_000),
  );

  it(
    'reports two nodes misconfigured with the same machine ID (the uniqueness check has teeth)',
    async () => {
      const manifest = JSON.parse(readFileSync(uniqueIdGenerator.referenceManifest, 'utf8'));
      manifest.cwd = resolve(dirname(uniqueIdGenerator.referenceManifest), manifest.cwd);
      manifest.nodes[1].env.MACHINE_ID = manifest.nodes[0].env.MACHINE_ID;
      manifest.nodes[1].env.DATACENTER_ID = manifest.nodes[0].env.DATACENTER_ID;
      delete manifest.$schema;
      const file = join(runDir, 'same-machine-id.json');
      writeFileSync(file, JSON.stringify(manifest));
      const r = await gradeChapter({ ...base, target: { manifest: file }, only: ['UID-F3'] });
      const f3 = r.checks.find((c) => c.id === 'UID-F3')!;
      expect(f3.status).toBe('fail');
      expect(f3.reason).toMatch(/nodes n1 and n2 share datacenter\/machine 1\/1/);
    },
    timeLimit(60_000),
  );

  // GENERATOR=ticket on the real PostgreSQL (CI): every check that applies passes, UID-F4's crash included.
  describeVariants(uniqueIdGenerator, { base, timeoutMs: 240_000, mustPass: ['UID-F4'] });

  // The ticket server's mutants need a real PostgreSQL (SDGRADE_DATABASE_URL): reported skipped without one.
  describeMutants(uniqueIdGenerator, {
    numRuns: 20,
    mutantTimeoutMs: 60_000,
    allowSkipped: !process.env['SDGRADE_DATABASE_URL'],
  });

  it(
    'runs the k6 smoke profile and maps it into valid results with every target',
    async () => {
      const k6 = await findK6({ build: false });
      const r = await gradeChapter({
        ...base,
        target: { manifest: uniqueIdGenerator.referenceManifest },
        only: ['UID-C4'],
        load: 'smoke',
        bench: true,
        k6: { path: k6.path, version: k6.version },
      });
      expect(r.load?.scenarios.map((s) => s.name)).toEqual(['single', 'batch']);
      for (const s of r.load!.scenarios) {
        expect(s.rps).toBeGreaterThan(0);
        expectMeasuredRatio(s.errorRate, s.name);
      }
      const byId = Object.fromEntries(r.targets.map((t) => [t.id, t]));
      expect(Object.keys(byId).sort()).toEqual(uniqueIdGenerator.catalog.targets.map((t) => t.id).sort());
      expectMeasuredRatio(byId['UID-T2']!.value, 'UID-T2');
      expect(byId['UID-T4']!.yardstick?.value).toBeGreaterThan(0);
      expect(byId['UID-T4']!.value).toBeGreaterThan(0);
      expect(byId['UID-T1']!.atRate?.yardstick?.rps).toBeGreaterThan(0);
      expect(r.load?.capacity?.map((c) => [c.target, c.latency.id, c.unit])).toEqual([['UID-T1', 'UID-T3', 'IDs/s']]);
      expectValidResults(r, k6.version);
    },
    timeLimit(240_000),
  );
});

describe('08-unique-id-generator micro-benchmark', () => {
  it(
    'measures the generator against the limit, the npm packages and UUIDv7 in one process, as ratios',
    async () => {
      const { benchIdGenerator } = await import('./bench.ts');
      const results = await benchIdGenerator({ profile: 'smoke', onProgress: () => {} });
      const byId = Object.fromEntries(results.map((t) => [t.id, t]));
      expect(byId['UID-T5']!.yardstick?.value).toBe(4_096_000);
      // The generator can never beat the layout's limit: it waits once a millisecond's 4,096 are used.
      expect(byId['UID-T5']!.value).toBeLessThanOrEqual(1.01);
      expect(byId['UID-T5']!.value).toBeGreaterThan(0);
      for (const id of ['UID-T6', 'UID-T7', 'UID-T8']) expect(byId[id]!.ratio, id).toBeGreaterThan(0);
      if (process.env.SDGRADE_DATABASE_URL) expect(byId['UID-T9']!.ratio).toBeGreaterThan(0);
      else expect(byId['UID-T9']!.verdict).toBe('skipped');
    },
    timeLimit(30_000),
  );
});
