// Compares two runs: what broke (correctness), what got slower beyond a noise threshold (speed), what got better,
// and what cannot be compared at all. Ratios to a same-run yardstick are preferred over bare numbers because bare
// throughput on a shared 2-core machine moves by double-digit percentages between runs.
import type { CheckResult, LoadScenario, RunResults, TargetResult } from '../results/types.ts';
import {
  abbreviate,
  formatNumber,
  formatPercent,
  formatRatio,
  formatTargetRule,
  formatValue,
  yardstickRatio,
} from './format.ts';

export interface CompareOptions {
  /** Relative change beyond which a measurement counts as a regression or an improvement, e.g. 0.15 = 15%. */
  speedThreshold: number;
}

export interface Comparison {
  runs: { a: string; b: string };
  speedThreshold: number;
  correctnessRegressions: string[];
  speedRegressions: string[];
  improvements: string[];
  /** Items skipped, unmeasured or present in one run only: never counted as regressions or passes. */
  notComparable: string[];
  /** Context that is neither a regression nor an improvement (different machines, undirected info changes). */
  notes: string[];
  /** Compared items (checks, targets, load scenarios) with no regression and no improvement. */
  unchanged: number;
  lines: string[];
  exitCode: 0 | 1;
}

type Direction = 'higher' | 'lower';

interface Tally {
  correctnessRegressions: string[];
  speedRegressions: string[];
  improvements: string[];
  notComparable: string[];
  notes: string[];
  unchanged: number;
}

/** How much worse `b` is than `a` as a fraction of `a` (negative = better); a move away from 0 is infinite. */
export function relativeWorsening(a: number, b: number, better: Direction): number {
  const worseBy = better === 'higher' ? a - b : b - a;
  if (worseBy === 0) return 0;
  if (a === 0) return worseBy > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return worseBy / Math.abs(a);
}

function describeChange(fraction: number): string {
  if (!Number.isFinite(fraction)) return fraction > 0 ? 'worse, from 0' : 'better, from 0';
  return `${formatPercent(Math.abs(fraction))} ${fraction > 0 ? 'worse' : 'better'}`;
}

function indexBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [key(item), item]));
}

/** Walks the union of keys in A's order then B's extras, reporting items present in only one run. */
function pairUp<T>(
  label: string,
  a: readonly T[],
  b: readonly T[],
  key: (item: T) => string,
  tally: Tally,
  visit: (x: T, y: T, name: string) => void,
): void {
  const bByKey = indexBy(b, key);
  const aByKey = indexBy(a, key);
  for (const x of a) {
    const name = `${label} ${key(x)}`;
    const y = bByKey.get(key(x));
    if (y === undefined) tally.notComparable.push(`${name}: only in run A`);
    else visit(x, y, name);
  }
  for (const y of b) {
    if (!aByKey.has(key(y))) tally.notComparable.push(`${label} ${key(y)}: only in run B`);
  }
}

const failing = (c: CheckResult): boolean => c.status === 'fail' || c.status === 'error';

function compareCheck(x: CheckResult, y: CheckResult, name: string, t: Tally): void {
  if (x.status === 'skipped' || y.status === 'skipped') {
    const where = x.status === y.status ? 'both runs' : x.status === 'skipped' ? 'run A' : 'run B';
    t.notComparable.push(`${name}: skipped in ${where}`);
    return;
  }
  if (x.status === 'pass' && failing(y)) {
    const why = y.reason ? `: ${abbreviate(y.reason, 140)}` : '';
    t.correctnessRegressions.push(`${name} (${y.kind}) pass -> ${y.status}${why}`);
  } else if (failing(x) && y.status === 'pass') {
    t.improvements.push(`${name} (${y.kind}) ${x.status} -> pass`);
  } else {
    t.unchanged++;
  }
}

interface Measure {
  what: string;
  a: number;
  b: number;
  show: (v: number) => string;
  better: Direction | null;
}

