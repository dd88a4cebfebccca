// Where a run writes: results/runs/<run-id>/ (or a folder the user names), and results/latest pointing at it.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { resultsDir } from './paths.ts';

export function newRunId(now: Date = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

/**
 * A new run's id and folder. Under results/runs the folder is claimed atomically (mkdir without `recursive`), so two
 * runs started in the same second (two shells, two CI jobs) get `<second>` and `<second>-2` instead of sharing one
 * folder and its nodes' data directories; a folder the user names (--out) is used as it is.
 */
export function newRun(outDir?: string, root: string = resultsDir): { runId: string; dir: string } {
  const base = newRunId();
  if (outDir) {
    const dir = resolve(outDir);
    mkdirSync(dir, { recursive: true });
    return { runId: base, dir };
  }
  const runs = join(root, 'runs');
  mkdirSync(runs, { recursive: true });
  for (let n = 1; ; n++) {
    const runId = n === 1 ? base : `${base}-${n}`;
    const dir = join(runs, runId);
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    const latest = join(root, 'latest');
    rmSync(latest, { force: true });
    symlinkSync(relative(root, dir), latest);
    return { runId, dir };
  }
}
