// Grades the chapter 25 reference the way a user grades theirs: by manifest (one embedded node, every check
// including kill -9 and the bit flip) and by URL (the process-level faults skipped with their reason), then every
// mutant, then the k6 smoke load mapped into its targets (load.test.ts shows the script's checks catching the
// load-only mutants).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeChapter } from '../../core/grade-chapter.ts';
import { loadManifest } from '../../core/manifest.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { findK6 } from '../../tools/k6.ts';
import {
  describeMutants,
  describeVariants,
  expectEveryTarget,
  expectMeasuredRatio,
  expectValidResults,
  failures,
  gradeByManifest,
  skipReasons,
  statusLines,
  timeLimit,
} from '../grade-test-kit.ts';
import { s3ObjectStorage } from './index.ts';

const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-25-test-'));
const base = {
  module: s3ObjectStorage,
  runDir,
  runSeed: 42,
  numRuns: 10,
  load: null,
  network: null,
  onProgress: () => {},
} as const;
const manifest = loadManifest(s3ObjectStorage.referenceManifest);
const realDatabase = Boolean(process.env.SDGRADE_DATABASE_URL);
/** Checks the default manifest skips: SOS-F5 without PostgreSQL, SOS-F6 on one node (the cluster variant's). */
const onlyElsewhere = ['SOS-F5', 'SOS-F6'];

