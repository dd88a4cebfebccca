// The run's exit code and targets beyond this machine: not a failure, unless --strict.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadFixture } from '../report/test-support.ts';
import { finishRun } from './finish-run.ts';

let dir: string;
beforeAll(async () => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  dir = await mkdtemp(join(tmpdir(), 'sdgrade-finish-'));
});
afterAll(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** The sample run with every check passing and one target beyond this machine. */
function beyondRun() {
  const run = loadFixture('sample-run');
  const c = run.chapters[0]!;
  c.checks = c.checks.filter((x) => x.status === 'pass');
  c.targets[1]!.verdict = 'beyond-machine';
  c.targets[1]!.reason = 'beyond this machine: the no-op yardstick carried 7000 req/s';
  const { summary: _s, finishedAt: _f, ...rest } = run;
  return rest;
}

describe('finishRun', () => {
  it('does not count a target beyond this machine as a failure', async () => {
    expect(await finishRun(beyondRun(), join(dir, 'a'))).toBe(0);
  });

  it('counts it as one with --strict', async () => {
    expect(await finishRun(beyondRun(), join(dir, 'b'), { strict: true })).toBe(1);
  });

  it('still fails on a missed target', async () => {
    const run = beyondRun();
    run.chapters[0]!.targets[0]!.verdict = 'fail';
    expect(await finishRun(run, join(dir, 'c'))).toBe(1);
  });
});
