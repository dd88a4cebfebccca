// One step of a capacity search whose iteration is a flow of several requests (chapter 27's checkout: create the
// payment, then pay on the PSP's hosted page, whose webhook makes the service charge it), run with the chapter's
// own k6 script at a given arrival rate (the script takes RATE, WARMUP and DURATION). The step holds when no request
// failed, every body check passed, at most 1 in 1,000 iterations started late, and the flow's latency metric has
// its p99 within the target. The yardstick's steps send as many requests per iteration to the no-op server
// (rate-probe.js's REQUESTS), so the ratio compares flows with flows.
import { join } from 'node:path';
import { round3 } from '../core/stats.ts';
import type { CapacityStep } from '../results/types.ts';
import type { SearchPlan, StepRunner } from './capacity-search.ts';
import { sampleK6Cpu } from './k6-cpu.ts';
import { runK6 } from './k6-runner.ts';
import type { K6Summary } from './k6-summary.ts';
import { measuredScenario } from './measured-scenario.ts';

export interface FlowStepOptions {
  /** The chapter's k6 script; it must honour RATE (iterations/s), WARMUP and DURATION. */
  script: string;
  /** More env for the script (TARGET_URL, PROFILE, ...). */
  env: Record<string, string>;
  /** The measured scenario's name, e.g. "pay". */
  scenario: string;
  /** A counter the script adds 1 to per completed iteration, e.g. "payments". */
  iterations: string;
  /** The trend the latency target is about, e.g. "create_ms" (read as its {scenario:<name>} submetric). */
  latencyTrend: string;
  latencyMs: number;
  plan: SearchPlan;
  outDir: string;
  k6: string;
}

/** A step's figures from the script's summary. */
export function judgeFlowStep(
  summary: K6Summary,
  o: Pick<FlowStepOptions, 'scenario' | 'iterations' | 'latencyTrend' | 'latencyMs'> & {
    rate: number;
    durationS: number;
  },
): CapacityStep {
  const s = measuredScenario(summary, o.scenario, o.durationS, [o.iterations]);
  const done = s.counters[o.iterations] ?? 0;
  const trend = summary.metrics[`${o.latencyTrend}{scenario:${o.scenario}}`] ?? summary.metrics[o.latencyTrend];
  const p99 = trend?.type === 'trend' && Number.isFinite(trend.values['p(99)']) ? round3(trend.values['p(99)']!) : 0;
  const failedChecks = summary.checks.reduce((n, c) => n + c.fails, 0);
  const errorRate = Math.max(s.stats.errorRate, failedChecks > 0 ? round3(failedChecks / Math.max(1, done)) : 0);
  return {
    rate: o.rate,
    rps: round3(done / o.durationS),
    p99Ms: p99,
    dropped: s.dropped,
    errorRate,
    ok:
      done > 0 &&
      errorRate === 0 &&
      failedChecks === 0 &&
      s.dropped <= Math.floor(o.rate * o.durationS * 0.001) &&
      p99 <= o.latencyMs,
  };
}

export function flowStepRunner(o: FlowStepOptions): StepRunner {
  return async (rate, index) => {
    const cpu = sampleK6Cpu();
    let stopped = false;
    try {
      const run = await runK6({
        script: o.script,
        env: { ...o.env, RATE: String(rate), WARMUP: `${o.plan.warmupS}s`, DURATION: `${o.plan.stepS}s` },
        outDir: join(o.outDir, `step-${index}`),
        k6: o.k6,
        timeoutMs: (o.plan.warmupS + o.plan.stepS + 90) * 1000,
      });
      const step = judgeFlowStep(run.summary, { ...o, rate, durationS: o.plan.stepS });
      const use = cpu.stop(step.dropped);
      stopped = true;
      return { ...step, k6CpuCores: use.cpuCores };
    } finally {
      if (!stopped) cpu.stop(0);
    }
  };
}
