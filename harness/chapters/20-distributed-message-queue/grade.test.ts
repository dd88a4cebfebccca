// Grades the chapter 20 reference the way a user grades theirs: by manifest (one embedded broker, every check
// including kill -9 and the torn segment) and by URL (the process-level faults skipped with their reason), then
// every mutant.
import { describe, expect, it } from 'vitest';
import { gradeChapter } from '../../core/grade-chapter.ts';
import { findK6 } from '../../tools/k6.ts';
import {
  describeMutants,
  expectByUrlSkipsProcessFaults,
  expectEveryCheckPassed,
  expectMeasuredRatio,
  expectValidResults,
  gradeByManifest,
  referenceGradeBase,
  timeLimit,
} from '../grade-test-kit.ts';
import { distributedMessageQueue } from './index.ts';

const base = referenceGradeBase(distributedMessageQueue, 10);

describe('20-distributed-message-queue reference', () => {
  it(
    'passes every check by manifest, the faults included',
    async () => {
      const r = await gradeByManifest({ ...base, target: { manifest: distributedMessageQueue.referenceManifest } });
      expectEveryCheckPassed(r, distributedMessageQueue);
      // The faults bit: the torn and the flipped tail were both applied, and the dead consumer's partitions moved
      // once its session (3 s from its last heartbeat) was over.
      const f2 = r.checks.find((c) => c.id === 'MQ-F2')!;
      expect((f2.evidence?.damage as { how: string }[] | undefined)?.map((d) => d.how)).toEqual(['torn', 'flipped']);
      expect(r.checks.find((c) => c.id === 'MQ-F3')!.evidence?.reassignedAfterMs).toBeGreaterThanOrEqual(3000);
      expectValidResults(r);
    },
    timeLimit(240_000),
  );

  it(
    'passes by URL, and reports the process-level faults as skipped (never passed)',
    async () => {
      await expectByUrlSkipsProcessFaults(base, ['MQ-F1', 'MQ-F2']);
    },
    timeLimit(180_000),
  );

  describeMutants(distributedMessageQueue, { numRuns: 10, mutantTimeoutMs: 120_000 });

  it(
    'runs the k6 smoke profile and maps it into valid results with every target',
    async () => {
      const k6 = await findK6({ build: false });
      const r = await gradeChapter({
        ...base,
        target: { manifest: distributedMessageQueue.referenceManifest },
        only: ['MQ-C1'],
        load: 'smoke',
        k6: { path: k6.path, version: k6.version },
      });
      expect(r.load?.scenarios.map((s) => s.name)).toEqual(['batched', 'single', 'fetch']);
      for (const s of r.load!.scenarios) {
        expect(s.rps, s.name).toBeGreaterThan(0);
        expectMeasuredRatio(s.errorRate, s.name);
      }
      const byId = Object.fromEntries(r.targets.map((t) => [t.id, t]));
      expect(Object.keys(byId).sort()).toEqual(distributedMessageQueue.catalog.targets.map((t) => t.id).sort());
      expectMeasuredRatio(byId['MQ-T2']!.value, 'MQ-T2');
      expect(byId['MQ-T1']!.value).toBeGreaterThan(0);
      expect(byId['MQ-T5']!.value).toBeGreaterThan(0);
      expect(byId['MQ-T1']!.atRate?.yardstick?.rps).toBeGreaterThan(0);
      expectValidResults(r, k6.version);
    },
    timeLimit(240_000),
  );
});
