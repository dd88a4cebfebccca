// Where a run writes: results/runs/<run-id>/ (or a folder the user names), and results/latest pointing at it.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { resultsDir } from './paths.ts';

export function newRunId(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

export function makeRunDir(runId: string, outDir?: string): string {
  const dir = outDir ? resolve(outDir) : join(resultsDir, 'runs', runId);
  mkdirSync(dir, { recursive: true });
  if (!outDir) {
    const latest = join(resultsDir, 'latest');
    rmSync(latest, { force: true });
    symlinkSync(relative(resultsDir, dir), latest);
  }
  return dir;
}
