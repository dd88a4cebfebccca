// Assertions every chapter's grade test makes the same way (used from vitest files only).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { runMutants } from '../cli/mutants.ts';
import { openNetwork } from '../cli/network.ts';
import { dailyShuffleSeed } from '../core/check-order.ts';
import { countStatuses, type GradeOptions, gradeChapter } from '../core/grade-chapter.ts';
import { loadManifest } from '../core/manifest.ts';
import type { NetworkFaults } from '../core/network-faults.ts';
import { ProcessTarget } from '../core/process-target.ts';
import { timeLimit } from '../core/time-scale.ts';
import { validateResults } from '../report/validate-results.ts';
import type { ChapterResult, RunResults } from '../results/types.ts';
import type { ChapterModule } from './chapter-module.ts';
import { inPart, notTodayReason, rotation, witnesses } from './rotation.ts';
import { variantManifest, variantUnavailable, withVariant } from './variants.ts';

export { timeLimit };

/** The checks that failed or errored, as `ID: reason` lines (so a failed expectation says why). */
export function failures(r: ChapterResult): string[] {
  return r.checks.filter((c) => c.status === 'fail' || c.status === 'error').map((c) => `${c.id}: ${c.reason}`);
}

/** Each check as "ID status", to compare with the statuses a test expects. */
export function statusLines(r: ChapterResult): string[] {
  return r.checks.map((c) => `${c.id} ${c.status}`);
}

/** The skipped checks with their reasons: the message of a status comparison, so a failed one says why. */
export function skipReasons(r: ChapterResult): string {
  const skipped = r.checks.filter((c) => c.status === 'skipped');
  return skipped.length ? `skipped: ${skipped.map((c) => `${c.id} (${c.reason})`).join('; ')}` : 'none skipped';
}

/** The shuffle seed of a grade test: SDGRADE_SHUFFLE_SEED replays one; otherwise it changes daily. */
/**
 * What every grade of a chapter's reference in its grade test shares: a fresh run folder, seed 42, no load and no
 * network faults (a test that wants either adds it), quiet progress.
 */
export function referenceGradeBase<M extends ChapterModule>(module: M, numRuns: number) {
  const runDir = mkdtempSync(join(tmpdir(), `sdgrade-${module.slug.slice(0, 2)}-test-`));
  return { module, runDir, runSeed: 42, numRuns, load: null, network: null, onProgress: () => {} } as const;
}

/** Marks the test skipped, and prints why (vitest's summary shows a skip without its note). */
export function skipForSpeed(test: TestContext, why: string): never {
  console.warn(`skipped, the machine too slow: ${why}`);
  return test.skip(why);
}

/** The checks that skipped for the machine's speed, as `ID: reason` (only those the module's `speedSkips` allows). */
export function skippedForSpeed(r: ChapterResult, module: ChapterModule): string[] {
  const allowed = (module.speedSkips ?? {}) as Partial<Record<string, RegExp>>;
  return r.checks
    .filter((c) => c.status === 'skipped' && allowed[c.id]?.test(c.reason ?? ''))
    .map((c) => `${c.id}: ${c.reason}`);
}

/**
 * Every check of the chapter's catalog ran and passed. Given the test's context, a check the module's `speedSkips`
 * names may instead have skipped for the machine's speed: then, once everything else is asserted, the test is marked
 * skipped with that reason (never passed). `mustSkip` names checks this deployment cannot run (e.g. a fault on a
 * real PostgreSQL when the embedded store is used): each must be skipped with a reason matching its pattern.
 */
export function expectEveryCheckPassed(
  r: ChapterResult,
  module: ChapterModule,
  test?: TestContext,
  mustSkip: Readonly<Record<string, RegExp>> = {},
): void {
  expect(failures(r)).toEqual([]);
  const slow = test ? skippedForSpeed(r, module) : [];
  for (const [id, why] of Object.entries(mustSkip)) {
    const c = r.checks.find((x) => x.id === id);
    expect(c?.status, id).toBe('skipped');
    expect(c?.reason, id).toMatch(why);
  }
  // A skip is not a pass: the message names each check that did not pass and why.
  expect(
    r.checks
      .filter((c) => c.status !== 'pass' && !(c.id in mustSkip) && !slow.some((s) => s.startsWith(`${c.id}:`)))
      .map((c) => `${c.id} ${c.status}: ${c.reason}`),
    'checks that did not pass',
  ).toEqual([]);
  expect(r.checks.length).toBe(module.catalog.checks.length);
  if (slow.length && test) skipForSpeed(test, `every other check passed; too slow a machine for ${slow.join('; ')}`);
}

/**
 * Grades the reference by URL (started from its manifest on the embedded stores, in runDir/by-url), where the
 * process-level faults cannot run: each of them must be skipped with its reason, never passed, and every other check
 * must pass.
 */
