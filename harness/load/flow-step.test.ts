// A flow step (27's checkout per iteration) is judged from the chapter script's summary: completed iterations per
// second, the flow's own latency trend against the target, failures, failed body checks and late starts.
import { describe, expect, it } from 'vitest';
import { judgeFlowStep } from './flow-step.ts';
import type { K6Summary } from './k6-summary.ts';

function summary(o: { done: number; p99: number; failed?: number; dropped?: number; checkFails?: number }): K6Summary {
  const trend = (p99: number) => ({ type: 'trend' as const, values: { 'p(50)': p99 / 2, 'p(99)': p99, max: p99 } });
  return {
    metrics: {
      'http_reqs{scenario:pay}': { type: 'counter', count: o.done * 2, rate: 0 },
      'http_req_failed{scenario:pay}': { type: 'rate', rate: o.failed ?? 0, trueCount: 0, falseCount: 0 },
      'http_req_duration{scenario:pay}': trend(40),
      'dropped_iterations{scenario:pay}': { type: 'counter', count: o.dropped ?? 0, rate: 0 },
      'payments{scenario:pay}': { type: 'counter', count: o.done, rate: 0 },
      'create_ms{scenario:pay}': trend(o.p99),
    },
    thresholds: [],
    checks: [{ path: '::create 201', name: 'create 201', passes: o.done, fails: o.checkFails ?? 0 }],
  };
}

const judge = (s: K6Summary, rate = 50) =>
  judgeFlowStep(s, {
    scenario: 'pay',
    iterations: 'payments',
    latencyTrend: 'create_ms',
    latencyMs: 250,
    rate,
    durationS: 8,
  });

describe('judgeFlowStep', () => {
  it('holds when every checkout completed in time, within the target on the flow latency', () => {
    expect(judge(summary({ done: 400, p99: 120 }))).toEqual({
      rate: 50,
      rps: 50,
      p99Ms: 120,
      dropped: 0,
      errorRate: 0,
      ok: true,
    });
  });

  it('misses on the flow latency (not the plain request duration), failures, failed checks or late starts', () => {
    expect(judge(summary({ done: 400, p99: 251 })).ok).toBe(false);
    expect(judge(summary({ done: 400, p99: 100, failed: 0.01 }))).toMatchObject({ ok: false, errorRate: 0.01 });
    expect(judge(summary({ done: 400, p99: 100, checkFails: 4 }))).toMatchObject({ ok: false, errorRate: 0.01 });
    expect(judge(summary({ done: 380, p99: 100, dropped: 20 }))).toMatchObject({ ok: false, dropped: 20 });
    expect(judge(summary({ done: 0, p99: 0 })).ok).toBe(false);
  });

  it('forgives a lone late start in a thousand, as the one-request search does', () => {
    // 250/s for 8 s = 2,000 iterations: 2 may start late.
    expect(judge(summary({ done: 1998, p99: 100, dropped: 2 }), 250).ok).toBe(true);
    expect(judge(summary({ done: 1997, p99: 100, dropped: 3 }), 250).ok).toBe(false);
  });
});
