// Capacity per node: the highest arrival rate one node carries while still meeting its latency target, found by a
// short stepped search of the arrival rate with k6 (open model, not a single burst): the rate grows by a factor
// until a step misses (latency over the target, dropped iterations or errors), then bisects between the last
// step that held and the first that missed. The same search against the no-op server, run side by side with it
// (the two take turns step by step), gives the yardstick, and the book's rate over the capacity gives the nodes a
// stateless tier would need.
import { join } from 'node:path';
import type { LoadRunContext, Profile } from '../core/load-run.ts';
import type { ResolvedTarget } from '../core/resolve-targets.ts';
import { round3 } from '../core/stats.ts';
import type { CapacityPerNode, CapacityStep } from '../results/types.ts';
import { SATURATED_CORES } from './k6-cpu.ts';
import { startNoopProcess } from './noop-process.ts';
import { rateProbe } from './rate-probe.ts';

/**
 * Smoke keeps CI short (two to four 1 s steps per side, no bisection: it proves the plumbing, not the number; each
 * step is a k6 process, slow to start on a busy machine); full is a real search.
 */
export const SEARCH_PLANS = {
  smoke: { startRps: 100, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 1 },
  full: { startRps: 250, factor: 2, maxSteps: 9, refine: 3, warmupS: 3, stepS: 8 },
} as const satisfies Record<Profile, SearchPlan>;

export const SCALE_OUT_ASSUMPTION =
  "Nodes needed = the book's rate / capacity per node, rounded up: assumes a stateless tier that scales out " +
  'linearly behind a load balancer. Measured with k6 on the same machine as the node (k6 takes CPU from it), so ' +
  'the capacity is a floor and the node count a ceiling.';

/** One endpoint's steps: what k6StepRunner offers the rates to. */
export interface StepOptions {
  url: string;
  method?: string;
  /** JSON text; "{n}" becomes unique per request. */
  body?: string;
  /** Requests per iteration, one after another (the yardstick of a flow search); default 1. */
  requestsPerIteration?: number;
  latencyMs: number;
  profile: Profile;
  /** Default: SEARCH_PLANS[profile]. */
  plan?: SearchPlan;
  outDir: string;
  k6: string;
}

export interface SearchResult {
  /** Highest rate (req/s) that held; 0 when none did. */
  capacity: number;
  limitedBy: string;
  steps: CapacityStep[];
}

export interface SearchPlan {
  /** The first rate tried, and the factor it grows by while steps hold. */
  startRps: number;
  factor: number;
  /** Growing steps at most; then bisecting steps between the last hold and the first miss. */
  maxSteps: number;
  refine: number;
  /** Each step's ramp, then its measured window. */
  warmupS: number;
  stepS: number;
}

/** One step of a search: the endpoint offered one arrival rate for the plan's step, judged against its target. */
export type StepRunner = (rate: number, index: number) => Promise<CapacityStep>;

function missWhy(s: CapacityStep, latencyMs: number, unit: string): string {
  const at = `at ${Math.round(s.rate)} ${unit}`;
  const k6 = s.k6CpuCores !== undefined && s.k6CpuCores >= SATURATED_CORES ? `; k6 used ${s.k6CpuCores} cores` : '';
  if (s.errorRate > 0) return `errors (${s.errorRate}) ${at}${k6}`;
  if (s.dropped > 0) return `${s.dropped} iterations dropped ${at}${k6}`;
  return `p99 ${s.p99Ms} ms over ${latencyMs} ms ${at}${k6}`;
}

/** Runs each step with k6 (rate-probe.js) against one endpoint, in its own folder under outDir. */
export function k6StepRunner(o: StepOptions): StepRunner {
  const plan = o.plan ?? SEARCH_PLANS[o.profile];
  return async (rate, index) => {
    const r = await rateProbe({
      url: o.url,
      rates: { step: rate },
      warmupS: plan.warmupS,
      durationS: plan.stepS,
      ...(o.method ? { method: o.method } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.requestsPerIteration ? { requestsPerIteration: o.requestsPerIteration } : {}),
      outDir: join(o.outDir, `step-${index}`),
      k6: o.k6,
    });
    return {
      rate,
      rps: r.rps,
      p99Ms: r.p99Ms,
      dropped: r.dropped,
      errorRate: r.errorRate,
      // A step holds when its p99 is within the latency target, nothing failed, and at most 1 in 1,000 iterations
      // could not start in time (a lone late start on a busy shared machine is k6's scheduling, not the node).
      ok:
        r.errorRate === 0 &&
        r.badStatus === 0 &&
        r.dropped <= Math.floor(rate * plan.stepS * 0.001) &&
        r.p99Ms <= o.latencyMs,
      k6CpuCores: r.loadGenerator.cpuCores,
    };
  };
}

