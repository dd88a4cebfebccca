// Assertions every chapter's grade test makes the same way (used from vitest files only).
import { expect } from 'vitest';
import { type MutantOutcome, runMutants } from '../cli/mutants.ts';
import { dailyShuffleSeed } from '../core/check-order.ts';
import { countStatuses, type GradeOptions, gradeChapter } from '../core/grade-chapter.ts';
import { validateResults } from '../report/validate-results.ts';
import type { ChapterResult, RunResults } from '../results/types.ts';
import type { ChapterModule } from './chapter-module.ts';

/** The checks that failed or errored, as `ID: reason` lines (so a failed expectation says why). */
export function failures(r: ChapterResult): string[] {
  return r.checks.filter((c) => c.status === 'fail' || c.status === 'error').map((c) => `${c.id}: ${c.reason}`);
}

/** The shuffle seed of a grade test: SDGRADE_SHUFFLE_SEED replays one; otherwise it changes daily. */
export function gradeTestShuffleSeed(): number {
  const given = process.env.SDGRADE_SHUFFLE_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0) throw new Error(`SDGRADE_SHUFFLE_SEED must be a non-negative integer: ${given}`);
    return n;
  }
  return dailyShuffleSeed();
}

/**
 * The manifest grade of a chapter's grade test: every check, in an order shuffled from a seed that changes daily,
 * so CI runs one shuffled pass per chapter at no extra cost and an order dependency shows up within days. The seed
 * is printed and kept in the result's `order`; SDGRADE_SHUFFLE_SEED=<seed> (or `sdgrade test --shuffle <seed>`)
 * replays the order.
 */
export async function gradeByManifest(o: Omit<GradeOptions, 'shuffle'>): Promise<ChapterResult> {
  const shuffle = gradeTestShuffleSeed();
  console.log(
    `${o.module.slug}: checks in shuffled order, seed ${shuffle} (replay: SDGRADE_SHUFFLE_SEED=${shuffle}, or sdgrade test --shuffle ${shuffle})`,
  );
  return gradeChapter({ ...o, shuffle });
}

/** Runs every mutant of the chapter and expects each to be caught by the check named for it. */
export async function expectEveryMutantCaught(
  module: ChapterModule,
  o: { numRuns: number; seed?: number; allowSkipped?: boolean },
): Promise<MutantOutcome[]> {
  const { outcomes, missed } = await runMutants(module, { numRuns: o.numRuns, seed: o.seed ?? 7, log: () => {} });
  const summary = outcomes.map((x) => `${x.verdict} ${x.mutant.name} by ${x.mutant.breaks}: ${x.reason}`).join('\n');
  expect(missed, summary).toBe(0);
  expect(outcomes.length, summary).toBe(module.mutants.length);
  if (!o.allowSkipped)
    expect(
      outcomes.filter((x) => x.verdict === 'skipped'),
      summary,
    ).toEqual([]);
  // Every check of the catalog has at least one mutant it must catch: a check never seen to fail proves nothing.
  const named = new Set<string>(module.mutants.map((m) => m.breaks));
  expect(module.catalog.checks.map((c) => c.id).filter((id) => !named.has(id))).toEqual([]);
  return outcomes;
}

/** Wraps one chapter result in a run document and expects it to fit the results schema. */
export function expectValidResults(r: ChapterResult, k6Version: string | null = null): void {
  const now = new Date().toISOString();
  const doc: RunResults = {
    schemaVersion: 1,
    runId: 'test',
    startedAt: now,
    finishedAt: now,
    environment: {
      cpuModel: 'x',
      cores: 2,
      memoryBytes: 1,
      os: 'x',
      node: process.version,
      k6: k6Version,
      gitCommit: null,
      ci: false,
    },
    chapters: [r],
    summary: countStatuses(r.checks),
  };
  const v = validateResults(doc);
  expect(v.ok ? [] : v.errors).toEqual([]);
}

/** Expects a result for every target of the catalog, by ID. */
export function expectEveryTarget(
  r: ChapterResult,
  module: ChapterModule,
): Record<string, ChapterResult['targets'][number]> {
  const byId = Object.fromEntries(r.targets.map((t) => [t.id, t]));
  expect(Object.keys(byId).sort()).toEqual(module.catalog.targets.map((t) => t.id).sort());
  return byId;
}
