// Merges the raw samples of several k6 processes (one per execution segment, each run with `--out csv=<file>`)
// into one summary of the same shape `k6 run --summary-export` gives, so a chapter grades a segmented or remote run
// exactly as it grades its own. Percentiles come from all samples together, by k6's own rule (linear interpolation
// between the nearest ranks), never from averaging each process's percentiles.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { SUMMARY_TREND_STATS } from './k6-runner.ts';
import type { K6Check, K6Metric, K6Summary } from './k6-summary.ts';

export type MetricType = 'counter' | 'trend' | 'rate' | 'gauge';

/** k6's built-in metrics (k6 v1: HTTP, WebSocket, execution, data). */
export const BUILTIN_METRIC_TYPES: Readonly<Record<string, MetricType>> = {
  http_reqs: 'counter',
  http_req_failed: 'rate',
  http_req_duration: 'trend',
  http_req_blocked: 'trend',
  http_req_connecting: 'trend',
  http_req_tls_handshaking: 'trend',
  http_req_sending: 'trend',
  http_req_waiting: 'trend',
  http_req_receiving: 'trend',
  iterations: 'counter',
  iteration_duration: 'trend',
  dropped_iterations: 'counter',
  data_sent: 'counter',
  data_received: 'counter',
  checks: 'rate',
  group_duration: 'trend',
  vus: 'gauge',
  vus_max: 'gauge',
  ws_sessions: 'counter',
  ws_msgs_sent: 'counter',
  ws_msgs_received: 'counter',
  ws_connecting: 'trend',
  ws_session_duration: 'trend',
  ws_ping: 'trend',
};

