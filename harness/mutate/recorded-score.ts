// The Stryker sample score a maintainer measured and checked in (`sdgrade mutate <chapter> --record`), so the spec
// README and the chapter table can show it without re-running a half-hour measurement: specs/<chapter>/mutation-score.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rootDir, specFile } from '../core/paths.ts';
import type { MutateReport } from './run-mutate.ts';
import type { Score } from './score.ts';

export interface RecordedScore {
  chapter: string;
  measuredAt: string;
  /** The commit measured: checks strengthened later make this figure a floor, not the current score. */
  commit: string | null;
  sample: number;
  seed: number;
  files: string[];
  score: Score;
  counts: MutateReport['counts'];
  /** Survivors and mutants whose code no check reached, by key, for the README's list. */
  survivors: string[];
  noCoverage: string[];
  /** The deployment variants graded (absent: only the reference as deployed), each with what its run reaches. */
  variants?: MutateReport['variants'];
  /** For each survivor, the variants it was graded under (all of them passed every check that applies). */
  survivorsGradedUnder?: Record<string, string[]>;
  /** Set when judgments made after the run were applied to its saved results (`--rescore`): when, and how many. */
  rescored?: { at: string; judgedAfterRun: number };
  /** Set when the run's open mutants were graded again with later checks (`--regrade-survivors`). */
  regraded?: { at: string; commit: string | null; mutants: number; killed: number };
}

export function headCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: rootDir,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return null; // not a checkout (an installed package)
  }
}

/** A module as it was at a commit (the run's), or null when git cannot say (not a checkout, an unknown commit). */
export function sourceAt(commit: string, file: string): string | null {
  try {
    return execFileSync('git', ['show', `${commit}:${file}`], {
      cwd: rootDir,
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
  } catch {
    return null;
  }
}

export function recordedScoreFile(slug: string): string {
  return specFile(slug, 'mutation-score.json');
}

export function recordScore(
  slug: string,
  r: MutateReport,
  now = new Date(),
  run?: {
    measuredAt?: string;
    commit?: string;
    rescoredAt?: string;
    regraded?: { at: string; commit: string | null; mutants: number; killed: number };
  },
): string {
  const judgedAfterRun = r.mutants.filter((m) => m.judgedAfterRun).length;
  const rec: RecordedScore = {
    chapter: slug,
    measuredAt: run?.measuredAt ?? now.toISOString().slice(0, 10),
    commit: run?.commit ?? headCommit(),
    sample: r.sample,
    seed: r.seed,
    files: r.files,
    score: r.score,
    counts: r.counts,
    survivors: r.mutants.filter((m) => m.status === 'survived').map((m) => m.key),
    noCoverage: r.mutants.filter((m) => m.status === 'no-coverage').map((m) => m.key),
    ...(r.variants
      ? {
          variants: r.variants,
          survivorsGradedUnder: Object.fromEntries(
            r.mutants.filter((m) => m.status === 'survived').map((m) => [m.key, m.gradedUnder ?? []]),
          ),
        }
      : {}),
    ...(run?.rescoredAt ? { rescored: { at: run.rescoredAt, judgedAfterRun } } : {}),
    ...(run?.regraded ? { regraded: run.regraded } : {}),
  };
  const f = recordedScoreFile(slug);
  writeFileSync(f, `${JSON.stringify(rec, null, 2)}\n`);
  return f;
}

export function readRecordedScore(slug: string): RecordedScore | null {
  const f = recordedScoreFile(slug);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RecordedScore) : null;
}
