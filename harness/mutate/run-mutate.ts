// Sampled automated mutants: instrument a chapter's core modules once, grade an unmutated baseline (which must
// pass, and which records what code the checks reach), then grade a seeded sample of mutants one by one, each a
// restart with another active mutant. The score is killed / (non-equivalent sampled), with a 95% interval; every
// survivor is listed with its diff and its key, for specs/<chapter>/mutate-equivalent.yaml when it is equivalent.
// With deployment variants (ChapterModule.variants: ALGORITHM=maglev...), each variant has its own baseline and
// coverage, and a mutant is graded under every variant whose run reaches its code, in order, until one kills it:
// it is "no coverage" only when no variant runs it.
// Per-check coverage: the baseline also records which checks reach each mutant's code (check-coverage.ts), and a
// mutant is graded only by those checks (every check when its code runs at start-up or shutdown), stopping at the
// first that fails. As in Stryker's per-test coverage, the checks are taken to be independent: a mutant survives when
// every check that reaches its code passes with it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CheckCoverage, checksReaching, readCheckCoverage, shareFixtures } from './check-coverage.ts';
import { instrument, type MutantInfo, mutantDiff, mutantKey, type SourceFile } from './instrument.ts';
import { mutantSwitchLines } from './mutant-switches.ts';
import { sampleMutants } from './sample.ts';
import { formatScore, type Score, wilson } from './score.ts';
import { makeWorkspace } from './workspace.ts';

export type MutantStatus = 'killed' | 'timeout' | 'survived' | 'no-coverage' | 'equivalent' | 'error';

export interface GradeOutcome {
  /** killed: a check failed; survived: every check passed; error: the harness could not grade it. */
  status: 'killed' | 'survived' | 'timeout' | 'error';
  /** The first check that failed. */
  by?: string;
  reason?: string;
  /** Every check that failed (without --fail-fast), each with the first line of its reason. */
  failed?: { id: string; reason: string }[];
  /** How long each check took (ms), when the grader knows: shown for the baseline. */
  durations?: Record<string, number>;
}

/** Grades the workspace's code with this environment (the active mutant, or coverage for the baseline). */
export type Grader = (o: {
  workspace: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** The deployment variant to grade (absent: the reference as deployed). */
  variant?: string;
  /** Only these checks, in catalog order (absent: every check); the baseline's coverage says which reach the mutant. */
  checks?: string[];
}) => Promise<GradeOutcome>;

export interface MutateOptions {
  root: string;
  /** Repository-relative paths of the modules to mutate. */
  files: string[];
  sample: number;
  seed: number;
  timeoutMs: number;
  equivalents: Map<string, string>;
  grade: Grader;
  log: (line: string) => void;
  /** Deployment variants to grade under, default first (absent: only the reference as deployed). */
  variants?: string[];
  /** Which mutants of the population to grade (absent: a sample of `sample` drawn with `seed`). */
  pick?: (population: MutantInfo[]) => MutantInfo[];
  /** Verdicts saved by an earlier attempt at this same run (checkpoint.ts), by key: reused, not graded again. */
  resumed?: Map<string, MutantRecord>;
  /** Called after each mutant with every record so far (the checkpoint). */
  onRecord?: (records: readonly MutantRecord[]) => void;
  /** Groups of checks that share one fixture (ChapterModule.sharedFixtures): each reaches what any of them reaches. */
  sharedFixtures?: readonly (readonly string[])[];
}

export interface MutantRecord extends MutantInfo {
  key: string;
  status: MutantStatus;
  by?: string;
  reason?: string;
  ms: number;
  /** The variant whose run decided the status (killed, timed out or errored there; for a survivor, the last tried). */
  variant?: string;
  /** Every variant whose run reaches this mutant's code: those it was graded under, in order. */
  gradedUnder?: string[];
  /** The checks each run graded it with, when fewer than all (only those that reach its code), by variant. */
  checks?: Record<string, string[]>;
  /** Judged equivalent after the run and moved out of the score by `--rescore` (see rescore.ts). */
  judgedAfterRun?: boolean;
  /** The judgment's key, when it names the line the same code has moved to since the run. */
  judgedAs?: string;
  /** Its verdict came from the checkpoint of an earlier attempt at the same run (`--resume`). */
  resumed?: boolean;
  /** Graded again by `--regrade-survivors` at this commit (the run had left it open). */
  regradedAt?: string;
}

