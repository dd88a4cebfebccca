// Two runs started in the same second must not share a folder (their nodes' data directories live there).
import { mkdtempSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, it } from 'vitest';
import { newRun, newRunId } from './run-dir.ts';

it('names a run by its second', () => {
  expect(newRunId(new Date('2026-12-07T08:01:02.345Z'))).toBe('2026-12-07_08-01-02');
});

it('gives runs started in the same second folders of their own, latest pointing at the newest', () => {
  const root = mkdtempSync(join(tmpdir(), 'sdgrade-run-dir-'));
  const runs = [newRun(undefined, root), newRun(undefined, root), newRun(undefined, root)];
  expect(new Set(runs.map((r) => r.dir)).size).toBe(3);
  for (const r of runs) expect(basename(r.dir)).toBe(r.runId);
  expect(readlinkSync(join(root, 'latest'))).toBe(join('runs', runs[2]!.runId));
});

it('uses a folder the user names as it is', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sdgrade-run-out-')), 'mine');
  expect(newRun(out).dir).toBe(out);
});
