// `sdgrade mutate <chapter> --seed S --rescore`: apply equivalence judgments made after a run to that run's saved
// results, without grading again. A survivor a reviewer judged equivalent would not have been graded had the
// judgment been in mutate-equivalent.yaml at run time, so moving it out of the score is what a re-run would do;
// nothing is counted as killed that the run did not kill. Keys name source lines, so a judgment applies only where
// the code the run mutated stands today on the line it names (its own, or the one the code moved to since); else the
// mutant is left as the run found it, and a run on today's source judges it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MutantInfo } from './instrument.ts';
import type { MutantRecord, MutateReport } from './run-mutate.ts';
import { countOf, scoreOf } from './run-mutate.ts';

export interface Rescored {
  report: MutateReport;
  /** Keys moved from survived or no-coverage to equivalent by this rescore. */
  applied: string[];
  /** Keys judged equivalent whose code is no longer where the run found it: left as they were, with why. */
  stale: { key: string; why: string }[];
}

/** The text a mutant replaced, read from the module as it is now at the mutant's recorded place. */
export function textAt(source: string, m: Pick<MutantRecord, 'start' | 'end'>): string | null {
  const lines = source.split('\n');
  if (m.start.line < 1 || m.end.line > lines.length || m.end.line < m.start.line) return null;
  if (m.start.line === m.end.line) return lines[m.start.line - 1]?.slice(m.start.column, m.end.column) ?? null;
  const first = lines[m.start.line - 1]?.slice(m.start.column) ?? '';
  const middle = lines.slice(m.start.line, m.end.line - 1);
  const last = lines[m.end.line - 1]?.slice(0, m.end.column) ?? '';
  return [first, ...middle, last].join('\n');
}

/** A judgment's key split into its place and the rest (mutator and replacement), as mutantKey writes it. */
function parseKey(key: string): { file: string; line: number; column: number; rest: string } | null {
  const m = /^(.*):(\d+):(\d+) (.*)$/s.exec(key);
  return m?.[1] && m[2] && m[3] && m[4] !== undefined
    ? { file: m[1], line: Number(m[2]), column: Number(m[3]), rest: m[4] }
    : null;
}

/**
 * The judgment that applies to a mutant of the run: its own key when the mutated code still stands on that line, or
 * the key of the line the same code has moved to since (a judgment re-keyed to today's source after edits above
 * it), same column, mutator and replacement. The code itself must match: a key never applies to other code.
 */
function judgmentFor(
  m: MutantRecord,
  byPlace: Map<string, { line: number; key: string }[]>,
  source: string,
): string | null {
  const own = parseKey(m.key);
  if (!own) return null;
  const candidates = [...(byPlace.get(`${own.file}|${own.column}|${own.rest}`) ?? [])].sort(
    (a, b) => Number(b.line === own.line) - Number(a.line === own.line) || a.line - b.line,
  );
  for (const c of candidates) {
    const shift = c.line - m.start.line;
    const at = { start: { ...m.start, line: m.start.line + shift }, end: { ...m.end, line: m.end.line + shift } };
    if (textAt(source, at) === m.original) return c.key;
  }
  return null;
}

export function rescore(
  report: MutateReport,
  equivalents: Map<string, string>,
  readSource: (file: string) => string | null,
): Rescored {
  const byPlace = new Map<string, { line: number; key: string }[]>();
  for (const key of equivalents.keys()) {
    const k = parseKey(key);
    if (!k) continue;
    const place = `${k.file}|${k.column}|${k.rest}`;
    byPlace.set(place, [...(byPlace.get(place) ?? []), { line: k.line, key }]);
  }
  const applied: string[] = [];
  const stale: { key: string; why: string }[] = [];
  const mutants = report.mutants.map((m): MutantRecord => {
    if (m.status !== 'survived' && m.status !== 'no-coverage') return m;
    const own = parseKey(m.key);
    if (!own || !byPlace.has(`${own.file}|${own.column}|${own.rest}`)) return m;
    const source = readSource(m.file);
    const key = source === null ? null : judgmentFor(m, byPlace, source);
    const reason = key ? equivalents.get(key) : undefined;
    if (!key || !reason) {
      stale.push({
        key: m.key,
        why:
          source === null
            ? `${m.file} is gone`
            : `a judgment names this place, but the code the run mutated (${m.original.replace(/\s+/g, ' ').slice(0, 60)}) is on none of the lines it names now`,
      });
      return m;
    }
    applied.push(m.key);
    return { ...m, status: 'equivalent', reason, judgedAfterRun: true, ...(key !== m.key ? { judgedAs: key } : {}) };
  });
  return { report: { ...report, mutants, counts: countOf(mutants), score: scoreOf(mutants) }, applied, stale };
}

