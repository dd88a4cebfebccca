// Measures the throughput ceiling of one GET endpoint with capacity-probe.js. Bare req/s vary 15-25% between
// runs on a 2-core machine, so callers compare this against probeCapacity() of the no-op server, same run.
import { fileURLToPath } from 'node:url';
import { extractScenario, runK6 } from './k6-runner.ts';

export const CAPACITY_PROBE_SCRIPT = fileURLToPath(new URL('./capacity-probe.js', import.meta.url));

export interface ProbeCapacityOptions {
  url: string;
  /** Default GET. */
  method?: string;
  /** JSON text sent as the body (content-type application/json). */
  body?: string;
  durationS: number;
  vus: number;
  outDir: string;
  k6?: string;
  onProgress?: (line: string) => void;
}

export interface CapacityResult {
  rps: number;
  errorRate: number;
  /** p99 latency in ms at that throughput. */
  p99: number;
  /** Share of responses that were not 2xx/3xx (the script's check). */
  badStatusRate: number;
  summaryPath: string;
  dashboardPath: string | null;
}

export async function probeCapacity(opts: ProbeCapacityOptions): Promise<CapacityResult> {
  const run = await runK6({
    script: CAPACITY_PROBE_SCRIPT,
    env: {
      TARGET_URL: opts.url,
      DURATION: `${opts.durationS}s`,
      VUS: String(opts.vus),
      ...(opts.method ? { METHOD: opts.method } : {}),
      ...(opts.body !== undefined ? { BODY: opts.body } : {}),
    },
    outDir: opts.outDir,
    ...(opts.k6 ? { k6: opts.k6 } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    // Duration + graceful stop + start-up, with a wide margin.
    timeoutMs: (opts.durationS + 60) * 1000,
  });
  if (run.exitCode !== 0) {
    throw new Error(
      `capacity probe of ${opts.url}: k6 exited ${run.exitCode} (${run.exitMeaning}); see ${run.stdoutPath}`,
    );
  }
  const s = extractScenario(run.summary, 'probe');
  const check = run.summary.checks.find((c) => c.name === 'status 2xx/3xx');
  const total = check ? check.passes + check.fails : 0;
  return {
    rps: s.rps,
    errorRate: s.errorRate,
    p99: s.latencyMs.p99,
    badStatusRate: total > 0 && check ? check.fails / total : 0,
    summaryPath: run.summaryPath,
    dashboardPath: run.dashboardPath,
  };
}
