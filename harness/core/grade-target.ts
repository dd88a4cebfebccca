// Verdicts for measured targets: one rule for every chapter, so a number is graded the same way everywhere.
import type { AtRate, TargetResult } from '../results/types.ts';
import type { Profile } from './load-run.ts';
import type { ResolvedTarget } from './resolve-targets.ts';

export interface Measurement {
  value: number | null;
  /** Why there is no value, or what else the verdict needs to know. */
  reason?: string;
  /** Extra conditions for a pass (e.g. no dropped iterations); the first failing one is the reason. */
  conditions?: { ok: boolean; why: string }[];
  yardstick?: { name: string; value: number; unit: string };
  /**
   * The offered rate the value was measured at, with the no-op yardstick at the same rate and k6's own CPU use:
   * a miss this machine could not have avoided is graded beyond-machine instead of fail.
   */
  atRate?: AtRate;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : String(Math.round(n * 10) / 10));

/** Why a miss is this machine's and not the implementation's, or null when the implementation missed it. */
function machineLimit(t: ResolvedTarget, a: AtRate): string | null {
  const y = a.yardstick;
  const k6 = a.loadGenerator;
  const noop = y
    ? `the no-op yardstick was offered the same ${fmt(a.offeredRps)} req/s in this run and carried ${fmt(y.rps)} req/s (${y.dropped} iterations dropped, p99 ${fmt(y.p99Ms)} ms)`
    : '';
  if (k6?.saturated) {
    const why = k6.why ?? `k6 used ${fmt(k6.cpuCores)} CPU cores`;
    return `the load generator was the bottleneck: ${why}${noop ? `; ${noop}` : ''}`;
  }
  if (!y) return null;
  const latency = t.unit === 'ms' && t.op === '<=' && t.value !== null && y.p99Ms > t.value;
  if (y.carried && !latency) return null;
  const what = latency
    ? `its p99 was ${fmt(y.p99Ms)} ms`
    : `it carried ${fmt(y.rps)} req/s with ${y.dropped} iterations dropped`;
  return `beyond this machine: the no-op yardstick was offered the same ${fmt(a.offeredRps)} req/s in this run and ${what}`;
}

export function gradeTarget(t: ResolvedTarget, m: Measurement, profile: Profile): TargetResult {
  const r: TargetResult = {
    id: t.id,
    title: t.title,
    metric: t.metric,
    unit: t.unit,
    op: t.op,
    value: m.value,
    target: t.value,
    verdict: 'info',
    profile,
  };
  if (t.origin) r.origin = t.origin;
  if (m.atRate) r.atRate = m.atRate;
  if (m.yardstick) {
    r.yardstick = m.yardstick;
    // A value in the yardstick's unit is divided by it; a value that already is a ratio to it (unit "ratio") is it.
    if (m.value !== null && m.yardstick.unit === t.unit && m.yardstick.value > 0)
      r.ratio = Math.round((m.value / m.yardstick.value) * 1000) / 1000;
    else if (m.value !== null && t.unit === 'ratio') r.ratio = m.value;
  }
  if (m.value === null) {
    r.verdict = 'skipped';
    r.reason = m.reason ?? 'not measured';
    return r;
  }
  if (t.op === 'info' || t.value === null) {
    if (m.reason) r.reason = m.reason;
    return r;
  }
  if (t.profile === 'full' && profile !== 'full') {
    r.verdict = 'info';
    r.reason = `graded only in the full profile; this ${profile} run measured it at a fraction of the book's load`;
    return r;
  }
  const met = t.op === '>=' ? m.value >= t.value : m.value <= t.value;
  const failed = (m.conditions ?? []).find((c) => !c.ok);
  r.verdict = met && !failed ? 'pass' : 'fail';
  // A miss says the numbers first, then what the measurement knows about them (where the load ran, its ceiling).
  if (!met) r.reason = `measured ${m.value} ${t.unit}, target ${t.op} ${t.value}${m.reason ? `; ${m.reason}` : ''}`;
  else if (failed) r.reason = failed.why;
  else if (m.reason) r.reason = m.reason;
  if (r.verdict === 'fail' && m.atRate) {
    // Three verdicts for a target at a rate: met, missed (the yardstick carried the rate), beyond this machine.
    const limit = machineLimit(t, m.atRate);
    if (limit) {
      r.verdict = 'beyond-machine';
      r.reason = `${limit}; the implementation: ${r.reason}`;
    } else if (m.atRate.yardstick) {
      const y = m.atRate.yardstick;
      r.reason = `${r.reason}; the no-op yardstick carried the same ${fmt(m.atRate.offeredRps)} req/s in this run (p99 ${fmt(y.p99Ms)} ms)`;
    }
  }
  return r;
}
