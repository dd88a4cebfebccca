// The chapter's k6 script against the reference and against each load-only mutant (reference mutants.ts,
// LOAD_MUTANTS): its body checks pass on the reference and catch every mutant. One step of GETs as the capacity search
// runs it (CAPACITY=get, 100/s for 4 s) gives the concurrency those mutants need; the main job grades the failures
// as SOS-T3. Assertions are about right and wrong answers only, never speed.
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

async function getStep(name: string, mutant?: string): Promise<{ failed: number; passed: number }> {
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
        CAPACITY: 'get',
        RATE: '100',
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
      const r = await getStep('reference');
      expect(r.passed).toBeGreaterThan(0);
      expect(r.failed).toBe(0);
    },
    timeLimit(200_000),
  );

  for (const m of LOAD_MUTANTS) {
    it(
      `catches load-only mutant ${m.name} (${m.breaks}): ${m.description}`,
      async () => {
        const r = await getStep(m.name, m.name);
        expect(r.failed, 'body checks failed').toBeGreaterThan(0);
      },
      timeLimit(200_000),
    );
  }
});
