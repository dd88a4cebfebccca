// The stepped capacity search with fake endpoints (no k6): the yardstick's and the implementation's steps
// interleave, round by round, and the capacity, ratio and nodes needed come out of the steps.
import { describe, expect, it } from 'vitest';
import type { LoadRunContext } from '../core/load-run.ts';
import type { ResolvedTarget } from '../core/resolve-targets.ts';
import type { CapacityStep } from '../results/types.ts';
import {
  type CapacityIo,
  capacityPerNode,
  SEARCH_PLANS,
  SteppedSearch,
  type StepRunner,
  searchSideBySide,
} from './capacity-search.ts';

/** A fake endpoint that holds every rate up to its ceiling; `log` records who ran which rate, in order. */
function fakeEndpoint(name: string, ceiling: (rate: number) => number, log: string[]): StepRunner {
  return async (rate) => {
    log.push(`${name}@${rate}`);
    const ok = rate <= ceiling(rate);
    return { rate, rps: ok ? rate : ceiling(rate), p99Ms: ok ? 2 : 900, dropped: ok ? 0 : 100, errorRate: 0, ok };
  };
}

const step = (rate: number, ok: boolean): CapacityStep => ({
  rate,
  rps: rate,
  p99Ms: ok ? 1 : 500,
  dropped: 0,
  errorRate: 0,
  ok,
});

describe('SteppedSearch', () => {
  it('grows by the factor until a step misses, then bisects between the last hold and the first miss', () => {
    const s = new SteppedSearch(SEARCH_PLANS.full, 100_000);
    const rates: number[] = [];
    for (let r = s.next(); r !== null; r = s.next()) {
      rates.push(r);
      s.record(step(r, r <= 1400));
    }
    expect(rates).toEqual([250, 500, 1000, 2000, 1500, 1250, 1375]);
    expect(s.result(50)).toMatchObject({ capacity: 1375, limitedBy: 'p99 500 ms over 50 ms at 1500 req/s' });
  });

  it('steps down when the first rate already misses, and says the top rate held when nothing missed', () => {
    const down = new SteppedSearch(SEARCH_PLANS.smoke, 1000);
    const rates: number[] = [];
    for (let r = down.next(); r !== null; r = down.next()) {
      rates.push(r);
      down.record(step(r, r <= 30));
    }
    expect(rates).toEqual([100, 25]);
    expect(down.result(50).capacity).toBe(25);

    const top = new SteppedSearch(SEARCH_PLANS.smoke, 300);
    for (let r = top.next(); r !== null; r = top.next()) top.record(step(r, true));
    expect(top.result(50)).toMatchObject({ capacity: 300, limitedBy: "the search's top rate (300 req/s) held" });
  });
});