/** The quantity to compare for a target: its yardstick ratio when both runs have one, else its bare value. */
function targetMeasure(x: TargetResult, y: TargetResult): Measure | null {
  const better: Direction | null = x.op === '>=' ? 'higher' : x.op === '<=' ? 'lower' : null;
  const ra = yardstickRatio(x);
  const rb = yardstickRatio(y);
  if (ra !== undefined && rb !== undefined) {
    const what = `ratio to ${y.yardstick?.name ?? 'yardstick'}`;
    return { what, a: ra, b: rb, show: formatRatio, better };
  }
  if (better === null || x.value === null || y.value === null) return null;
  return { what: y.metric, a: x.value, b: y.value, show: (v) => formatValue(v, y.unit), better };
}

/** Records a measurement's move; returns true when it counted as a regression or an improvement. */
function judge(m: Measure, name: string, threshold: number, t: Tally): boolean {
  const moved = `${name} ${m.what} ${m.show(m.a)} -> ${m.show(m.b)}`;
  if (m.better === null) {
    // Info targets have no "better" direction in the schema, so a big move is worth a note, not a verdict.
    const change = Math.abs(m.b - m.a) / Math.abs(m.a || 1);
    if (change > threshold) t.notes.push(`${moved} (changed ${formatPercent(change)}; info target, no direction)`);
    return false;
  }
  const worse = relativeWorsening(m.a, m.b, m.better);
  const limit = `threshold ${formatPercent(threshold)}`;
  if (worse > threshold) {
    t.speedRegressions.push(`${moved} (${describeChange(worse)}, ${limit})`);
    return true;
  }
  if (worse < -threshold) {
    t.improvements.push(`${moved} (${describeChange(worse)})`);
    return true;
  }
  return false;
}

/**
 * A target beyond this machine in either run is neither a pass nor a regression: the machine could not carry the
 * rate. Unless the yardstick stayed put: met in A and beyond the machine in B with the no-op yardstick carrying the
 * same as before means the implementation lost what the machine still had, a speed regression.
 */
function compareBeyond(x: TargetResult, y: TargetResult, name: string, threshold: number, t: Tally): void {
  const ya = x.atRate?.yardstick?.rps;
  const yb = y.atRate?.yardstick?.rps;
  const moved = ya !== undefined && yb !== undefined ? Math.abs(yb - ya) / Math.max(1, Math.abs(ya)) : undefined;
  const yardstick =
    moved === undefined
      ? 'the yardstick was not measured at the rate in both runs'
      : `no-op yardstick at the rate ${formatNumber(ya!)} -> ${formatNumber(yb!)} req/s`;
  const verdicts = `${x.verdict} -> ${y.verdict}`;
  if (x.verdict === 'pass' && y.verdict === 'beyond-machine' && moved !== undefined && moved <= threshold) {
    t.speedRegressions.push(
      `${name} target met -> beyond this machine while the ${yardstick} stayed within ${formatPercent(threshold)}`,
    );
    return;
  }
  t.notComparable.push(`${name}: beyond this machine (${verdicts}; ${yardstick})`);
  if (moved !== undefined && moved > threshold) t.notes.push(`${name}: the machine moved: ${yardstick}`);
}

function compareTarget(x: TargetResult, y: TargetResult, name: string, threshold: number, t: Tally): void {
  if (x.verdict === 'beyond-machine' || y.verdict === 'beyond-machine') {
    compareBeyond(x, y, name, threshold, t);
    return;
  }
  const skippedIn = [
    x.verdict === 'skipped' || x.value === null ? 'A' : '',
    y.verdict === 'skipped' || y.value === null ? 'B' : '',
  ];
  if (skippedIn.some(Boolean)) {
    const where = skippedIn.every(Boolean) ? 'both runs' : `run ${skippedIn.join('')}`;
    t.notComparable.push(`${name}: skipped or not measured in ${where}`);
    return;
  }
  let moved = false;
  const values = `${formatValue(x.value, x.unit)} -> ${formatValue(y.value, y.unit)}`;
  if (x.verdict === 'pass' && y.verdict === 'fail') {
    t.correctnessRegressions.push(`${name} target met -> missed (${values}, rule ${formatTargetRule(y)})`);
    moved = true;
  } else if (x.verdict === 'fail' && y.verdict === 'pass') {
    t.improvements.push(`${name} target missed -> met (${values})`);
    moved = true;
  }
  const m = targetMeasure(x, y);
  if (m && judge(m, name, threshold, t)) moved = true;
  if (!moved) t.unchanged++;
}

