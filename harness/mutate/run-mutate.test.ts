// sdgrade mutate on a tiny fixture module: instrumentation, one workspace, the active mutant switched by the
// environment, coverage from the baseline (which checks reach each mutant), the score with its interval, and
// equivalents that need a reason.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootDir } from '../core/paths.ts';
import { timeLimit } from '../core/time-scale.ts';
import { attributeHits, checkSpansFile, parseCheckSpans, parseHits, shareFixtures } from './check-coverage.ts';
import { checkSpansVar } from './check-spans.ts';
import { parseEquivalents } from './equivalents.ts';
import { instrument } from './instrument.ts';
import { type GradeOutcome, type Grader, type MutantRecord, renderMutateReport, runMutate } from './run-mutate.ts';
import { sampleMutants } from './sample.ts';
import { wilson } from './score.ts';

// Mutant outcomes are remembered across the two runs of the last test (the same code gives the same verdict); the
// baseline always runs, since it records coverage.
// The fixture's one deployment variant, "labels", also checks label() (CHECK_LABELS=1).
const seen = new Map<string, GradeOutcome>();
const graded: { id: string; variant: string; checks?: string[] }[] = [];
const grader: Grader = async (o) => {
  const id = o.env.__STRYKER_ACTIVE_MUTANT__;
  const memo = `${id}@${o.variant ?? 'default'}@${o.checks?.join(',') ?? 'all'}`;
  if (id !== undefined) graded.push({ id, variant: o.variant ?? 'default', ...(o.checks ? { checks: o.checks } : {}) });
  const known = id === undefined ? undefined : seen.get(memo);
  if (known) return known;
  const g = await gradeOnce(o);
  if (id !== undefined) seen.set(memo, g);
  return g;
};

/** The same grader, blind to which checks reach a mutant: it always runs every check. */
const everyCheck: Grader = (o) => {
  const { checks: _, ...all } = o;
  return grader(all);
};