/**
 * The stepped search as a state machine, so two searches can take turns step by step (see searchSideBySide): the
 * rate grows by the plan's factor until a step misses (stepping down when the first one already missed), then
 * bisects between the last rate that held and the first that missed.
 */
export class SteppedSearch {
  readonly steps: CapacityStep[] = [];
  private phase: 'grow' | 'down' | 'refine' = 'grow';
  private rate: number;
  private good = 0;
  private bad: CapacityStep | null = null;
  private grown = 0;
  private downs = 0;
  private refined = 0;

  constructor(
    private readonly plan: SearchPlan,
    private readonly maxRps: number,
  ) {
    this.rate = Math.min(plan.startRps, maxRps);
  }

  /** The next rate to try, or null when the search is over. */
  next(): number | null {
    const { bad, good } = this;
    if (this.phase === 'grow') return this.rate;
    if (this.phase === 'down')
      return this.downs < 3 && bad ? Math.max(1, Math.round(bad.rate / this.plan.factor)) : null;
    const gap = bad !== null && good > 0 && bad.rate - good > good * 0.1;
    return this.refined < this.plan.refine && gap ? Math.round((good + bad!.rate) / 2) : null;
  }

  record(s: CapacityStep): void {
    this.steps.push(s);
    if (this.phase === 'grow') {
      this.grown++;
      if (!s.ok) {
        this.bad = s;
        // Nothing held at the start rate: step down instead.
        this.phase = this.good === 0 ? 'down' : 'refine';
        return;
      }
      this.good = s.rate;
      if (s.rate >= this.maxRps || this.grown >= this.plan.maxSteps) this.phase = 'refine';
      else this.rate = Math.min(Math.round(this.rate * this.plan.factor), this.maxRps);
      return;
    }
    if (this.phase === 'down') this.downs++;
    else this.refined++;
    if (s.ok) {
      this.good = s.rate;
      this.phase = 'refine';
    } else this.bad = s;
  }

  result(latencyMs: number, unit = 'req/s'): SearchResult {
    const { bad, good } = this;
    const limitedBy = bad
      ? missWhy(bad, latencyMs, unit)
      : good >= this.maxRps
        ? `the search's top rate (${this.maxRps} ${unit}) held`
        : `the search's ${this.plan.maxSteps} steps all held`;
    return { capacity: good, limitedBy, steps: this.steps };
  }
}

export interface SideOfSearch {
  name: string;
  maxRps: number;
  run: StepRunner;
}

/**
 * The yardstick's search and the implementation's, side by side: they take turns step by step (one round = one step
 * of each, in alternating order), so a machine that gets busier mid-run slows both alike and the ratio holds. Both
 * start at the same rate and grow by the same factor, so while both hold each round offers them the same rate. When
 * one search is over, the other finishes alone. Each step records its round.
 */
export async function searchSideBySide(
  plan: SearchPlan,
  latencyMs: number,
  yardstick: SideOfSearch,
  impl: SideOfSearch,
  onProgress?: (line: string) => void,
  unit = 'req/s',
): Promise<{ yardstick: SearchResult; impl: SearchResult }> {
  const sides = [yardstick, impl].map((side) => ({ side, search: new SteppedSearch(plan, side.maxRps) }));
  for (let round = 0; ; round++) {
    // Alternate which goes first, so neither always runs right after the other.
    const turn = round % 2 === 0 ? sides : [...sides].reverse();
    const pending = turn.filter((x) => x.search.next() !== null);
    if (pending.length === 0) break;
    for (const { side, search } of pending) {
      const rate = search.next()!;
      const s = { ...(await side.run(rate, search.steps.length)), round };
      search.record(s);
      onProgress?.(
        `  ${side.name} ${rate} ${unit}: ${s.ok ? 'held' : 'missed'} (p99 ${s.p99Ms} ms, ${s.dropped} dropped)`,
      );
    }
  }
  return {
    yardstick: sides[0]!.search.result(latencyMs, unit),
    impl: sides[1]!.search.result(latencyMs, unit),
  };
}