function compareScenario(x: LoadScenario, y: LoadScenario, name: string, threshold: number, t: Tally): void {
  const ms = (v: number) => `${formatNumber(v)} ms`;
  const rps = (v: number) => `${formatNumber(v)} req/s`;
  const p99 = judge(
    { what: 'p99', a: x.latencyMs.p99, b: y.latencyMs.p99, show: ms, better: 'lower' },
    name,
    threshold,
    t,
  );
  const tput = judge({ what: 'throughput', a: x.rps, b: y.rps, show: rps, better: 'higher' }, name, threshold, t);
  if (!p99 && !tput) t.unchanged++;
}

export function compareRuns(a: RunResults, b: RunResults, opts: CompareOptions): Comparison {
  const threshold = opts.speedThreshold;
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new RangeError(`speedThreshold must be a non-negative fraction such as 0.15, got ${threshold}`);
  }
  const t: Tally = {
    correctnessRegressions: [],
    speedRegressions: [],
    improvements: [],
    notComparable: [],
    notes: [],
    unchanged: 0,
  };

  const ea = a.environment;
  const eb = b.environment;
  if (ea.cpuModel !== eb.cpuModel || ea.cores !== eb.cores) {
    t.notes.push(
      `different machines (A: ${ea.cpuModel}, ${ea.cores} cores; B: ${eb.cpuModel}, ${eb.cores} cores): bare numbers are not comparable, ratios are`,
    );
  }

  pairUp(
    'chapter',
    a.chapters,
    b.chapters,
    (c) => c.chapter,
    t,
    (ca, cb) => {
      const label = ca.chapter;
      pairUp(
        label,
        ca.checks,
        cb.checks,
        (c) => c.id,
        t,
        (x, y, name) => compareCheck(x, y, name, t),
      );
      pairUp(
        label,
        ca.targets,
        cb.targets,
        (x) => x.id,
        t,
        (x, y, name) => compareTarget(x, y, name, threshold, t),
      );
      if (ca.load && cb.load) {
        const scenarioLabel = `${label} load scenario`;
        pairUp(
          scenarioLabel,
          ca.load.scenarios,
          cb.load.scenarios,
          (s) => s.name,
          t,
          (x, y, name) => compareScenario(x, y, name, threshold, t),
        );
      } else if (ca.load || cb.load) {
        t.notComparable.push(`${label} load: only in run ${ca.load ? 'A' : 'B'}`);
      }
    },
  );

  const regressed = t.correctnessRegressions.length + t.speedRegressions.length > 0;
  const result: Omit<Comparison, 'lines'> = {
    runs: { a: a.runId, b: b.runId },
    speedThreshold: threshold,
    ...t,
    exitCode: regressed ? 1 : 0,
  };
  return { ...result, lines: formatComparison(result) };
}

/** The lines a CLI prints for a comparison, most important first. */
export function formatComparison(c: Omit<Comparison, 'lines'>): string[] {
  const lines = [
    `Comparing run A ${c.runs.a} with run B ${c.runs.b} (speed threshold ${formatPercent(c.speedThreshold)})`,
  ];
  const section = (title: string, items: readonly string[], always: boolean) => {
    if (items.length === 0 && !always) return;
    lines.push('', `${title} (${items.length})${items.length === 0 ? ': none' : ':'}`);
    for (const item of items) lines.push(`  - ${item}`);
  };
  section('Correctness regressions', c.correctnessRegressions, true);
  section('Speed regressions', c.speedRegressions, true);
  section('Improvements', c.improvements, true);
  section('Not comparable', c.notComparable, false);
  section('Notes', c.notes, false);
  const regressions = c.correctnessRegressions.length + c.speedRegressions.length;
  lines.push(
    '',
    regressions > 0
      ? `REGRESSED: ${c.correctnessRegressions.length} correctness, ${c.speedRegressions.length} speed; ${c.improvements.length} improved, ${c.unchanged} unchanged, ${c.notComparable.length} not comparable`
      : `OK: no regressions; ${c.improvements.length} improved, ${c.unchanged} unchanged, ${c.notComparable.length} not comparable`,
  );
  return lines;
}
