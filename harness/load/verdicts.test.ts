// The three verdicts of a rate target end to end with fakes (no k6): a fake machine that can carry so many requests
// per second in all, a fake implementation slower than that or not, the no-op yardstick offered the same rate by
// atOfferedRate, then gradeTarget. Met, missed, and beyond this machine, each from what was measured.
import { describe, expect, it } from 'vitest';
import { gradeTarget } from '../core/grade-target.ts';
import type { ResolvedTarget } from '../core/resolve-targets.ts';
import type { LoadScenario } from '../results/types.ts';
import { type AtRateIo, atOfferedRate } from './at-rate.ts';

const rateTarget: ResolvedTarget = {
  id: 'XX-T1',
  title: 'carries the rate',
  metric: 'rps',
  unit: 'req/s',
  op: '>=',
  value: 1000,
  profile: 'full',
  origin: 'test',
};
const latencyTarget: ResolvedTarget = { ...rateTarget, id: 'XX-T2', metric: 'p99', unit: 'ms', op: '<=', value: 50 };
const SECONDS = 15;

/** What an open-model run of `ceiling` req/s does when offered `offered`: it carries what it can, drops the rest. */
function carry(offered: number, ceiling: number) {
  const rps = Math.min(offered, ceiling);
  const dropped = Math.round((offered - rps) * SECONDS);
  return { rps, dropped, p99Ms: dropped > 0 ? 900 : 4, carried: dropped === 0 };
}

/** The chapter side: the implementation's scenario at the offered rate, then the yardstick, then the verdicts. */
async function grade(o: { offered: number; machine: number; implementation: number }) {
  const impl = carry(o.offered, Math.min(o.machine, o.implementation));
  const scenario: LoadScenario = {
    name: 'read',
    targetRps: o.offered,
    rps: impl.rps,
    errorRate: 0,
    dropped: impl.dropped,
    latencyMs: { p50: 1, p90: 2, p95: 3, p99: impl.p99Ms, max: impl.p99Ms },
  };
  const offeredToNoop: number[] = [];
  const io: AtRateIo = {
    startNoop: async () => ({ url: 'http://noop.invalid', stop: async () => {} }),
    probe: async (p) => {
      const total = Object.values(p.rates).reduce((a, b) => a + b, 0);
      offeredToNoop.push(total);
      return carry(total, o.machine);
    },
  };
  const ctx = { profile: 'full' as const, outDir: '/nonexistent', k6: 'k6', onProgress: () => {} };
  const atRate = await atOfferedRate(ctx, {}, [scenario], io);
  // The no-op server is offered exactly the implementation's scenarios and rates.
  expect(offeredToNoop).toEqual([o.offered]);
  const rate = gradeTarget(
    rateTarget,
    {
      value: scenario.rps,
      conditions: [{ ok: scenario.dropped === 0, why: `${scenario.dropped} iterations dropped` }],
      atRate,
    },
    'full',
  );
  const latency = gradeTarget(latencyTarget, { value: scenario.latencyMs.p99, atRate }, 'full');
  return { rate, latency };
}

describe('the three verdicts of a rate target, from a fake machine and a fake implementation', () => {
  it('met: the implementation carries the rate within its latency', async () => {
    const r = await grade({ offered: 1000, machine: 8000, implementation: 3000 });
    expect(r.rate.verdict).toBe('pass');
    expect(r.latency.verdict).toBe('pass');
  });

  it('missed: the yardstick carried the offered rate, the implementation did not', async () => {
    const r = await grade({ offered: 1000, machine: 8000, implementation: 400 });
    expect(r.rate.verdict).toBe('fail');
    expect(r.rate.reason).toMatch(/^measured 400 req\/s, target >= 1000; /);
    expect(r.rate.reason).toContain('the no-op yardstick carried the same 1000 req/s in this run');
    expect(r.latency.verdict).toBe('fail');
    expect(r.rate.atRate?.yardstick).toMatchObject({ carried: true, rps: 1000, dropped: 0 });
  });

  it('beyond this machine: neither the yardstick nor the implementation carried it, both figures shown', async () => {
    const r = await grade({ offered: 1000, machine: 600, implementation: 3000 });
    expect(r.rate.verdict).toBe('beyond-machine');
    expect(r.rate.reason).toContain('the no-op yardstick was offered the same 1000 req/s in this run');
    expect(r.rate.reason).toContain('carried 600 req/s with 6000 iterations dropped');
    expect(r.rate.reason).toContain('the implementation: measured 600 req/s');
    expect(r.latency.verdict).toBe('beyond-machine');
  });

  it('a slower implementation on a machine too small is still beyond the machine, not missed', async () => {
    // The yardstick could not carry the rate either, so the run cannot tell the implementation's speed from the
    // machine's: that is what the capacity search's ratio is for.
    const r = await grade({ offered: 1000, machine: 600, implementation: 200 });
    expect(r.rate.verdict).toBe('beyond-machine');
    expect(r.rate.reason).toContain('measured 200 req/s');
  });
});