/** What a custom search's step runners get. */
export interface SearchStepOptions {
  latencyMs: number;
  profile: Profile;
  plan: SearchPlan;
  outDir: string;
  k6: string;
}

/**
 * A search whose iteration is not one HTTP request: a flow of several (27's checkout) or WebSocket fan-out (13).
 * It brings its own steps, and its yardstick is either the no-op HTTP server offered as many requests per
 * iteration, or a yardstick of its own (13: the no-op fan-out server), in a process of its own either way.
 */
export interface CustomSearch {
  /** Plans for this search (e.g. message rates are smaller than request rates); default SEARCH_PLANS. */
  plans?: Record<Profile, SearchPlan>;
  impl: (o: SearchStepOptions) => StepRunner;
  /** Requests per iteration the no-op HTTP server is offered (default 1); ignored with `yardstick`. */
  requestsPerIteration?: number;
  yardstick?: {
    name: string;
    start: () => Promise<{ url: string; stop(): Promise<void> }>;
    run: (url: string, o: SearchStepOptions) => StepRunner;
  };
}

export interface CapacitySpec {
  /**
   * The rate target, e.g. URL-T2. Where the book gives no rate (05, 06, 07), the latency target itself: the
   * capacity per node and its ratio are still measured, and no node count is made up (bookRate 0).
   */
  target: ResolvedTarget;
  /** The latency target a step must meet, e.g. URL-T4. */
  latency: ResolvedTarget;
  label: string;
  url: string;
  method?: string;
  body?: string;
  /** Units of the rate target per request (e.g. IDs per batch); default 1. */
  perRequest?: number;
  /** The rate's unit where the book gives no rate (default req/s). */
  unit?: string;
  /** Its own steps and yardstick, where one iteration is not one HTTP request. */
  search?: CustomSearch;
  /** The chapter's shared store, when it has one; its own capacity is not part of this search. */
  store?: { name: string; measured: boolean; note: string };
  /** How the book's rate spreads over nodes, where it is not a stateless tier (default SCALE_OUT_ASSUMPTION). */
  assumption?: string;
  /**
   * Why no node count is made, where the book's rate cannot be spread over nodes as measured (29: one matching
   * engine per symbol). The capacity and its ratio are still measured.
   */
  noNodeCount?: string;
  /**
   * Search up to this rate instead of twice the book's rate, where the book's rate is so low (23: 3/s) that a
   * search stopped there would say nothing about the node.
   */
  maxRps?: number;
}

/** What the search runs on; tests pass fakes. */
export interface CapacityIo {
  startNoop: () => Promise<{ url: string; stop(): Promise<void> }>;
  stepRunner: (o: StepOptions) => StepRunner;
}

// The no-op server in its own process, as the implementation is (see noop-process.ts).
const k6Io: CapacityIo = { startNoop: () => startNoopProcess(), stepRunner: k6StepRunner };

/** The no-op server is searched up to here whatever the book's rate, so its ratio has a real top. */
const NOOP_MAX_RPS = 64_000;

/**
 * Capacity per node for each spec, its ratio to the no-op server's and the nodes the book's rate needs: the no-op
 * server's search and the implementation's run side by side, step by step (searchSideBySide).
 */
