// Capacity per node: the highest arrival rate one node carries while still meeting its latency target, found by a
// short stepped search of the arrival rate with k6 (open model, not a single burst): the rate grows by a factor
// until a step misses (latency over the target, dropped iterations or errors), then bisects between the last
// step that held and the first that missed. The same search against the no-op server gives the yardstick, and the
// book's rate over the capacity gives the nodes a stateless tier would need.
import { join } from 'node:path';
import type { LoadRunContext, Profile } from '../core/load-run.ts';
import type { ResolvedTarget } from '../core/resolve-targets.ts';
import { round3 } from '../core/stats.ts';
import type { CapacityPerNode, CapacityStep } from '../results/types.ts';
import { SATURATED_CORES } from './k6-cpu.ts';
import { startNoopServer } from './noop-server.ts';
import { rateProbe } from './rate-probe.ts';

/** Smoke keeps CI short (a few 1 s steps: it proves the plumbing, not the number); full is a real search. */
export const SEARCH_PLANS = {
  smoke: { startRps: 100, factor: 4, maxSteps: 3, refine: 1, warmupS: 1, stepS: 1 },
  full: { startRps: 250, factor: 2, maxSteps: 9, refine: 3, warmupS: 3, stepS: 8 },
} as const;

export const SCALE_OUT_ASSUMPTION =
  "Nodes needed = the book's rate / capacity per node, rounded up: assumes a stateless tier that scales out " +
  'linearly behind a load balancer. Measured with k6 on the same machine as the node (k6 takes CPU from it), so ' +
  'the capacity is a floor and the node count a ceiling.';

export interface SearchOptions {
  url: string;
  method?: string;
  /** JSON text; "{n}" becomes unique per request. */
  body?: string;
  latencyMs: number;
  profile: Profile;
  /** Do not search above this rate (req/s). */
  maxRps: number;
  outDir: string;
  k6: string;
  onProgress?: (line: string) => void;
}

export interface SearchResult {
  /** Highest rate (req/s) that held; 0 when none did. */
  capacity: number;
  limitedBy: string;
  steps: CapacityStep[];
}

function missWhy(s: CapacityStep, latencyMs: number): string {
  const at = `at ${Math.round(s.rate)} req/s`;
  const k6 = s.k6CpuCores !== undefined && s.k6CpuCores >= SATURATED_CORES ? `; k6 used ${s.k6CpuCores} cores` : '';
  if (s.errorRate > 0) return `errors (${s.errorRate}) ${at}${k6}`;
  if (s.dropped > 0) return `${s.dropped} iterations dropped ${at}${k6}`;
  return `p99 ${s.p99Ms} ms over ${latencyMs} ms ${at}${k6}`;
}