export interface VariantBaseline {
  name: string;
  baselineMs: number;
  /** How many mutants' code this variant's run reaches. */
  covers: number;
  /** Of those, how many run at start-up or shutdown, outside every check (graded by every check). */
  everywhere?: number;
  /** Each check that ran in the baseline: how long it took and how many mutants' code it reaches. */
  checks?: { id: string; ms?: number; covers: number }[];
}

export interface MutateReport {
  files: string[];
  totalMutants: number;
  /** Mutants on the hand-written mutants' switches, left out of the population (see mutant-switches.ts). */
  onSwitches: number;
  sample: number;
  seed: number;
  mutants: MutantRecord[];
  score: Score;
  counts: Record<MutantStatus, number>;
  baselineMs: number;
  /** Present when graded under deployment variants: each one's baseline. */
  variants?: VariantBaseline[];
}

export const coverageHook = fileURLToPath(new URL('./coverage-hook.mjs', import.meta.url));
const ACTIVE = '__STRYKER_ACTIVE_MUTANT__';

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

export async function runMutate(o: MutateOptions): Promise<MutateReport> {
  const sources: SourceFile[] = o.files.map((name) => ({ name, content: readFileSync(join(o.root, name), 'utf8') }));
  const inst = await instrument(sources);
  const switches = new Map(sources.map((f) => [f.name, mutantSwitchLines(f.content)]));
  const population = inst.mutants.filter((m) => !switches.get(m.file)?.has(m.start.line));
  const onSwitches = inst.mutants.length - population.length;
  o.log(
    `instrumented ${o.files.length} files: ${inst.mutants.length} mutants, ${onSwitches} of them on hand-written mutant switches (left out); ${o.pick ? 'grading the ones picked' : `sampling ${Math.min(o.sample, population.length)} with seed ${o.seed}`}`,
  );
  const ws = makeWorkspace(o.root, inst.files);
  const variantNames: (string | undefined)[] = o.variants?.length ? o.variants : [undefined];
  const label = (v: string | undefined) => v ?? 'default';
  const covDirs: string[] = [];
  try {
    // One baseline per variant: the instrumented code with no mutant active must pass, or every "kill" would be
    // noise; it records which mutants' code that variant's run reaches.
    const coverage = new Map<string | undefined, CheckCoverage>();
    const baselines: VariantBaseline[] = [];
    for (const v of variantNames) {
      const covDir = mkdtempSync(join(tmpdir(), 'sdgrade-mutate-cov-'));
      covDirs.push(covDir);
      const t0 = performance.now();
      const gradeBaseline = () =>
        o.grade({
          workspace: ws.dir,
          env: {
            SDGRADE_MUTATE_COVERAGE_DIR: covDir,
            NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${coverageHook}`.trim(),
          },
          timeoutMs: o.timeoutMs * 3,
          ...(v ? { variant: v } : {}),
        });
      let base = await gradeBaseline();
      // The harness could not grade (it crashed, a port was taken): once more, rather than lose the whole run. A
      // failed check is not retried: that is a real failure of the baseline.
      if (base.status === 'error') {
        o.log(`baseline${v ? ` (variant ${v})` : ''} could not be graded (${base.reason ?? ''}); grading it again`);
        rmSync(covDir, { recursive: true, force: true });
        mkdirSync(covDir);
        base = await gradeBaseline();
      }
      const ms = performance.now() - t0;
      if (base.status !== 'survived')
        throw new Error(
          `the instrumented code with no mutant active does not pass${v ? ` under variant ${v}` : ''} (${base.status}${base.by ? ` by ${base.by}` : ''}: ${base.reason ?? ''}); fix that first`,
        );
      const cov = shareFixtures(readCheckCoverage(covDir), o.sharedFixtures ?? []);
      coverage.set(v, cov);
      const checks = [...cov.byCheck].map(([id, ids]) => ({
        id,
        ...(base.durations?.[id] !== undefined ? { ms: base.durations[id] } : {}),
        covers: ids.size,
      }));
      baselines.push({
        name: label(v),
        baselineMs: Math.round(ms),
        covers: cov.reached.size,
        everywhere: cov.everywhere.size,
        ...(checks.length ? { checks } : {}),
      });
      o.log(
        `baseline${v ? ` (variant ${v})` : ''} passed in ${fmtDuration(ms)}; the checks reach ${cov.reached.size} of ${inst.mutants.length} mutants' code`,
      );
      if (checks.length)
        o.log(
          `  ${cov.everywhere.size} at start-up or shutdown (graded by every check); by check: ${checks.map((c) => `${c.id} ${c.covers}${c.ms !== undefined ? ` (${fmtDuration(c.ms)})` : ''}`).join(', ')}`,
        );
    }
    const baselineMs = baselines.reduce((a, b) => a + b.baselineMs, 0);
    if (o.variants?.length) {
      const any = new Set([...coverage.values()].flatMap((c) => [...c.reached]));
      o.log(`under the ${variantNames.length} variants together the checks reach ${any.size} mutants' code`);
    }

    // Graded under each variant that runs its code, in order, until one detects it (killed or timed out); an error
    // under one variant (e.g. it cannot start) leaves the others to decide. Under each, only the checks that reach it.
    const gradeUnder = async (id: string, under: (string | undefined)[]) => {
      let last: GradeOutcome & { variant: string } = { status: 'survived', variant: label(under[0]) };
      let error: (GradeOutcome & { variant: string }) | undefined;
      const subsets: Record<string, string[]> = {};
      for (const v of under) {
        const checks = checksReaching(coverage.get(v) as CheckCoverage, id);
        if (checks) subsets[label(v)] = checks;
        const g = await o.grade({
          workspace: ws.dir,
          env: { [ACTIVE]: id },
          timeoutMs: o.timeoutMs,
          ...(v ? { variant: v } : {}),
          ...(checks ? { checks } : {}),
        });
        last = { ...g, variant: label(v) };
        if (g.status === 'killed' || g.status === 'timeout') break;
        if (g.status === 'error') error ??= last;
      }
      const decided = last.status === 'killed' || last.status === 'timeout' ? last : (error ?? last);
      return {
        status: decided.status,
        ...(decided.by ? { by: decided.by } : {}),
        ...(decided.reason ? { reason: decided.reason } : {}),
        ...(o.variants?.length ? { variant: decided.variant, gradedUnder: under.map(label) } : {}),
        ...(Object.keys(subsets).length ? { checks: subsets } : {}),
      };
    };
    const picked = o.pick ? o.pick(population) : sampleMutants(population, o.sample, o.seed);
    const records: MutantRecord[] = [];
    const started = performance.now();
    let gradedHere = 0;
    for (const [i, m] of picked.entries()) {
      const key = mutantKey(m);
      const t = performance.now();
      let rec: MutantRecord;
      const eq = o.equivalents.get(key);
      // a judgment (mutate-equivalent.yaml) made since the saved verdict wins over it
      const saved = eq ? undefined : o.resumed?.get(key);
      if (saved) rec = { ...saved, ...m, key, resumed: true };
      else if (eq) rec = { ...m, key, status: 'equivalent', reason: eq, ms: 0 };
      else {
        const under = variantNames.filter((v) => coverage.get(v)?.reached.has(m.id));
        if (!under.length)
          rec = {
            ...m,
            key,
            status: 'no-coverage',
            reason: `its code never ran in the baseline run${o.variants?.length ? ` of any variant (${variantNames.map(label).join(', ')})` : ''}`,
            ms: 0,
          };
        else rec = { ...m, key, ...(await gradeUnder(m.id, under)), ms: 0 };
      }
      if (!saved) {
        rec.ms = Math.round(performance.now() - t);
        gradedHere++;
      }
      records.push(rec);
      o.onRecord?.(records);
      const s = scoreOf(records);
      const left = ((performance.now() - started) / Math.max(1, gradedHere)) * (picked.length - i - 1);
      o.log(
        `mutant ${i + 1}/${picked.length}${saved ? ' (saved)' : ''} ${rec.status.padEnd(11)} ${m.file}:${m.start.line} ${m.mutator}${rec.by ? ` (by ${rec.by})` : ''}${o.variants?.length && rec.variant ? ` [${rec.variant}]` : ''}${
          rec.checks
            ? ` {only ${Object.entries(rec.checks)
                .map(([v, c]) => `${v}: ${c.join(',')}`)
                .join('; ')}}`
            : ''
        } | score so far ${formatScore(s)} | ~${fmtDuration(left)} left`,
      );
    }
    const counts = countOf(records);
    return {
      files: o.files,
      totalMutants: inst.mutants.length,
      onSwitches,
      sample: picked.length,
      seed: o.seed,
      mutants: records,
      score: scoreOf(records),
      counts,
      baselineMs: Math.round(baselineMs),
      ...(o.variants?.length ? { variants: baselines } : {}),
    };
  } finally {
    ws.remove();
    for (const d of covDirs) rmSync(d, { recursive: true, force: true });
  }
}

export function countOf(rs: readonly MutantRecord[]): Record<MutantStatus, number> {
  const c: Record<MutantStatus, number> = {
    killed: 0,
    timeout: 0,
    survived: 0,
    'no-coverage': 0,
    equivalent: 0,
    error: 0,
  };
  for (const r of rs) c[r.status]++;
  return c;
}

/**
 * Detected (killed, or timed out as Stryker counts it) over everything not equivalent and not an error: a mutant
 * whose code the checks never reach counts against the score, as in Stryker.
 */
export function scoreOf(rs: readonly MutantRecord[]): Score {
  const c = countOf(rs);
  const detected = c.killed + c.timeout;
  return wilson(detected, detected + c.survived + c['no-coverage']);
}

export function renderMutateReport(r: MutateReport): string {
  const lines = [
    `sampled ${r.sample} of ${r.totalMutants - r.onSwitches} mutants (seed ${r.seed}) in ${r.files.length} files; ${r.onSwitches} more on hand-written mutant switches left out`,
    ...(r.variants
      ? [
          `graded under ${r.variants.length} deployment variants: ${r.variants.map((v) => `${v.name} (reaches ${v.covers})`).join(', ')}`,
        ]
      : []),
    `killed ${r.counts.killed}, timed out ${r.counts.timeout}, survived ${r.counts.survived}, no coverage ${r.counts['no-coverage']}, equivalent ${r.counts.equivalent}, errors ${r.counts.error}`,
    `mutation score: ${formatScore(r.score)}`,
  ];
  const open = r.mutants.filter((m) => m.status === 'survived' || m.status === 'no-coverage' || m.status === 'error');
  if (open.length) {
    lines.push(
      '',
      "survivors (if one is equivalent, add its key and the reason to the chapter's mutate-equivalent.yaml):",
    );
    for (const m of open)
      lines.push(
        '',
        `[${m.status}${m.gradedUnder ? ` under ${m.gradedUnder.join(', ')}` : ''}] key: ${m.key}`,
        mutantDiff(m),
        ...(m.reason ? [`  ${m.reason}`] : []),
      );
  }
  return lines.join('\n');
}

export function ensureDir(d: string): string {
  mkdirSync(d, { recursive: true });
  return d;
}