describe('searchSideBySide', () => {
  it('interleaves the yardstick and the implementation step by step, alternating who goes first', async () => {
    const log: string[] = [];
    const r = await searchSideBySide(
      SEARCH_PLANS.full,
      50,
      { name: 'noop', maxRps: 64_000, run: fakeEndpoint('noop', () => 3000, log) },
      { name: 'impl', maxRps: 64_000, run: fakeEndpoint('impl', () => 700, log) },
    );
    // Same rates while both hold, one step of each per round; the yardstick goes on alone once the implementation
    // is done.
    expect(log).toEqual([
      'noop@250',
      'impl@250',
      'impl@500',
      'noop@500',
      'noop@1000',
      'impl@1000',
      'impl@750',
      'noop@2000',
      'noop@4000',
      'impl@625',
      'impl@688',
      'noop@3000',
      'noop@3500',
      'noop@3250',
    ]);
    expect(r.impl.capacity).toBe(688);
    expect(r.yardstick.capacity).toBe(3000);
    // Every step knows its round, and each round before the implementation finished had one step of each.
    const rounds = (steps: CapacityStep[]) => steps.map((s) => s.round);
    expect(rounds(r.impl.steps)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rounds(r.yardstick.steps)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps the ratio when the machine gets busier mid-run, where one whole search after the other does not', async () => {
    // The machine loses 3% of its speed with every step (others start their tests); the implementation is always
    // half as fast as the yardstick.
    let calls = 0;
    const speed = () => Math.max(0.2, 1 - 0.03 * calls++);
    const endpoint =
      (ceiling: number): StepRunner =>
      async (rate) => {
        const ok = rate <= ceiling * speed();
        return { rate, rps: rate, p99Ms: ok ? 1 : 900, dropped: 0, errorRate: 0, ok };
      };
    const side = await searchSideBySide(
      SEARCH_PLANS.full,
      50,
      { name: 'noop', maxRps: 64_000, run: endpoint(4000) },
      { name: 'impl', maxRps: 64_000, run: endpoint(2000) },
    );
    const sideRatio = side.impl.capacity / side.yardstick.capacity;

    calls = 0;
    const alone = async (run: StepRunner) => {
      const s = new SteppedSearch(SEARCH_PLANS.full, 64_000);
      for (let r = s.next(); r !== null; r = s.next()) s.record(await run(r, s.steps.length));
      return s.result(50).capacity;
    };
    const noopFirst = await alone(endpoint(4000));
    const thenImpl = await alone(endpoint(2000));
    // Side by side the ratio stays the true 0.5; one search after the other puts the slowdown on the
    // implementation alone (1,125 / 3,000 req/s).
    expect(sideRatio).toBe(0.5);
    expect(thenImpl / noopFirst).toBeLessThan(0.4);
  });
});

describe('capacityPerNode with fake endpoints', () => {
  const common = { profile: 'any', origin: 'test' } as const;
  const rate: ResolvedTarget = {
    ...common,
    id: 'XX-T1',
    title: 'rate',
    metric: 'rps',
    unit: 'req/s',
    op: '>=',
    value: 5000,
  };
  const latency: ResolvedTarget = {
    ...common,
    id: 'XX-T2',
    title: 'p99',
    metric: 'p99',
    unit: 'ms',
    op: '<=',
    value: 50,
  };
  const ctx = { profile: 'full', outDir: '/nonexistent', k6: 'k6', onProgress: () => {} } as unknown as LoadRunContext;
  const io = (noop: number, impl: number): CapacityIo => ({
    startNoop: async () => ({ url: 'http://noop.invalid', stop: async () => {} }),
    stepRunner: (o) => fakeEndpoint(o.url, () => (o.url.startsWith('http://noop.invalid') ? noop : impl), []),
  });

  it('gives capacity per node, its ratio to the yardstick searched beside it, and the nodes the book rate needs', async () => {
    const [c] = await capacityPerNode(
      ctx,
      [{ target: rate, latency, label: 'read', url: 'http://impl' }],
      io(8000, 1200),
    );
    expect(c).toMatchObject({ target: 'XX-T1', bookRate: 5000, yardstick: 8000, nodesNeeded: 5 });
    expect(c!.perNode).toBeGreaterThan(1000);
    expect(c!.perNode).toBeLessThanOrEqual(1200);
    expect(c!.ratio).toBe(Math.round((c!.perNode! / 8000) * 1000) / 1000);
    expect(c!.steps!.every((s) => s.round !== undefined)).toBe(true);
  });

  it('measures capacity without making up a node count where the book gives no rate', async () => {
    const [c] = await capacityPerNode(
      ctx,
      [{ target: latency, latency, label: 'decision', url: 'http://impl' }],
      io(8000, 1200),
    );
    expect(c).toMatchObject({ target: 'XX-T2', bookRate: 0, nodesNeeded: null, unit: 'req/s' });
    expect(c!.perNode).toBeGreaterThan(0);
    expect(c!.reason).toMatch(/book gives no rate/);
  });

  it('says the latency bound is beyond this machine when the no-op server beside it held no step either', async () => {
    const [c] = await capacityPerNode(ctx, [{ target: rate, latency, label: 'read', url: 'http://impl' }], io(5, 5));
    expect(c).toMatchObject({ perNode: null, yardstick: null, ratio: null });
    expect(c!.limitedBy).toMatch(/the no-op server beside it held no step either .*: beyond this machine$/);
  });

  it('measures capacity and its ratio but makes no node count where the book rate cannot spread over nodes', async () => {
    const [c] = await capacityPerNode(
      ctx,
      [
        {
          target: rate,
          latency,
          label: 'order',
          url: 'http://impl',
          noNodeCount: 'one engine per symbol',
          assumption: 'one engine',
        },
      ],
      io(8000, 1200),
    );
    expect(c).toMatchObject({ bookRate: 5000, yardstick: 8000, nodesNeeded: null, assumption: 'one engine' });
    expect(c!.perNode).toBeGreaterThan(1000);
    expect(c!.ratio).toBe(Math.round((c!.perNode! / 8000) * 1000) / 1000);
    expect(c!.reason).toBe('no node count: one engine per symbol');
  });

  it('searches past twice the book rate up to maxRps, so a low book rate still finds the node capacity', async () => {
    const low = { ...rate, value: 3 };
    const [capped] = await capacityPerNode(
      ctx,
      [{ target: low, latency, label: 'r', url: 'http://impl' }],
      io(8000, 1200),
    );
    // Capped at twice the book's rate: one step at 6/s holds and the search stops there.
    expect(capped).toMatchObject({ perNode: 6, nodesNeeded: 1, limitedBy: "the search's top rate (6 req/s) held" });
    const [c] = await capacityPerNode(
      ctx,
      [{ target: low, latency, label: 'r', url: 'http://impl', maxRps: 12_800 }],
      io(8000, 1200),
    );
    expect(c!.perNode).toBeGreaterThan(1000);
    expect(c!.perNode).toBeLessThanOrEqual(1200);
    expect(c!.limitedBy).toMatch(/dropped at \d+ req\/s$/);
    expect(c).toMatchObject({ bookRate: 3, nodesNeeded: 1 });
  });

  it('says no step held when even the lowest rate misses', async () => {
    const [c] = await capacityPerNode(ctx, [{ target: rate, latency, label: 'read', url: 'http://impl' }], io(8000, 5));
    expect(c).toMatchObject({ perNode: null, ratio: null, nodesNeeded: null });
    expect(c!.reason).toMatch(/^no step held: /);
  });

  it('runs a custom search: its own plan and steps, the no-op offered as many requests per iteration', async () => {
    const seen: { url: string; perIteration: number | undefined; startRps: number }[] = [];
    const flowIo: CapacityIo = {
      startNoop: async () => ({ url: 'http://noop.invalid', stop: async () => {} }),
      stepRunner: (o) => {
        seen.push({ url: o.url, perIteration: o.requestsPerIteration, startRps: o.plan!.startRps });
        return fakeEndpoint('noop', () => 900, []);
      },
    };
    const plan = { startRps: 10, factor: 2, maxSteps: 8, refine: 2, warmupS: 1, stepS: 1 };
    const implRates: number[] = [];
    const [c] = await capacityPerNode(
      ctx,
      [
        {
          target: rate,
          latency,
          label: 'checkout',
          url: 'http://impl',
          search: {
            plans: { smoke: plan, full: plan },
            requestsPerIteration: 2,
            impl: (o) => {
              expect(o.plan).toBe(plan);
              return async (r) => {
                implRates.push(r);
                return step(r, r <= 50);
              };
            },
          },
        },
      ],
      flowIo,
    );
    expect(seen).toEqual([{ url: 'http://noop.invalid/', perIteration: 2, startRps: 10 }]);
    expect(implRates.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(c).toMatchObject({ target: 'XX-T1', perNode: 50, nodesNeeded: 100, unit: 'req/s' });
    expect(c!.yardstick).toBeGreaterThanOrEqual(640);
    expect(c!.yardstick).toBeLessThanOrEqual(900);
  });

  it('uses a custom search its own yardstick, started and stopped beside it, and says its unit', async () => {
    const events: string[] = [];
    const [c] = await capacityPerNode(
      ctx,
      [
        {
          target: latency,
          latency,
          label: 'fan-out',
          url: 'http://impl',
          unit: 'msg/s',
          search: {
            plans: { smoke: SEARCH_PLANS.smoke, full: { ...SEARCH_PLANS.full, startRps: 25 } },
            impl: () => async (r) => step(r, false),
            yardstick: {
              name: 'the no-op fan-out server',
              start: async () => {
                events.push('start');
                return { url: 'http://fanout.invalid', stop: async () => void events.push('stop') };
              },
              run: (url) => async (r) => {
                events.push(`${url}@${r}`);
                return step(r, false);
              },
            },
          },
        },
      ],
      io(8000, 8000),
    );
    expect(events[0]).toBe('start');
    expect(events.at(-1)).toBe('stop');
    expect(events).toContain('http://fanout.invalid@25');
    expect(c).toMatchObject({ unit: 'msg/s', perNode: null, yardstick: null, bookRate: 0 });
    expect(c!.limitedBy).toMatch(/at \d+ msg\/s/);
    expect(c!.limitedBy).toMatch(/the no-op fan-out server beside it held no step either/);
  });
});