export async function expectByUrlSkipsProcessFaults(
  base: ReturnType<typeof referenceGradeBase>,
  processFaults: readonly string[],
  /** Checks the default deployment does not declare the option for (skipped with their own reason). */
  notApplicable: readonly string[] = [],
  /** As in expectEveryCheckPassed: given, checks may skip for the machine's speed (the test is then skipped). */
  test?: TestContext,
): Promise<void> {
  const manifest = loadManifest(base.module.referenceManifest);
  const started = await ProcessTarget.start({ manifest, runDir: join(base.runDir, 'by-url'), embedded: true });
  try {
    // The settings its deployment declares, given as a user grading by URL gives them (`--setting`).
    const settings = manifest.settings ? { settings: manifest.settings } : {};
    // The manifest grade runs every check each time; by URL, the process faults, the checks not applicable and the
    // day's part of the rest (rotation.ts).
    const rot = rotation();
    const only = base.module.catalog.checks
      .map((c) => c.id)
      .filter((id) => processFaults.includes(id) || notApplicable.includes(id) || inPart(`by-url ${id}`, rot));
    const r = await gradeChapter({ ...base, target: { url: started.baseUrl }, ...settings, only });
    expect(failures(r)).toEqual([]);
    for (const id of processFaults) {
      const c = r.checks.find((x) => x.id === id)!;
      expect(c.status, id).toBe('skipped');
      expect(c.reason, id).toMatch(/manifest|process/);
    }
    for (const id of notApplicable) expect(r.checks.find((x) => x.id === id)?.status, id).toBe('skipped');
    const slow = test ? skippedForSpeed(r, base.module) : [];
    expect(r.checks.filter((c) => c.status === 'pass').length, skipReasons(r)).toBe(
      only.length - processFaults.length - notApplicable.length - slow.length,
    );
    if (slow.length && test)
      skipForSpeed(test, `every other check as expected; too slow a machine for ${slow.join('; ')}`);
  } finally {
    await started.close();
  }
}

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

/**
 * One test per mutant of the chapter, each expecting the mutant caught by the check named for it, with its own time
 * limit (`mutantTimeoutMs` times SDGRADE_TIME_SCALE): a slow machine slows one mutant's test, not a 400 s block, and a
 * hung mutant names itself. Call it at the top level of a grade test file (it declares a describe block).
 */
export function describeMutants(
  module: ChapterModule,
  o: {
    numRuns: number;
    seed?: number;
    allowSkipped?: boolean;
    mutantTimeoutMs?: number;
    /** Failure messages that must name the cause, per mutant. */
    reasons?: Record<string, RegExp>;
  },
): void {
  describe(`${module.slug} mutants`, () => {
    // One fault proxy for every mutant of the chapter (each runMutants call would otherwise start its own).
    let network: NetworkFaults | null = null;
    beforeAll(async () => {
      network = await openNetwork(() => {});
    });
    afterAll(async () => {
      await network?.close();
    });

    it('has a mutant for every check of the catalog', () => {
      // A check never seen to fail proves nothing.
      const named = new Set<string>(module.mutants.map((m) => m.breaks));
      expect(module.catalog.checks.map((c) => c.id).filter((id) => !named.has(id))).toEqual([]);
      expect(new Set(module.mutants.map((m) => m.name)).size, 'mutant names are unique').toBe(module.mutants.length);
    });

    // Each check's witness every run; the other mutants in the day's part (rotation.ts).
    const rot = rotation();
    const witness = witnesses(module.mutants);
    const today = (name: string) => witness.has(name) || inPart(name, rot);
    if (rot.parts > 1)
      console.log(
        `${module.slug}: ${module.mutants.filter((m) => today(m.name)).length} of ${module.mutants.length} mutants this run (${witness.size} witnesses; part ${rot.part + 1} of ${rot.parts} of the rest)`,
      );
    for (const mutant of module.mutants) {
      it(
        `catches ${mutant.name} with ${mutant.breaks}`,
        async (ctx) => {
          if (!today(mutant.name)) ctx.skip(notTodayReason(rot));
          const grade = async (seed: number) => {
            const { outcomes } = await runMutants(module, {
              numRuns: o.numRuns,
              seed,
              only: [mutant.name],
              log: () => {},
              network,
              // Caught or not is all this asserts: a shrunk counterexample would cost up to SHRINK_BUDGET_MS more.
              shrink: false,
            });
            expect(outcomes.map((x) => x.mutant.name)).toEqual([mutant.name]);
            return outcomes[0]!;
          };
          let x = await grade(o.seed ?? 7);
          // A mutant that restores a race is caught when a run meets the race, which a loaded moment can make it miss
          // (CI lost four such verdicts in two runs on 2026-12-07): a miss is graded once more, with another seed, and
          // a catch then shows the check can fail on it as well. The first miss is printed, so a mutant caught only on
          // its second run is seen in the log, not hidden.
          if (x.verdict === 'missed') {
            console.warn(`${module.slug} ${mutant.name}: missed on its first run (${x.reason}); graded once more`);
            x = await grade((o.seed ?? 7) + 1);
          }
          const why = `${x.verdict} ${mutant.name} by ${mutant.breaks}: ${x.reason}`;
          // Skipped (it needs a real dependency that is not configured) only where the file allows it, and shown
          // as skipped, never as passed.
          if (x.verdict === 'skipped' && o.allowSkipped) ctx.skip(why);
          // A check that skipped for the machine's speed (the module's speedSkips): not shown caught here, so skipped.
          const slow = (module.speedSkips ?? {}) as Partial<Record<string, RegExp>>;
          if (x.verdict === 'skipped' && slow[mutant.breaks]?.test(x.reason)) skipForSpeed(ctx, why);
          expect(x.verdict, why).toBe('caught');
          expect(x.check?.id, why).toBe(mutant.breaks);
          expect(x.check?.status, why).toBe('fail');
          const want = o.reasons?.[mutant.name];
          if (want) expect(x.reason, why).toMatch(want);
        },
        // Room for the second run a miss gets.
        timeLimit(2 * (o.mutantTimeoutMs ?? 60_000)),
      );
    }
  });
}

