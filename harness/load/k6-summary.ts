// A typed view of k6's end-of-test summary as `k6 run --summary-export=<file>` writes it (k6 v1.x, the default
// "legacy" export format). The raw file is awkward in two places, normalised here:
// - a rate metric's `passes`/`fails` count non-zero/zero samples, so for http_req_failed "passes" are failures;
// - a threshold maps to `true` when it was CROSSED (failed).

/** Trend stats as asked for with --summary-trend-stats, keyed "avg", "min", "med", "max", "p(95)", ... */
export type K6TrendValues = Record<string, number>;

export type K6Metric =
  | { type: 'trend'; values: K6TrendValues }
  | { type: 'counter'; count: number; rate: number }
  /** trueCount = samples that were non-zero (for http_req_failed: failed requests). */
  | { type: 'rate'; rate: number; trueCount: number; falseCount: number }
  | { type: 'gauge'; value: number; min: number; max: number };

export interface K6Threshold {
  /** Metric name as declared, e.g. "http_req_duration{scenario:redirect}" */
  metric: string;
  /** e.g. "p(99)<250" */
  expression: string;
  ok: boolean;
}

export interface K6Check {
  /** Group path + name, e.g. "::status 2xx" */
  path: string;
  name: string;
  passes: number;
  fails: number;
}

export interface K6Summary {
  /** Metrics by name; submetrics appear only for thresholds declared on them, e.g. "http_reqs{scenario:x}". */
  metrics: Record<string, K6Metric>;
  thresholds: K6Threshold[];
  checks: K6Check[];
}

interface RawGroup {
  groups?: Record<string, RawGroup> | RawGroup[];
  checks?: Record<string, { name: string; path: string; passes: number; fails: number }> | K6Check[];
}

interface RawSummary {
  metrics?: Record<string, Record<string, unknown>>;
  root_group?: RawGroup;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number.NaN;
}

function toMetric(raw: Record<string, unknown>): K6Metric {
  const { thresholds: _t, ...values } = raw;
  if ('count' in values && 'rate' in values)
    return { type: 'counter', count: num(values.count), rate: num(values.rate) };
  if ('passes' in values && 'fails' in values) {
    return { type: 'rate', rate: num(values.value), trueCount: num(values.passes), falseCount: num(values.fails) };
  }
  if ('avg' in values || 'med' in values) {
    const trend: K6TrendValues = {};
    for (const [k, v] of Object.entries(values)) if (typeof v === 'number') trend[k] = v;
    return { type: 'trend', values: trend };
  }
  return { type: 'gauge', value: num(values.value), min: num(values.min), max: num(values.max) };
}

function collectChecks(group: RawGroup | undefined, out: K6Check[]): void {
  if (!group) return;
  for (const c of Object.values(group.checks ?? {})) {
    out.push({ path: c.path, name: c.name, passes: c.passes, fails: c.fails });
  }
  for (const g of Object.values(group.groups ?? {})) collectChecks(g, out);
}

/** Parses the JSON text of a --summary-export file. */
export function parseK6Summary(json: string): K6Summary {
  const raw = JSON.parse(json) as RawSummary;
  const metrics: Record<string, K6Metric> = {};
  const thresholds: K6Threshold[] = [];
  for (const [name, m] of Object.entries(raw.metrics ?? {})) {
    metrics[name] = toMetric(m);
    const t = m.thresholds;
    if (t && typeof t === 'object') {
      for (const [expression, crossed] of Object.entries(t as Record<string, boolean>)) {
        thresholds.push({ metric: name, expression, ok: crossed === false });
      }
    }
  }
  const checks: K6Check[] = [];
  collectChecks(raw.root_group, checks);
  return { metrics, thresholds, checks };
}

export interface ScenarioResult {
  /** Requests per second of this scenario over the whole test run. */
  rps: number;
  /** Share of failed requests (k6's http_req_failed: network errors and, by default, status >= 400). */
  errorRate: number;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
}

function metricOf<T extends K6Metric['type']>(
  summary: K6Summary,
  name: string,
  type: T,
): Extract<K6Metric, { type: T }> {
  const m = summary.metrics[name];
  if (!m) {
    throw new Error(
      `k6 summary has no metric ${name}: k6 exports per-scenario submetrics only when the script declares a ` +
        `threshold on them, e.g. thresholds: { '${name}': [...] }`,
    );
  }
  if (m.type !== type) throw new Error(`k6 metric ${name} is a ${m.type}, expected a ${type}`);
  return m as Extract<K6Metric, { type: T }>;
}

/**
 * Per-scenario numbers from tagged submetrics. REQUIREMENT on the k6 script: declare a threshold on each of
 * `http_reqs{scenario:NAME}`, `http_req_failed{scenario:NAME}` and `http_req_duration{scenario:NAME}` (a
 * trivially true one such as 'count>=0', 'rate>=0', 'max>=0' will do) — k6 computes and exports a submetric only
 * when a threshold names it.
 */
export function extractScenario(summary: K6Summary, scenario: string): ScenarioResult {
  const reqs = metricOf(summary, `http_reqs{scenario:${scenario}}`, 'counter');
  const failed = metricOf(summary, `http_req_failed{scenario:${scenario}}`, 'rate');
  const d = metricOf(summary, `http_req_duration{scenario:${scenario}}`, 'trend').values;
  const stat = (k: string, alt?: string): number => d[k] ?? (alt ? d[alt] : undefined) ?? Number.NaN;
  return {
    rps: reqs.rate,
    errorRate: failed.rate,
    latencyMs: {
      p50: stat('p(50)', 'med'),
      p90: stat('p(90)'),
      p95: stat('p(95)'),
      p99: stat('p(99)'),
      max: stat('max'),
    },
  };
}
