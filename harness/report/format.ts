// Number, duration and text formatting shared by the renderers, fixed to en-US so reports do not depend on the
// locale of the machine that renders them.
import type { CheckResult, Counts, Environment, TargetResult } from '../results/types.ts';

const formatters = new Map<string, Intl.NumberFormat>();
function nf(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', options);
    formatters.set(key, f);
  }
  return f;
}

/** Few digits for big numbers, three significant ones for small: what a reader compares at a glance. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs === 0) return '0';
  if (abs >= 1000) return nf({ maximumFractionDigits: 0 }).format(n);
  if (abs >= 100) return nf({ maximumFractionDigits: 1 }).format(n);
  if (abs >= 1) return nf({ maximumFractionDigits: 2 }).format(n);
  return nf({ maximumSignificantDigits: 3 }).format(n);
}

/** A measured value with its unit; `ratio` is a bare number and `null` means the harness could not measure it. */
export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined) return 'not measured';
  return unit === 'ratio' || unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${formatNumber(ms)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

export function formatRatio(ratio: number): string {
  return `${formatNumber(ratio)}×`;
}

export function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/** ISO timestamps read as "2025-11-03 14:02:11 UTC"; anything unparsable is shown as given. */
export function formatTimestamp(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function runDurationMs(startedAt: string, finishedAt: string): number | null {
  const a = Date.parse(startedAt);
  const b = Date.parse(finishedAt);
  return Number.isNaN(a) || Number.isNaN(b) || b < a ? null : b - a;
}

/** Shortens prose (e.g. a target's origin) to one line of at most `max` characters, cut at a word. */
export function abbreviate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

/** The comparison a target makes, e.g. ">= 1,157 req/s"; info targets only report. */
export function formatTargetRule(t: TargetResult, opStyle: 'ascii' | 'math' = 'ascii'): string {
  if (t.op === 'info') return t.target === null ? 'info' : `info (ref. ${formatValue(t.target, t.unit)})`;
  const op = opStyle === 'math' ? (t.op === '>=' ? '≥' : '≤') : t.op;
  if (t.target === null) return `${op} (no target)`;
  return `${op} ${formatValue(t.target, t.unit)}`;
}

/**
 * The share of its yardstick a target reached. The schema defines `ratio` as value / yardstick.value, but a target
 * whose unit is already `ratio` (capacity as a share of a no-op server, URL-T6) carries that share in `value`, and
 * dividing it again by the yardstick's req/s would give nonsense, so its value is the ratio.
 */
export function yardstickRatio(t: TargetResult): number | undefined {
  const y = t.yardstick;
  if (!y || t.value === null) return undefined;
  if (t.unit === 'ratio' && y.unit !== 'ratio') return t.value;
  if (t.ratio !== undefined) return t.ratio;
  return y.value !== 0 ? t.value / y.value : undefined;
}

export function formatYardstick(t: TargetResult): string {
  if (!t.yardstick) return '';
  const y = t.yardstick;
  const ratio = yardstickRatio(t);
  const of = `${y.name} (${formatValue(y.value, y.unit)})`;
  return ratio === undefined ? of : `${formatRatio(ratio)} of ${of}`;
}

export function countsTotal(c: Counts): number {
  return c.pass + c.fail + c.skipped + c.error;
}

/** Counts checks from the checks themselves, so renderers never trust a stale `counts` block for per-kind rows. */
export function countChecks(checks: readonly CheckResult[]): Counts {
  const c: Counts = { pass: 0, fail: 0, skipped: 0, error: 0 };
  for (const check of checks) c[check.status]++;
  return c;
}

export function describeEnvironment(env: Environment): [label: string, value: string][] {
  return [
    ['CPU', `${env.cpuModel} (${env.cores} ${env.cores === 1 ? 'core' : 'cores'})`],
    ['Memory', formatBytes(env.memoryBytes)],
    ['OS', env.os],
    ['Node', env.node],
    ['k6', env.k6 ?? 'not used'],
    ['Commit', env.gitCommit ?? 'unknown'],
    ['CI', env.ci ? 'yes' : 'no'],
    ...(env.services
      ? ([
          ['PostgreSQL', env.services.postgres],
          ['Redis', env.services.redis],
        ] as [string, string][])
      : []),
  ];
}

export const CHECK_KINDS = ['conformance', 'property', 'fault'] as const;
