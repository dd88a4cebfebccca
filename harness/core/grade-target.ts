// Verdicts for measured targets: one rule for every chapter, so a number is graded the same way everywhere.
import type { TargetResult } from '../results/types.ts';
import type { Profile } from './load-run.ts';
import type { ResolvedTarget } from './resolve-targets.ts';

export interface Measurement {
  value: number | null;
  /** Why there is no value, or what else the verdict needs to know. */
  reason?: string;
  /** Extra conditions for a pass (e.g. no dropped iterations); the first failing one is the reason. */
  conditions?: { ok: boolean; why: string }[];
  yardstick?: { name: string; value: number; unit: string };
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
  return r;
}