/**
 * A ratio a load run measured (an error rate, a loss ratio): recorded as a number in [0, 1]. Whether it is 0 is the
 * main job's verdict, not the tests': through a saturated CPU a smoke load times requests out, and the tests assert
 * correctness, never speed.
 */
export function expectMeasuredRatio(value: number | null | undefined, what: string): void {
  expect(typeof value, what).toBe('number');
  expect(value, what).toBeGreaterThanOrEqual(0);
  expect(value, what).toBeLessThanOrEqual(1);
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

/**
 * One test per deployment variant of the chapter's reference (ChapterModule.variants): by manifest, every check that
 * applies passes, and each one declared not applicable is reported skipped with the variant's reason (never passed).
 * A variant on a real service runs where that service is configured (CI), else the test is skipped.
 */
export function describeVariants(
  module: ChapterModule,
  o: {
    base: Omit<GradeOptions, 'module' | 'target' | 'shuffle'>;
    timeoutMs: number;
    /** Checks that must pass (not be skipped) in every variant they apply to: what this file relies on them for. */
    mustPass?: string[];
  },
): void {
  describe(`${module.slug} deployment variants`, () => {
    for (const v of module.variants ?? []) {
      it.runIf(variantUnavailable(v) === null || process.env.CI)(
        `the ${v.name} variant passes every check that applies to it (${v.description})`,
        async (t) => {
          expect(variantUnavailable(v), 'CI must set the services the variant runs on').toBeNull();
          // The default deployment's manifest grade runs every check each time; a variant, the checks it must pass or
          // declares not applicable and the day's part of the rest (rotation.ts).
          const rot = rotation();
          const na0 = Object.keys(v.notApplicable ?? {});
          const only = module.catalog.checks
            .map((c) => c.id)
            .filter((id) => na0.includes(id) || o.mustPass?.includes(id) || inPart(`${v.name} ${id}`, rot));
          const r = await gradeByManifest({
            ...(rot.parts > 1 ? { only } : {}),
            ...o.base,
            module: withVariant(module, v),
            target: { manifest: variantManifest(module, v) },
            envOverrides: { ...v.env },
            ...(v.settings ? { settings: { ...v.settings } } : {}),
            variant: v.name,
            ...(v.needs?.some((k) => k !== 'etcd') ? { embedded: false } : {}),
          });
          expect(failures(r)).toEqual([]);
          const na = Object.keys(v.notApplicable ?? {});
          for (const id of na) {
            const c = r.checks.find((x) => x.id === id);
            expect(c?.status, id).toBe('skipped');
            expect(c?.reason, id).toMatch(new RegExp(`^not applicable to variant ${v.name}: `));
          }
          // Every other check ran: passed, or skipped for a reason of this machine (no Redis here), not the variant's.
          for (const c of r.checks.filter((x) => !na.includes(x.id)))
            expect(c.status === 'pass' || !/not applicable to variant/.test(c.reason ?? ''), c.id).toBe(true);
          expect(r.checks.filter((c) => c.status === 'pass').length).toBeGreaterThan(0);
          const slow = skippedForSpeed(r, module);
          for (const id of (o.mustPass ?? []).filter(
            (x) => !na.includes(x) && !slow.some((s) => s.startsWith(`${x}:`)),
          ))
            expect(r.checks.find((c) => c.id === id)?.status, `${id} in the ${v.name} variant`).toBe('pass');
          if (slow.length) skipForSpeed(t, `every other check as expected; too slow a machine for ${slow.join('; ')}`);
        },
        timeLimit(o.timeoutMs),
      );
    }
  });
}