const gradeOnce: Grader = ({ workspace, env, timeoutMs, variant, checks }) =>
  new Promise((resolve) => {
    const covDir = env.SDGRADE_MUTATE_COVERAGE_DIR;
    const child = spawn(process.execPath, ['--import', 'tsx', 'fixtures/mutate/check-clamp.ts'], {
      cwd: workspace,
      env: {
        ...process.env,
        ...env,
        ...(variant === 'labels' ? { CHECK_LABELS: '1' } : {}),
        ...(checks ? { CHECKS: checks.join(',') } : {}),
        // coverage looked at every millisecond (the checks take a few), and the check spans as the harness writes them
        SDGRADE_MUTATE_COVERAGE_TICK_MS: '1',
        ...(covDir ? { [checkSpansVar]: join(covDir, checkSpansFile) } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal) resolve({ status: 'timeout', reason: `killed after ${timeoutMs} ms` });
      else if (code === 0) resolve({ status: 'survived' });
      else resolve({ status: 'killed', by: 'check-clamp', reason: err.trim().split('\n')[0] ?? '' });
    });
  });

describe('sdgrade mutate', () => {
  it('Wilson interval: sensible at the edges and around the middle', () => {
    expect(wilson(0, 0).score).toBeNull();
    const all = wilson(40, 40);
    expect(all.score).toBe(1);
    expect(all.high).toBeCloseTo(1);
    expect(all.low).toBeGreaterThan(0.9);
    expect(all.low).toBeLessThan(0.95);
    const half = wilson(20, 40);
    expect(half.low).toBeCloseTo(0.352, 2);
    expect(half.high).toBeCloseTo(0.648, 2);
  });

  it('samples the same mutants for the same seed', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    expect(sampleMutants(items, 10, 7)).toEqual(sampleMutants(items, 10, 7));
    expect(sampleMutants(items, 10, 7)).not.toEqual(sampleMutants(items, 10, 8));
    expect(sampleMutants(items, 200, 7)).toHaveLength(100);
  });

  it('refuses an equivalent without a reason', () => {
    expect(() => parseEquivalents('equivalent:\n  - key: a\n', 'x.yaml')).toThrow(/needs a reason/);
    expect(
      parseEquivalents('equivalent:\n  - key: a\n    reason: only a log message changes\n', 'x.yaml').get('a'),
    ).toBe('only a log message changes');
  });

  it(
    'grades every mutant of the fixture: clamp mutants are killed, unchecked label ones survive',
    async () => {
      const files = ['fixtures/mutate/clamp.ts'];
      const { mutants } = await instrument(
        files.map((name) => ({ name, content: `export function clamp(x: number) { return x > 1 ? 1 : x; }\n` })),
      );
      expect(mutants.length).toBeGreaterThan(0);

      const lines: string[] = [];
      const r = await runMutate({
        root: rootDir,
        files,
        sample: 1000,
        seed: 1,
        timeoutMs: 60_000,
        equivalents: new Map(),
        grade: grader,
        log: (l) => lines.push(l),
      });
      expect(r.sample).toBe(r.totalMutants);
      expect(r.counts.killed).toBeGreaterThan(0);
      const survivors = r.mutants.filter((m) => m.status === 'survived' || m.status === 'no-coverage');
      // every survivor is in label(), which no check looks at
      expect(survivors.length).toBeGreaterThan(0);
      // label() is never called by the check: its mutants are "no coverage", not graded
      const inLabelBody = survivors.filter((m) => m.start.line === 8);
      expect(inLabelBody.length).toBeGreaterThan(0);
      for (const m of inLabelBody) expect(m.status).toBe('no-coverage');
      // the constant label() reads runs when the module loads: graded by every check (none looks at it), survived
      const loaded = survivors.filter((m) => m.start.line === 12);
      expect(loaded.map((m) => [m.status, m.checks])).toEqual([['survived', undefined]]);
      // in clamp() only the boundary mutants survive (x <= lo, x >= hi: equivalent, since both return the bound)
      const inClamp = survivors.filter((m) => m.start.line <= 5);
      expect(inClamp.map((m) => `${m.original} -> ${m.replacement}`).sort()).toEqual([
        'x < lo -> x <= lo',
        'x > hi -> x >= hi',
      ]);
      expect(lines.some((l) => /^mutant 1\/\d+ .*score so far/.test(l))).toBe(true);
      const text = renderMutateReport(r);
      expect(text).toMatch(/mutation score: \d+\.\d% \(\d+\/\d+; 95% CI/);
      expect(text).toMatch(/key: fixtures\/mutate\/clamp\.ts:\d+/);

      // a survivor declared equivalent leaves the denominator
      const one = survivors[0];
      if (!one) throw new Error('no survivor');
      const again = await runMutate({
        root: rootDir,
        files,
        sample: 1000,
        seed: 1,
        timeoutMs: 60_000,
        equivalents: new Map([[one.key, 'test: pretend it is equivalent']]),
        grade: grader,
        log: () => {},
      });
      expect(again.counts.equivalent).toBe(1);
      expect(again.score.graded).toBe(r.score.graded - 1);
    },
    timeLimit(300_000),
  );

  it(
    'grades each mutant under the variants whose run reaches its code: killed if any kills it',
    async () => {
      const files = ['fixtures/mutate/clamp.ts'];
      graded.length = 0;
      const lines: string[] = [];
      const r = await runMutate({
        root: rootDir,
        files,
        sample: 1000,
        seed: 1,
        timeoutMs: 60_000,
        equivalents: new Map(),
        grade: grader,
        log: (l) => lines.push(l),
        variants: ['default', 'labels'],
      });
      // two baselines; "labels" reaches label()'s code, which the default run never does
      expect(r.variants?.map((v) => v.name)).toEqual(['default', 'labels']);
      const [def, labels] = r.variants ?? [];
      expect(labels?.covers).toBeGreaterThan(def?.covers ?? Number.POSITIVE_INFINITY);
      // no mutant is "no coverage" now: every label() mutant is graded under "labels" alone, and killed there
      expect(r.counts['no-coverage']).toBe(0);
      const inLabel = r.mutants.filter((m) => m.start.line === 8);
      expect(inLabel.length).toBeGreaterThan(0);
      for (const m of inLabel) {
        expect(m.gradedUnder, m.key).toEqual(['labels']);
        expect(m.status, m.key).toBe('killed');
        expect(m.variant, m.key).toBe('labels');
        expect(graded.filter((g) => g.id === m.id).map((g) => g.variant)).toEqual(['labels']);
      }
      // a clamp() mutant the default run kills is not graded again under "labels"
      const killedInClamp = r.mutants.filter((m) => m.start.line <= 5 && m.status === 'killed');
      expect(killedInClamp.length).toBeGreaterThan(0);
      for (const m of killedInClamp) {
        expect(m.variant).toBe('default');
        expect(graded.filter((g) => g.id === m.id).map((g) => g.variant)).toEqual(['default']);
      }
      // the constant label() reads runs at load under both variants: graded by every check of each, killed by "labels"
      const loaded = r.mutants.filter((m) => m.start.line === 12);
      expect(loaded.map((m) => [m.status, m.variant, m.gradedUnder, m.checks])).toEqual([
        ['killed', 'labels', ['default', 'labels'], undefined],
      ]);
      // a survivor passed under every variant that runs it, and the report says which
      const survivors = r.mutants.filter((m) => m.status === 'survived');
      expect(survivors.map((m) => `${m.original} -> ${m.replacement}`).sort()).toEqual([
        'x < lo -> x <= lo',
        'x > hi -> x >= hi',
      ]);
      for (const m of survivors) expect(m.gradedUnder).toEqual(['default', 'labels']);
      expect(lines.filter((l) => /^baseline \(variant (default|labels)\) passed/.test(l))).toHaveLength(2);
      const text = renderMutateReport(r);
      expect(text).toMatch(/graded under 2 deployment variants: default \(reaches \d+\), labels/);
      expect(text).toMatch(/\[survived under default, labels\] key: fixtures\/mutate\/clamp\.ts:/);
    },
    timeLimit(300_000),
  );
});

describe('a run cut short and resumed', () => {
  it(
    'saves every verdict as it goes, and a resumed run grades only the mutants the saved ones leave',
    async () => {
      const files = ['fixtures/mutate/clamp.ts'];
      const base = {
        root: rootDir,
        files,
        sample: 1000,
        seed: 1,
        timeoutMs: 60_000,
        equivalents: new Map<string, string>(),
        grade: grader,
        log: () => {},
      };
      const checkpoints: MutantRecord[][] = [];
      const whole = await runMutate({ ...base, onRecord: (rs) => checkpoints.push([...rs]) });
      expect(checkpoints).toHaveLength(whole.sample);
      // the run "dies" after its third mutant: what it had saved then is all a resumed run gets
      const saved = checkpoints[2] ?? [];
      expect(saved).toHaveLength(3);
      graded.length = 0;
      const lines: string[] = [];
      const resumed = await runMutate({
        ...base,
        log: (l) => lines.push(l),
        resumed: new Map(saved.map((m) => [m.key, m])),
      });
      const verdicts = (r: typeof whole) => r.mutants.map((m) => `${m.key} ${m.status}`);
      expect(verdicts(resumed)).toEqual(verdicts(whole));
      // the saved three were not graded again, every other one was
      const savedIds = new Set(saved.map((m) => m.id));
      expect(graded.filter((g) => savedIds.has(g.id))).toEqual([]);
      const gradable = whole.mutants.filter((m) => !savedIds.has(m.id) && m.status !== 'no-coverage');
      expect(new Set(graded.map((g) => g.id))).toEqual(new Set(gradable.map((m) => m.id)));
      expect(resumed.mutants.filter((m) => m.resumed).map((m) => m.key)).toEqual(saved.map((m) => m.key));
      expect(lines.filter((l) => /^mutant \d+\/\d+ \(saved\) /.test(l))).toHaveLength(3);
      // a survivor judged equivalent since the cut is judged so, whatever was saved for it
      const survivor = saved.find((m) => m.status === 'survived') ?? whole.mutants.find((m) => m.status === 'survived');
      if (!survivor) throw new Error('the fixture has survivors');
      const judged = await runMutate({
        ...base,
        equivalents: new Map([[survivor.key, 'test: judged after the cut']]),
        resumed: new Map(saved.map((m) => [m.key, m])),
      });
      expect(judged.mutants.find((m) => m.key === survivor.key)?.status).toBe('equivalent');
    },
    timeLimit(300_000),
  );
});

describe('per-check coverage', () => {
  it(
    'grades each mutant only with the checks that reach it, and gives the verdicts of grading with every check',
    async () => {
      const files = ['fixtures/mutate/clamp.ts'];
      const run = (grade: Grader) =>
        runMutate({
          root: rootDir,
          files,
          sample: 1000,
          seed: 1,
          timeoutMs: 60_000,
          equivalents: new Map(),
          grade,
          log: () => {},
          variants: ['default', 'labels'],
        });
      graded.length = 0;
      const subset = await run(grader);
      const runs = graded.length;
      const all = await run(everyCheck);
      const verdicts = (r: typeof subset) => r.mutants.map((m) => `${m.key} ${m.status} ${m.variant}`);
      expect(verdicts(subset)).toEqual(verdicts(all));
      // the baseline saw each check's reach: "below" returns before the ternary
      const def = subset.variants?.find((v) => v.name === 'default');
      expect(def?.checks?.map((c) => c.id)).toEqual(['in-range', 'below', 'above']);
      expect(def?.everywhere).toBeGreaterThan(0);
      const ternary = subset.mutants.filter((m) => m.start.line === 4 && m.original === 'x > hi');
      expect(ternary.length).toBeGreaterThan(0);
      for (const m of ternary) expect(m.checks?.default, m.key).toEqual(['in-range', 'above']);
      // label()'s body is reached by "labels" alone, under the variant that has it
      for (const m of subset.mutants.filter((m) => m.start.line === 8))
        expect(m.checks).toEqual({ labels: ['labels'] });
      // fewer checks were run in all (each run of the fixture is one "restart")
      const checksRun = (gs: typeof graded) => gs.reduce((n, g) => n + (g.checks?.length ?? 3), 0);
      expect(checksRun(graded.slice(0, runs))).toBeLessThan(checksRun(graded.slice(runs)));
      // a hang bound, not a speed verdict: two runs of about 25 fixture processes each, on a shared machine
    },
    timeLimit(900_000),
  );

  it('takes an interval of runs to reach every check it meets, and anything outside the checks to reach all', () => {
    const spans = parseCheckSpans(
      ['start A 1000', 'done A pass', 'start B 2000', 'done B skipped', 'start C 3000', 'done C pass', 'end 4000'].join(
        '\n',
      ),
    );
    expect(spans?.checks.map((c) => [c.id, c.status])).toEqual([
      ['A', 'pass'],
      ['B', 'skipped'],
      ['C', 'pass'],
    ]);
    const hits = parseHits([
      [
        'inA 1400 1500',
        'acrossAC 1900 3100',
        'start 900 1050',
        'late 3950 4100',
        'onlySkipped 2400 2500',
        'inC 3500 3550',
        'inC 1500 1550',
        'cut 1500 15',
      ].join('\n'),
    ]);
    // a last line with no newline was cut short by kill -9
    expect(hits.has('cut')).toBe(false);
    const cov = attributeHits(hits, spans);
    const reach = (id: string) => [...cov.byCheck].filter(([, s]) => s.has(id)).map(([c]) => c);
    expect(reach('inA')).toEqual(['A']);
    // B was skipped: it reaches nothing on purpose
    expect(reach('acrossAC')).toEqual(['A', 'C']);
    expect(reach('inC')).toEqual(['A', 'C']);
    // before the first check, after the last, or only in a skipped one: every check
    expect([...cov.everywhere].sort()).toEqual(['late', 'onlySkipped', 'start']);
    // no spans at all: every mutant reached is reached everywhere
    expect([...attributeHits(hits, null).everywhere].sort()).toEqual([...hits.keys()].sort());
    // A, B and C share a fixture that A built: each reaches what any reached (B, skipped here, skips again when it
    // grades); X, not in the run, is left out
    const shared = shareFixtures(cov, [['A', 'C', 'B', 'X']]);
    const reachShared = (id: string) => [...shared.byCheck].filter(([, s]) => s.has(id)).map(([c]) => c);
    expect(reachShared('inA')).toEqual(['A', 'B', 'C']);
    expect(reachShared('acrossAC')).toEqual(['A', 'B', 'C']);
    expect(shared.byCheck.has('X')).toBe(false);
    expect(shared.everywhere).toEqual(cov.everywhere);
    // the coverage it was given is unchanged
    expect(reach('inA')).toEqual(['A']);
  });
});
