// Grades the chapter 25 reference the way a user grades theirs: by manifest (one embedded node, every check
// including kill -9 and the bit flip) and by URL (the process-level faults skipped with their reason), then every
// mutant. No load test yet (see the spec README's "Not yet").
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeChapter } from '../../core/grade-chapter.ts';
import { loadManifest } from '../../core/manifest.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { describeMutants, expectValidResults, failures, gradeByManifest, timeLimit } from '../grade-test-kit.ts';
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
      expect(r.checks.every((c) => c.status === 'pass')).toBe(true);
      expect(r.checks.length).toBe(s3ObjectStorage.catalog.checks.length);
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
      expect(r.checks.every((c) => c.status === 'pass')).toBe(true);
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
        const processFaults = ['SOS-F1', 'SOS-F2', 'SOS-F3'];
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

  describeMutants(s3ObjectStorage, { numRuns: 10, mutantTimeoutMs: 120_000 });
});
