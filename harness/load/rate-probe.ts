// Runs rate-probe.js: one endpoint at fixed arrival rates, measured the way a chapter's load test is (open model:
// a rate not carried shows as dropped iterations), with k6's own CPU use beside it.
import { fileURLToPath } from 'node:url';
import { round3 } from '../core/stats.ts';
import type { LoadGeneratorUse } from '../results/types.ts';
import { sampleK6Cpu } from './k6-cpu.ts';
import { runK6 } from './k6-runner.ts';
import { measuredScenario } from './measured-scenario.ts';

export const RATE_PROBE_SCRIPT = fileURLToPath(new URL('./rate-probe.js', import.meta.url));

export interface RateProbeOptions {
  url: string;
  /** Requests per second by scenario name, offered together. */
  rates: Record<string, number>;
  warmupS: number;
  durationS: number;
  method?: string;
  /** JSON text; "{n}" becomes unique per request. */
  body?: string;
  /** Requests per iteration, one after another (default 1); rates and rps count iterations. */
  requestsPerIteration?: number;
  outDir: string;
  k6: string;
}

export interface RateProbeResult {
  offered: number;
  rps: number;
  dropped: number;
  errorRate: number;
  p99Ms: number;
  /** Responses that were not 2xx/3xx. */
  badStatus: number;
  /** No dropped iterations, no failed requests, no bad status. */
  carried: boolean;
  loadGenerator: LoadGeneratorUse;
}

export async function rateProbe(o: RateProbeOptions): Promise<RateProbeResult> {
  const cpu = sampleK6Cpu();
  let stopped = false;
  try {
    const run = await runK6({
      script: RATE_PROBE_SCRIPT,
      env: {
        TARGET_URL: o.url,
        RATES: JSON.stringify(o.rates),
        WARMUP: `${o.warmupS}s`,
        DURATION: `${o.durationS}s`,
        ...(o.method ? { METHOD: o.method } : {}),
        ...(o.body !== undefined ? { BODY: o.body } : {}),
        ...(o.requestsPerIteration ? { REQUESTS: String(o.requestsPerIteration) } : {}),
      },
      outDir: o.outDir,
      k6: o.k6,
      timeoutMs: (o.warmupS + o.durationS + 60) * 1000,
    });
    const names = Object.keys(o.rates);
    const scenarios = names.map((n) => measuredScenario(run.summary, n, o.durationS));
    const dropped = scenarios.reduce((s, x) => s + x.dropped, 0);
    const count = scenarios.reduce((s, x) => s + x.count, 0);
    const errorRate = Math.max(0, ...scenarios.map((x) => x.stats.errorRate));
    const bad = run.summary.checks.reduce((s, c) => s + c.fails, 0);
    const p99Ms = Math.max(0, ...scenarios.map((x) => x.stats.latencyMs.p99));
    const loadGenerator = cpu.stop(dropped);
    stopped = true;
    return {
      offered: round3(names.reduce((s, n) => s + (o.rates[n] ?? 0), 0)),
      rps: round3(count / o.durationS / (o.requestsPerIteration ?? 1)),
      dropped,
      errorRate: round3(errorRate),
      p99Ms: round3(p99Ms),
      badStatus: bad,
      carried: dropped === 0 && errorRate === 0 && bad === 0,
      loadGenerator,
    };
  } finally {
    if (!stopped) cpu.stop(0);
  }
}