/** A run's results file: the report, the commit and day it graded, and what later calls did to it. */
export type SavedRun = MutateReport & {
  chapter?: string;
  commit?: string;
  measuredAt?: string;
  regraded?: { at: string; commit: string | null; mutants: number; killed: number };
};

export function readRunResults(file: string): SavedRun {
  if (!existsSync(file))
    throw new Error(`no saved run at ${file}: --rescore re-reads a run of this machine; run the sample first`);
  return JSON.parse(readFileSync(file, 'utf8')) as MutateReport & {
    chapter?: string;
    commit?: string;
    measuredAt?: string;
  };
}

export function sourceReader(root: string): (file: string) => string | null {
  return (file) => {
    const p = join(root, file);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  };
}

/** Lines either side of a mutant that must read the same in the run's source and today's for it to be the same. */
const CONTEXT_LINES = 3;

/**
 * The mutant of today's population that is the run's mutant: the same module, mutator, replacement, column and
 * original code, on the nearest line whose surroundings read as they did in the run (the run's source, read at its
 * commit): the same expression elsewhere in the module (an identical `if (x)` in another handler) is not it. Without
 * the run's source only the very same line is accepted. None when that code is gone or was changed.
 */
export function sameMutantToday(
  m: MutantRecord,
  population: readonly MutantInfo[],
  sources: { run: string | null; today: string | null } = { run: null, today: null },
): MutantInfo | undefined {
  const runLines = sources.run?.split('\n') ?? null;
  const todayLines = sources.today?.split('\n') ?? null;
  // each line within CONTEXT_LINES of the run's mutant that the run's module has reads the same today at that offset
  const sameSurroundings = (t: MutantInfo) => {
    if (!runLines || !todayLines) return t.start.line === m.start.line;
    for (let k = -CONTEXT_LINES; k <= CONTEXT_LINES; k++) {
      const was = runLines[m.start.line - 1 + k];
      if (was !== undefined && todayLines[t.start.line - 1 + k] !== was) return false;
    }
    return true;
  };
  let best: MutantInfo | undefined;
  for (const t of population) {
    if (
      t.file !== m.file ||
      t.mutator !== m.mutator ||
      t.replacement !== m.replacement ||
      t.original !== m.original ||
      t.start.column !== m.start.column ||
      !sameSurroundings(t)
    )
      continue;
    if (!best || Math.abs(t.start.line - m.start.line) < Math.abs(best.start.line - m.start.line)) best = t;
  }
  return best;
}

/**
 * The run with its open mutants replaced by how today's checks graded them (keyed by the run's key): a kill today
 * counts, with `regradedAt`; a mutant that errored today keeps the run's status (the error says nothing of it).
 */
export function regradedReport(
  report: MutateReport,
  today: Map<string | undefined, MutantRecord>,
  commit: string | null,
): MutateReport {
  const mutants = report.mutants.map((m): MutantRecord => {
    const g = today.get(m.key);
    if (!g || g.status === 'error' || g.status === 'equivalent') return m;
    const { by: _by, reason: _reason, ...rest } = m;
    return {
      ...rest,
      status: g.status,
      ...(g.by ? { by: g.by } : {}),
      ...(g.reason ? { reason: g.reason } : {}),
      regradedAt: commit ?? 'unknown',
    };
  });
  return { ...report, mutants, counts: countOf(mutants), score: scoreOf(mutants) };
}
