// The chapter's k6 script against the reference and against mutants: its body checks pass on the reference and catch
// each load-only mutant (reference mutants.ts, LOAD_MUTANTS) and one of the checks' mutants whose failure a PUT's
// read-back shows. One step of a scenario as the capacity search runs it (CAPACITY=get at 100/s, or put at 5/s, for
// 4 s) gives the concurrency the load-only mutants need; the main job grades the failures as SOS-T3. Assertions are
// about right and wrong answers only, never speed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOAD_MUTANTS } from '../../../reference/25-s3-object-storage/mutants.ts';
import { loadManifest } from '../../core/manifest.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { runK6 } from '../../load/k6-runner.ts';
import { findK6 } from '../../tools/k6.ts';
import { timeLimit } from '../grade-test-kit.ts';
import { s3ObjectStorage } from './index.ts';
import { LOAD_SCRIPT, scriptEnv } from './load.ts';

const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-25-load-'));
const manifest = loadManifest(s3ObjectStorage.referenceManifest);

async function step(
  name: string,
  scenario: 'get' | 'put',
  mutant?: string,
): Promise<{ failed: number; passed: number }> {
  const started = await ProcessTarget.start({
    manifest,
    runDir: join(runDir, name),
    embedded: true,
    ...(mutant ? { envOverrides: { MUTANT: mutant } } : {}),
  });
  try {
    const run = await runK6({
      script: LOAD_SCRIPT,
      env: {
        ...scriptEnv(started.nodeUrl(), 'smoke', manifest.settings),
        CAPACITY: scenario,
        RATE: scenario === 'get' ? '100' : '5',
        WARMUP: '1s',
        DURATION: '4s',
      },
      outDir: join(runDir, name, 'k6'),
      k6: (await findK6({ build: false })).path,
      timeoutMs: 180_000,
    });
    return {
      failed: run.summary.checks.reduce((n, c) => n + c.fails, 0),
      passed: run.summary.checks.reduce((n, c) => n + c.passes, 0),
    };
  } finally {
    await started.close();
  }
}

describe('25-s3-object-storage k6 script', () => {
  it(
    'passes every body check on the reference (signed PUTs of the seeds, concurrent GETs of them)',
    async () => {
      const r = await step('reference', 'get');
      expect(r.passed).toBeGreaterThan(0);
      expect(r.failed).toBe(0);
    },
    timeLimit(200_000),
  );

  for (const m of LOAD_MUTANTS) {
    it(
      `catches load-only mutant ${m.name} (${m.breaks}): ${m.description}`,
      async () => {
        const r = await step(m.name, 'get', m.name);
        expect(r.failed, 'body checks failed').toBeGreaterThan(0);
      },
      timeLimit(200_000),
    );
  }

  it(
    "catches ack-before-durable (a PUT answered before its metadata is written) by the PUT's read-back",
    async () => {
      const r = await step('ack-before-durable', 'put', 'ack-before-durable');
      expect(r.failed, 'body checks failed').toBeGreaterThan(0);
    },
    timeLimit(200_000),
  );
});
