// The micro-benchmark's verifier and its smoke run: the seeded flow executes identically in the reference engine and
// in nodejs-order-book, the comparison refuses to time an engine broken the way the chapter's matching mutants break
// it, and a smoke run measures every bench target (the ratios are graded by the main job, never by a test).
import { describe, expect, it } from 'vitest';
import type { EngineFaults } from '../../../reference/29-stock-exchange/engine.ts';
import { timeLimit } from '../grade-test-kit.ts';
import { FLOW_SEED, measureEngines } from './bench.ts';
import { buildFlow } from './bench-flow.ts';

const BENCH_TARGETS = ['SE-T7', 'SE-T8', 'SE-T9', 'SE-T10', 'SE-T11', 'SE-T12'];

describe('29-stock-exchange micro-benchmark', () => {
  it('makes a seeded flow both engines execute identically: orders that trade, rest and are cancelled', () => {
    const flow = buildFlow({ events: 20_000, seed: FLOW_SEED });
    expect(flow.mismatch).toBeNull();
    const s = flow.stats;
    expect(s.events).toBe(20_000);
    expect(flow.peerOps).toHaveLength(20_000);
    expect(s.orders + s.cancels).toBe(20_000);
    expect(s.cancels).toBeGreaterThan(s.events / 10);
    expect(s.crossing).toBeGreaterThan(s.orders / 10);
    expect(s.fills).toBeGreaterThan(s.orders / 10);
    expect(s.meanResting).toBeGreaterThan(100);
    // The same seed gives the same flow.
    expect(buildFlow({ events: 2000, seed: FLOW_SEED }).events).toEqual(flow.events.slice(0, 2000));
  });

  it.each([
    ['fifo-broken', { lifo: true }],
    ['partial-fill-loses-quantity', { dropPartlyFilledMaker: true }],
  ] as [string, EngineFaults][])(
    'refuses to time an engine that matches differently (the %s mutant): every target unmeasured, naming the event',
    async (_, faults) => {
      const flow = buildFlow({ events: 20_000, seed: FLOW_SEED }, faults);
      expect(flow.mismatch).toMatch(/^(event \d+ of the flow|at the end of the flow)/);
      const targets = await measureEngines('smoke', () => {}, faults);
      expect(targets.map((t) => `${t.id} ${t.verdict}`)).toEqual(BENCH_TARGETS.map((id) => `${id} skipped`));
      for (const t of targets) expect(t.reason).toContain('not measured: the engines executed the flow differently');
    },
  );

  it(
    'measures both engines on smoke settings into every bench target, each a positive measurement',
    async () => {
      const targets = await measureEngines('smoke', () => {});
      expect(targets.map((t) => t.id)).toEqual(BENCH_TARGETS);
      const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
      for (const t of targets) expect(t.value, t.id).toBeGreaterThan(0);
      for (const id of ['SE-T7', 'SE-T8', 'SE-T9', 'SE-T10']) {
        expect(byId[id]!.ratio, id).toBe(byId[id]!.value);
        expect(byId[id]!.yardstick?.value, id).toBeGreaterThan(0);
      }
      expect(byId['SE-T7']!.reason).toContain('every fill, cancel and the book equal in both engines');
      // p99 is graded in the full profile only; the smoke run reports it.
      expect(byId['SE-T8']!.verdict).toBe('info');
      expect(byId['SE-T11']!.target).toBe(43_000);
    },
    timeLimit(60_000),
  );
});
