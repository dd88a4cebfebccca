// A scenario of an open-model k6 run as the targets need it: requests, dropped iterations (the rate was not carried)
// and custom counters, with the rate over the scenario's own duration (k6's own rate divides by the whole test,
// set-up and warm-up included).
import { round3 } from '../core/stats.ts';
import type { LoadGeneratorUse, LoadResult, LoadScenario } from '../results/types.ts';
import { extractScenario, type K6Summary, type RunK6Result } from './k6-runner.ts';

export interface MeasuredScenario {
  count: number;
  dropped: number;
  /** Custom counters the script tags by scenario (e.g. `ids{scenario:batch}`), by name. */
  counters: Record<string, number>;
  stats: Omit<LoadScenario, 'name' | 'targetRps'>;
}

/**
 * A failure share to three decimals, except that a non-zero share never rounds to 0 (one failure in 5,000 requests
 * is 0.0002, not a pass of a target "nothing fails").
 */
export function shareOf(x: number): number {
  const r = round3(x);
  return r === 0 && x > 0 ? Number(x.toPrecision(2)) : r;
}

export function measuredScenario(
  summary: K6Summary,
  name: string,
  seconds: number,
  counters: string[] = [],
): MeasuredScenario {
  const s = extractScenario(summary, name);
  const counter = (metric: string) => {
    const m = summary.metrics[`${metric}{scenario:${name}}`];
    return m?.type === 'counter' ? m.count : 0;
  };
  const count = counter('http_reqs');
  const dropped = counter('dropped_iterations');
  return {
    count,
    dropped,
    counters: Object.fromEntries(counters.map((c) => [c, counter(c)])),
    stats: { rps: round3(count / seconds), errorRate: shareOf(s.errorRate), latencyMs: s.latencyMs, dropped },
  };
}

/** Share of k6 body checks that failed across the run. */
export function checkFailureRate(summary: K6Summary): { failed: number; total: number; rate: number } {
  const failed = summary.checks.reduce((n, c) => n + c.fails, 0);
  const total = summary.checks.reduce((n, c) => n + c.passes + c.fails, 0);
  return { failed, total, rate: shareOf(failed / Math.max(1, total)) };
}

/** The results' load section for a k6 run; k6's own CPU use (when measured) goes next to each scenario. */
export function loadSection(
  profile: LoadResult['profile'],
  k6Version: string,
  run: Pick<RunK6Result, 'summaryPath' | 'dashboardPath'> & { loadGenerator?: LoadGeneratorUse; segments?: number },
  scenarios: LoadScenario[],
): LoadResult {
  const g = run.loadGenerator;
  return {
    profile,
    tool: `k6 ${k6Version}`,
    summaryPath: run.summaryPath,
    ...(run.dashboardPath ? { dashboardPath: run.dashboardPath } : {}),
    ...(run.segments && run.segments > 1 ? { segments: run.segments } : {}),
    scenarios: g ? scenarios.map((s) => ({ ...s, loadGenerator: g })) : scenarios,
  };
}
