// The Stryker sample score a maintainer measured and checked in (`sdgrade mutate <chapter> --record`), so the spec
// README and the chapter table can show it without re-running a half-hour measurement: specs/<chapter>/mutation-score.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { specFile } from '../core/paths.ts';
import type { MutateReport } from './run-mutate.ts';
import type { Score } from './score.ts';

export interface RecordedScore {
  chapter: string;
  measuredAt: string;
  sample: number;
  seed: number;
  files: string[];
  score: Score;
  counts: MutateReport['counts'];
  /** Survivors by key, for the README's list. */
  survivors: string[];
}

export function recordedScoreFile(slug: string): string {
  return specFile(slug, 'mutation-score.json');
}

export function recordScore(slug: string, r: MutateReport, now = new Date()): string {
  const rec: RecordedScore = {
    chapter: slug,
    measuredAt: now.toISOString().slice(0, 10),
    sample: r.sample,
    seed: r.seed,
    files: r.files,
    score: r.score,
    counts: r.counts,
    survivors: r.mutants.filter((m) => m.status === 'survived').map((m) => m.key),
  };
  const f = recordedScoreFile(slug);
  writeFileSync(f, `${JSON.stringify(rec, null, 2)}\n`);
  return f;
}

export function readRecordedScore(slug: string): RecordedScore | null {
  const f = recordedScoreFile(slug);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RecordedScore) : null;
}