export async function capacityPerNode(
  ctx: LoadRunContext,
  specs: CapacitySpec[],
  io: CapacityIo = k6Io,
): Promise<CapacityPerNode[]> {
  const out: CapacityPerNode[] = [];
  for (const spec of specs) {
    const per = spec.perRequest ?? 1;
    const hasRate = spec.target.id !== spec.latency.id && spec.target.op === '>=' && (spec.target.value ?? 0) > 0;
    const bookRate = hasRate ? spec.target.value! : 0;
    const latencyMs = spec.latency.value ?? 0;
    const base: CapacityPerNode = {
      target: spec.target.id,
      label: spec.label,
      unit: hasRate ? spec.target.unit : (spec.unit ?? 'req/s'),
      latency: { id: spec.latency.id, p99Ms: latencyMs },
      perNode: null,
      yardstick: null,
      ratio: null,
      bookRate,
      nodesNeeded: null,
      assumption: spec.assumption ?? SCALE_OUT_ASSUMPTION,
      ...(spec.store ? { store: spec.store } : {}),
    };
    if (ctx.replayDir) {
      out.push({
        ...base,
        reason: 'not measured: graded from runner outputs (grade-load); the search needs the implementation',
      });
      continue;
    }
    // Search up to twice the book's rate: beyond it one node is enough, and the steps would only cost time.
    const maxRps = spec.maxRps ?? (hasRate ? Math.max(1, Math.ceil((bookRate * 2) / per)) : NOOP_MAX_RPS);
    const dir = (name: string) => join(ctx.outDir, `capacity-${spec.label.replace(/\W+/g, '-')}`, name);
    const plan = spec.search?.plans?.[ctx.profile] ?? SEARCH_PLANS[ctx.profile];
    const common = { latencyMs, profile: ctx.profile, k6: ctx.k6, plan };
    const own = spec.search?.yardstick;
    const perIteration = spec.search?.requestsPerIteration ?? 1;
    const noop = await (own ? own.start() : io.startNoop());
    let found: { yardstick: SearchResult; impl: SearchResult };
    try {
      ctx.onProgress(
        `capacity search: ${spec.label} within p99 ${latencyMs} ms (${spec.latency.id}), side by side with ${own?.name ?? 'the no-op server'}`,
      );
      found = await searchSideBySide(
        plan,
        latencyMs,
        {
          name: own?.name ?? 'no-op',
          maxRps: Math.max(maxRps, NOOP_MAX_RPS),
          run: own
            ? own.run(noop.url, { ...common, outDir: dir('no-op') })
            : io.stepRunner({
                ...common,
                url: `${noop.url}/`,
                ...(perIteration > 1 ? { requestsPerIteration: perIteration } : {}),
                outDir: dir('no-op'),
              }),
        },
        {
          name: spec.label,
          maxRps,
          run: spec.search
            ? spec.search.impl({ ...common, outDir: dir('implementation') })
            : io.stepRunner({
                ...common,
                url: spec.url,
                ...(spec.method ? { method: spec.method } : {}),
                ...(spec.body !== undefined ? { body: spec.body } : {}),
                outDir: dir('implementation'),
              }),
        },
        ctx.onProgress,
        hasRate ? 'req/s' : (spec.unit ?? 'req/s'),
      );
    } finally {
      await noop.stop();
    }
    const { impl, yardstick } = found;
    const perNode = impl.capacity * per;
    const reason =
      impl.capacity === 0
        ? `no step held: ${impl.limitedBy}`
        : !hasRate
          ? 'no nodes needed: the book gives no rate for this chapter'
          : spec.noNodeCount
            ? `no node count: ${spec.noNodeCount}`
            : undefined;
    out.push({
      ...base,
      perNode: impl.capacity > 0 ? round3(perNode) : null,
      yardstick: yardstick.capacity > 0 ? yardstick.capacity : null,
      ratio: impl.capacity > 0 && yardstick.capacity > 0 ? round3(impl.capacity / yardstick.capacity) : null,
      nodesNeeded: impl.capacity > 0 && bookRate > 0 && !spec.noNodeCount ? Math.ceil(bookRate / perNode) : null,
      // When the no-op server held no step either, the latency bound is this machine's, not the implementation's.
      limitedBy:
        yardstick.capacity === 0
          ? `${impl.limitedBy}; ${own?.name ?? 'the no-op server'} beside it held no step either (${yardstick.limitedBy}): beyond this machine`
          : impl.limitedBy,
      ...(reason ? { reason } : {}),
      steps: impl.steps,
      yardstickSteps: yardstick.steps,
    });
  }
  return out;
}