export async function searchCapacity(o: SearchOptions): Promise<SearchResult> {
  const plan = SEARCH_PLANS[o.profile];
  const steps: CapacityStep[] = [];
  const step = async (rate: number): Promise<CapacityStep> => {
    const r = await rateProbe({
      url: o.url,
      rates: { step: rate },
      warmupS: plan.warmupS,
      durationS: plan.stepS,
      ...(o.method ? { method: o.method } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      outDir: join(o.outDir, `step-${steps.length}`),
      k6: o.k6,
    });
    const s: CapacityStep = {
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
    steps.push(s);
    o.onProgress?.(`  ${rate} req/s: ${s.ok ? 'held' : 'missed'} (p99 ${s.p99Ms} ms, ${s.dropped} dropped)`);
    return s;
  };

  let good = 0;
  let bad: CapacityStep | null = null;
  let rate = Math.min(plan.startRps, o.maxRps);
  for (let i = 0; i < plan.maxSteps; i++) {
    const s = await step(rate);
    if (!s.ok) {
      bad = s;
      break;
    }
    good = rate;
    if (rate >= o.maxRps) break;
    rate = Math.min(Math.round(rate * plan.factor), o.maxRps);
  }
  // Nothing held at the start rate: step down instead.
  for (let i = 0; good === 0 && bad && i < 3; i++) {
    const s = await step(Math.max(1, Math.round(bad.rate / plan.factor)));
    if (s.ok) good = s.rate;
    else bad = s;
  }
  for (let i = 0; i < plan.refine && bad && good > 0 && bad.rate - good > good * 0.1; i++) {
    const s = await step(Math.round((good + bad.rate) / 2));
    if (s.ok) good = s.rate;
    else bad = s;
  }
  const limitedBy = bad
    ? missWhy(bad, o.latencyMs)
    : good >= o.maxRps
      ? `the search's top rate (${o.maxRps} req/s) held`
      : `the search's ${plan.maxSteps} steps all held`;
  return { capacity: good, limitedBy, steps };
}

export interface CapacitySpec {
  /** The rate target, e.g. URL-T2. */
  target: ResolvedTarget;
  /** The latency target a step must meet, e.g. URL-T4. */
  latency: ResolvedTarget;
  label: string;
  url: string;
  method?: string;
  body?: string;
  /** Units of the rate target per request (e.g. IDs per batch); default 1. */
  perRequest?: number;
  /** The chapter's shared store, when it has one; its own capacity is not part of this search. */
  store?: { name: string; measured: boolean; note: string };
}

const noopCache = new Map<string, SearchResult>();

/** The no-op server's capacity within a latency limit, searched once per profile and limit in this process. */
async function noopCapacity(ctx: LoadRunContext, latencyMs: number, maxRps: number): Promise<SearchResult> {
  const key = `${ctx.profile}:${latencyMs}:${maxRps}`;
  const hit = noopCache.get(key);
  if (hit) return hit;
  const noop = await startNoopServer();
  try {
    ctx.onProgress(`capacity search: no-op server within p99 ${latencyMs} ms`);
    const r = await searchCapacity({
      url: `${noop.url}/`,
      latencyMs,
      profile: ctx.profile,
      maxRps,
      outDir: join(ctx.outDir, `capacity-noop-${latencyMs}ms`),
      k6: ctx.k6,
      onProgress: ctx.onProgress,
    });
    noopCache.set(key, r);
    return r;
  } finally {
    await noop.stop();
  }
}

/** Capacity per node for each spec, its ratio to the no-op server's and the nodes the book's rate needs. */
export async function capacityPerNode(ctx: LoadRunContext, specs: CapacitySpec[]): Promise<CapacityPerNode[]> {
  const out: CapacityPerNode[] = [];
  for (const spec of specs) {
    const per = spec.perRequest ?? 1;
    const bookRate = spec.target.value ?? 0;
    const latencyMs = spec.latency.value ?? 0;
    const base: CapacityPerNode = {
      target: spec.target.id,
      label: spec.label,
      unit: spec.target.unit,
      latency: { id: spec.latency.id, p99Ms: latencyMs },
      perNode: null,
      yardstick: null,
      ratio: null,
      bookRate,
      nodesNeeded: null,
      assumption: SCALE_OUT_ASSUMPTION,
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
    const maxRps = Math.max(1, Math.ceil((bookRate * 2) / per));
    const noop = await noopCapacity(ctx, latencyMs, Math.max(maxRps, 64_000));
    ctx.onProgress(`capacity search: ${spec.label} within p99 ${latencyMs} ms (${spec.latency.id})`);
    const impl = await searchCapacity({
      url: spec.url,
      ...(spec.method ? { method: spec.method } : {}),
      ...(spec.body !== undefined ? { body: spec.body } : {}),
      latencyMs,
      profile: ctx.profile,
      maxRps,
      outDir: join(ctx.outDir, `capacity-${spec.label.replace(/\W+/g, '-')}`),
      k6: ctx.k6,
      onProgress: ctx.onProgress,
    });
    const perNode = impl.capacity * per;
    out.push({
      ...base,
      perNode: impl.capacity > 0 ? round3(perNode) : null,
      yardstick: noop.capacity > 0 ? noop.capacity : null,
      ratio: impl.capacity > 0 && noop.capacity > 0 ? round3(impl.capacity / noop.capacity) : null,
      nodesNeeded: impl.capacity > 0 && bookRate > 0 ? Math.ceil(bookRate / perNode) : null,
      limitedBy: impl.limitedBy,
      ...(impl.capacity > 0 ? {} : { reason: `no step held: ${impl.limitedBy}` }),
      steps: impl.steps,
      yardstickSteps: noop.steps,
    });
  }
  return out;
}
