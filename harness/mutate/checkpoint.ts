// A sampled run's progress, saved after every graded mutant (results/mutate/<chapter>-seed<S>.partial.json), so that a
// run cut short (a stopped session, a killed process: a 40-mutant sample of 07 takes two hours) is finished with
// `--resume` instead of started again. A saved verdict is reused only when nothing that decided it can have changed:
// the same sample (seed, size, files, variants, runs, real services) and, between the commit it was graded at and now,
// no change to the chapter's reference, its spec, the shared kit, its checks or the shared harness, and none
// uncommitted.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootDir } from '../core/paths.ts';
import type { MutantRecord } from './run-mutate.ts';

/** What must be the same for a saved verdict to stand. */
export interface RunIdentity {
  chapter: string;
  seed: number;
  sample: number;
  files: string[];
  variants: string[];
  runs: number;
  realDeps: boolean;
}

export interface Checkpoint extends RunIdentity {
  /** The commit the saved mutants were graded at (the working tree of `gradingPaths` clean). */
  commit: string;
  /** The day the run began: the measurement's date when it is finished with --resume. */
  measuredAt: string;
  mutants: MutantRecord[];
}

/** Everything a verdict depends on: the code mutated and started, the checks, the kit, the pinned packages. */
export function gradingPaths(chapter: string): string[] {
  // the shared harness, but not the other chapters' checks: a session's work on another chapter keeps a run resumable
  const others = readdirSync(join(rootDir, 'harness', 'chapters'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d\d-/.test(d.name) && d.name !== chapter)
    .map((d) => `:(exclude)harness/chapters/${d.name}`);
  return [
    `reference/${chapter}`,
    'reference/kit',
    'harness',
    ...others,
    `specs/${chapter}`,
    'package-lock.json',
    // survivors judged equivalent meanwhile are applied by the resumed run (a judgment wins over a saved verdict);
    // the recorded score is its output, not an input
    `:(exclude)specs/${chapter}/mutate-equivalent.yaml`,
    `:(exclude)specs/${chapter}/mutation-score.json`,
  ];
}

function git(args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync('git', args, { cwd: rootDir, stdio: ['ignore', 'pipe', 'pipe'] }).toString() };
  } catch {
    return { ok: false, out: '' };
  }
}

/** Why verdicts graded now could not be reused later (uncommitted changes on the grading paths), or null. */
export function uncommittedGradingChanges(chapter: string): string | null {
  const r = git(['status', '--porcelain', '--', ...gradingPaths(chapter)]);
  if (!r.ok) return 'not a git checkout';
  const files = r.out.split('\n').filter(Boolean);
  return files.length ? `uncommitted changes: ${files.map((l) => l.slice(3)).join(', ')}` : null;
}

/** Why a checkpoint's verdicts may not be reused for this run, or null when they may. */
export function whyNotResumable(c: Checkpoint, now: RunIdentity): string | null {
  const same = (k: keyof RunIdentity) => JSON.stringify(c[k]) === JSON.stringify(now[k]);
  for (const k of ['chapter', 'seed', 'sample', 'files', 'variants', 'runs', 'realDeps'] as const)
    if (!same(k)) return `its ${k} was ${JSON.stringify(c[k])}, this run's is ${JSON.stringify(now[k])}`;
  const dirty = uncommittedGradingChanges(now.chapter);
  if (dirty) return dirty;
  const d = git(['diff', '--name-only', c.commit, 'HEAD', '--', ...gradingPaths(now.chapter)]);
  if (!d.ok) return `its commit ${c.commit} is not in this repository`;
  const changed = d.out.split('\n').filter(Boolean);
  if (changed.length)
    return `changed since its commit ${c.commit}: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ` and ${changed.length - 5} more` : ''}`;
  return null;
}

export function checkpointFile(runFile: string): string {
  return runFile.replace(/\.json$/, '.partial.json');
}

export function readCheckpoint(file: string): Checkpoint | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Checkpoint) : null;
}

export function writeCheckpoint(file: string, c: Checkpoint): void {
  // whole-file replace: a kill mid-write leaves the previous checkpoint, never half of one
  writeFileSync(`${file}.tmp`, `${JSON.stringify(c, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removeCheckpoint(file: string): void {
  rmSync(file, { force: true });
}