/** Custom metric types declared in k6 script sources: `new Counter('ids')`, `new Trend('create_ms', true)`. */
export function metricTypesOf(sources: readonly string[]): Record<string, MetricType> {
  const out: Record<string, MetricType> = { ...BUILTIN_METRIC_TYPES };
  for (const src of sources) {
    for (const m of src.matchAll(/new\s+(Counter|Trend|Rate|Gauge)\(\s*['"]([A-Za-z0-9_]+)['"]/g)) {
      out[m[2]!] = m[1]!.toLowerCase() as MetricType;
    }
  }
  return out;
}

/** k6's TrendSink percentile: linear interpolation between the nearest ranks of the sorted samples. */
export function k6Percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (n === 1) return sorted[0]!;
  const i = p * (n - 1);
  const lo = sorted[Math.floor(i)]!;
  const hi = sorted[Math.ceil(i)]!;
  return lo + (hi - lo) * (i - Math.floor(i));
}

/** One CSV line into fields; k6 quotes a field that holds a comma or a quote (Go's encoding/csv). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

interface Acc {
  values: number[];
  /** Samples seen. */
  n: number;
  sum: number;
  nonZero: number;
  last: number;
  lastTs: number;
  min: number;
  max: number;
}

const newAcc = (): Acc => ({
  values: [],
  n: 0,
  sum: 0,
  nonZero: 0,
  last: 0,
  lastTs: -1,
  min: Infinity,
  max: -Infinity,
});

/** Accumulates samples from any number of k6 CSV outputs. */
export class SampleMerger {
  /** By metric, then by scenario ('' = no scenario tag). */
  private readonly byMetric = new Map<string, Map<string, Acc>>();
  private readonly checks = new Map<string, K6Check>();
  private minTs = Infinity;
  private maxTs = -Infinity;
  /** Samples read per file, in the order files were added. */
  readonly rowsPerFile: number[] = [];

  constructor(private readonly types: Readonly<Record<string, MetricType>>) {}

  /** Reads one k6 CSV file (gzip when it ends in .gz); lines before the CSV header (e.g. a pod's log) are skipped. */
  async addFile(path: string): Promise<void> {
    const raw = createReadStream(path);
    const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    let cols: Record<string, number> | null = null;
    let rows = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (!cols) {
        if (line.startsWith('metric_name,')) {
          cols = Object.fromEntries(splitCsvLine(line).map((name, i) => [name, i]));
        }
        continue;
      }
      if (!line || line.startsWith('metric_name,')) continue;
      const f = splitCsvLine(line);
      const name = f[cols.metric_name!];
      const value = Number(f[cols.metric_value!]);
      const ts = Number(f[cols.timestamp!]);
      if (!name || !Number.isFinite(value)) continue;
      this.add(name, value, ts, f[cols.scenario!] ?? '', f[cols.check!] ?? '', f[cols.group!] ?? '');
      rows++;
    }
    if (!cols) throw new Error(`${path} holds no k6 CSV output (no line starts with "metric_name,")`);
    this.rowsPerFile.push(rows);
  }

  add(name: string, value: number, ts: number, scenario: string, check = '', group = ''): void {
    if (Number.isFinite(ts)) {
      this.minTs = Math.min(this.minTs, ts);
      this.maxTs = Math.max(this.maxTs, ts);
    }
    let m = this.byMetric.get(name);
    if (!m) {
      m = new Map();
      this.byMetric.set(name, m);
    }
    let a = m.get(scenario);
    if (!a) {
      a = newAcc();
      m.set(scenario, a);
    }
    const type = this.types[name] ?? 'trend';
    if (type === 'trend') a.values.push(value);
    a.n++;
    a.sum += value;
    if (value !== 0) a.nonZero++;
    a.min = Math.min(a.min, value);
    a.max = Math.max(a.max, value);
    if (ts >= a.lastTs) {
      a.lastTs = ts;
      a.last = value;
    }
    if (name === 'checks' && check) {
      const path = `${group}::${check}`;
      const c = this.checks.get(path) ?? { path, name: check, passes: 0, fails: 0 };
      if (value !== 0) c.passes++;
      else c.fails++;
      this.checks.set(path, c);
    }
  }

  /** Every sample of a trend, sorted (all scenarios, or one). */
  trendSamples(metric: string, scenario?: string): number[] {
    const m = this.byMetric.get(metric);
    if (!m) return [];
    const parts = scenario === undefined ? [...m.values()] : [m.get(scenario) ?? newAcc()];
    return parts.flatMap((a) => a.values).sort((x, y) => x - y);
  }

  /** Seconds between the first and the last sample (whole seconds: k6's CSV timestamps), at least 1. */
  get seconds(): number {
    return Number.isFinite(this.minTs) ? Math.max(1, this.maxTs - this.minTs + 1) : 1;
  }

  private metric(name: string, accs: Acc[]): K6Metric {
    const type = this.types[name] ?? 'trend';
    const count = accs.reduce((n, a) => n + a.n, 0);
    const sum = accs.reduce((n, a) => n + a.sum, 0);
    if (type === 'counter') return { type, count: sum, rate: sum / this.seconds };
    if (type === 'rate') {
      const nonZero = accs.reduce((n, a) => n + a.nonZero, 0);
      return { type, rate: count ? nonZero / count : 0, trueCount: nonZero, falseCount: count - nonZero };
    }
    if (type === 'gauge') {
      const latest = accs.reduce((b, a) => (a.lastTs > b.lastTs ? a : b), newAcc());
      return {
        type,
        value: latest.last,
        min: Math.min(...accs.map((a) => a.min)),
        max: Math.max(...accs.map((a) => a.max)),
      };
    }
    const sorted = accs.flatMap((a) => a.values).sort((x, y) => x - y);
    const values: Record<string, number> = {};
    for (const stat of SUMMARY_TREND_STATS.split(',')) {
      const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
      if (p) values[stat] = k6Percentile(sorted, Number(p[1]) / 100);
      else if (stat === 'med') values.med = k6Percentile(sorted, 0.5);
      else if (stat === 'avg') values.avg = count ? sum / count : 0;
      else if (stat === 'min') values.min = sorted[0] ?? 0;
      else if (stat === 'max') values.max = sorted.at(-1) ?? 0;
    }
    return { type: 'trend', values };
  }

  /** The merged summary: every metric overall and per scenario, as `name` and `name{scenario:S}`. */
  summary(): K6Summary {
    const metrics: Record<string, K6Metric> = {};
    for (const [name, byScenario] of this.byMetric) {
      metrics[name] = this.metric(name, [...byScenario.values()]);
      for (const [scenario, acc] of byScenario) {
        if (scenario) metrics[`${name}{scenario:${scenario}}`] = this.metric(name, [acc]);
      }
    }
    return { metrics, thresholds: [], checks: [...this.checks.values()] };
  }
}