describe('25-s3-object-storage reference', () => {
  it(
    'passes every check by manifest on the embedded stores, the faults included',
    async () => {
      const r = await gradeByManifest({
        ...base,
        target: { manifest: s3ObjectStorage.referenceManifest },
        embedded: true,
      });
      expect(failures(r)).toEqual([]);
      // SOS-F5 holds PostgreSQL's commits and answers at the wire: skipped with the reason, never passed, without it.
      // SOS-F6 kills a data node of a cluster: not applicable to one node (the cluster variant grades it, below).
      expect(statusLines(r), skipReasons(r)).toEqual(
        s3ObjectStorage.catalog.checks.map((c) => `${c.id} ${onlyElsewhere.includes(c.id) ? 'skipped' : 'pass'}`),
      );
      expect(r.checks.find((c) => c.id === 'SOS-F5')?.reason).toMatch(/database/);
      expect(r.checks.find((c) => c.id === 'SOS-F6')?.reason).toMatch(/^not applicable to a target of one node/);
      // The bit flip was applied inside the object's bytes, in one of the reference's data files.
      const f2 = r.checks.find((c) => c.id === 'SOS-F2')!;
      expect((f2.evidence?.flipped as { file: string } | undefined)?.file).toMatch(/^data\/\d{6}\.dat$/);
      expectValidResults(r);
    },
    timeLimit(240_000),
  );

  it.runIf(realDatabase || process.env.CI)(
    'passes every check by manifest with its metadata in real PostgreSQL (CI)',
    async () => {
      expect(realDatabase, 'CI must set SDGRADE_DATABASE_URL (scripts/services.sh)').toBe(true);
      const r = await gradeChapter({ ...base, target: { manifest: s3ObjectStorage.referenceManifest } });
      expect(failures(r)).toEqual([]);
      expect(r.checks.every((c) => c.status === 'pass' || c.id === 'SOS-F6')).toBe(true);
      expect(r.checks.length).toBe(s3ObjectStorage.catalog.checks.length);
    },
    timeLimit(240_000),
  );

  it(
    'passes by URL, and reports the process-level faults as skipped (never passed)',
    async () => {
      const started = await ProcessTarget.start({ manifest, runDir: join(runDir, 'by-url'), embedded: true });
      try {
        const r = await gradeChapter({ ...base, target: { url: started.baseUrl }, settings: manifest.settings ?? {} });
        expect(failures(r)).toEqual([]);
        const processFaults = ['SOS-F1', 'SOS-F2', 'SOS-F3', 'SOS-F4', 'SOS-F5', 'SOS-F6'];
        for (const id of processFaults) {
          const c = r.checks.find((x) => x.id === id)!;
          expect(c.status, id).toBe('skipped');
          expect(c.reason, id).toMatch(/manifest|process/);
        }
        expect(r.checks.filter((c) => c.status === 'pass').length).toBe(
          s3ObjectStorage.catalog.checks.length - processFaults.length,
        );
      } finally {
        await started.close();
      }
    },
    timeLimit(180_000),
  );

  // The cluster variant (manifest.cluster.json: the API service and three data nodes): SOS-F6, SOS-F2 (a data node's
  // copy damaged) and a conformance smoke every run, the rest of the chapter on it by the daily rotation. The embedded variant is the first test's grade.
  describeVariants(
    { ...s3ObjectStorage, variants: s3ObjectStorage.variants?.filter((v) => v.name === 'cluster') ?? [] },
    { base, timeoutMs: 300_000, mustPass: ['SOS-F6', 'SOS-F2', 'SOS-C1', 'SOS-C3'] },
  );

  // The race mutants (mutants-races.ts) need PostgreSQL (skipped, with the reason, without it).
  describeMutants(s3ObjectStorage, { numRuns: 10, allowSkipped: !realDatabase, mutantTimeoutMs: 120_000 });

  it(
    'runs the k6 smoke profile and the micro-benchmark (metadata in PostgreSQL when SDGRADE_DATABASE_URL is set) and maps it into valid results with every target',
    async () => {
      const k6 = await findK6({ build: false });
      const r = await gradeChapter({
        ...base,
        target: { manifest: s3ObjectStorage.referenceManifest },
        embedded: !realDatabase,
        only: ['SOS-C1'],
        load: 'smoke',
        bench: true,
        k6: { path: k6.path, version: k6.version },
      });
      const why = r.targets.map((t) => `${t.id}: ${t.reason}`).join('\n');
      expect(
        r.load?.scenarios.map((s) => s.name),
        why,
      ).toEqual(['put', 'get', 'list']);
      for (const s of r.load!.scenarios) {
        expect(s.rps, s.name).toBeGreaterThan(0);
        expectMeasuredRatio(s.errorRate, s.name);
      }
      const byId = expectEveryTarget(r, s3ObjectStorage);
      expectMeasuredRatio(byId['SOS-T3']!.value, 'SOS-T3');
      expect(byId['SOS-T1']!.value, why).toBeGreaterThan(0);
      expect(byId['SOS-T2']!.value, why).toBeGreaterThan(0);
      expect(byId['SOS-T5']!.verdict).toBe('info');
      // The micro-benchmark: the disk ratios always measured; SeaweedFS's measured where it is built, else skipped.
      for (const id of ['SOS-T6', 'SOS-T7']) expect(byId[id]!.value, `${id}: ${byId[id]!.reason}`).toBeGreaterThan(0);
      for (const id of ['SOS-T8', 'SOS-T9', 'SOS-T10', 'SOS-T11']) {
        const t = byId[id]!;
        if (t.verdict === 'skipped') expect(t.reason).toMatch(/SeaweedFS/);
        else expect(t.value, `${id}: ${t.reason}`).toBeGreaterThan(0);
      }
      // Capacity per node for PUTs (SOS-T1) and GETs (SOS-T2) within SOS-T4, each beside the no-op server.
      expect(r.load?.capacity?.map((c) => [c.target, c.latency.id])).toEqual([
        ['SOS-T1', 'SOS-T4'],
        ['SOS-T2', 'SOS-T4'],
      ]);
      for (const c of r.load!.capacity!) {
        expect(c.steps?.length, c.label).toBeGreaterThan(0);
        expect(c.yardstickSteps?.length, c.label).toBeGreaterThan(0);
      }
      expectValidResults(r, k6.version);
    },
    timeLimit(400_000),
  );
});
