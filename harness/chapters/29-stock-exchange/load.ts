// The chapter's k6 load (load/29-stock-exchange.js) mapped to its targets: crossing limit orders at the book's rate
// (scaled down in the smoke profile) and, beside them, at a stated rate for the latency percentiles, each rate
// graded with the no-op yardstick at the same offered rate; then the capacity per node for orders, a stepped search
// beside the no-op server (no node count: one engine per symbol). The in-process engine against nodejs-order-book
// is not measured yet (spec README, "Not yet").
import { join } from 'node:path';
import { gradeTarget } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { capacityPerNode, type SearchPlan } from '../../load/capacity-search.ts';
import { loadK6 } from '../../load/chapter-k6.ts';
import { flowStepRunner } from '../../load/flow-step.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';
import { DEFAULT_API_KEY_SECRET, DEFAULT_ORDER_RATE_LIMIT, DEFAULT_ORDER_RATE_WINDOW_MS } from './api.ts';

// Mirrors the k6 script's profiles: measured seconds, the share of the book's rate, the stated latency rate.
const profiles = {
  smoke: { measureS: 8, scale: 0.002, latencyRate: 20 },
  full: { measureS: 60, scale: 1, latencyRate: 1000 },
};
/** The book's peak: 5 x its average rate. */
const PEAK = 215_000;
/** Orders per second; smoke proves the plumbing in two short steps a side (each step's setup makes 20 accounts). */
const ORDER_PLANS: Record<'smoke' | 'full', SearchPlan> = {
  smoke: { startRps: 10, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 125, factor: 2, maxSteps: 10, refine: 3, warmupS: 3, stepS: 8 },
};

export const loadStockExchange: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();
  // The client gateway's settings: the script signs each user's key and spreads orders over enough users that none
  // passes the order rate limit.
  const gateway = {
    API_KEY_SECRET: String(ctx.settings?.['apiKeySecret'] ?? DEFAULT_API_KEY_SECRET),
    ORDER_RATE_LIMIT: String(ctx.settings?.['orderRateLimit'] ?? DEFAULT_ORDER_RATE_LIMIT),
    ORDER_RATE_WINDOW_MS: String(ctx.settings?.['orderRateWindowMs'] ?? DEFAULT_ORDER_RATE_WINDOW_MS),
  };
  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${baseUrl} (about ${p.measureS + (ctx.profile === 'full' ? 10 : 2)} s)`,
  );
  const run = await loadK6(ctx, {
    script: join(loadDir, '29-stock-exchange.js'),
    env: { TARGET_URL: baseUrl, PROFILE: ctx.profile, ...gateway },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (p.measureS + 240) * 1000,
  });
  const book = measuredScenario(run.summary, 'book', p.measureS, ['orders']);
  const latency = measuredScenario(run.summary, 'latency', p.measureS, ['orders']);
  const rates = {
    book: Math.max(1, Math.ceil((t['SE-T1']!.value ?? 0) * p.scale)),
    latency: p.latencyRate,
  };
  const scenarios: LoadScenario[] = [
    { name: 'book', targetRps: rates.book, ...book.stats },
    { name: 'latency', targetRps: rates.latency, ...latency.stats },
  ];
  const ordersPerSecond = round3((book.counters.orders! + latency.counters.orders!) / p.measureS);
  const { failed: checksFailed, rate: checkRate } = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(book.stats.errorRate, latency.stats.errorRate, checkRate));
  const atRate = await atOfferedRate(ctx, run, scenarios);
  const dropped = book.dropped + latency.dropped;
  const trend = run.summary.metrics['http_req_duration{scenario:latency}'];
  const p999 = trend?.type === 'trend' ? trend.values['p(99.9)'] : undefined;
  // Capacity per node for SE-T1's rate: the script's crossing limit orders (each answer checked) alone at stepped
  // rates, within SE-T3's 10 ms.
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['SE-T1']!,
      latency: t['SE-T3']!,
      label: 'limit order',
      url: `${baseUrl}/v1/order`,
      noNodeCount:
        "one matching engine per symbol sequences all its orders (the book's design), so they cannot be spread over nodes; symbols could be, but the book gives no split of its rate by symbol",
      store: {
        name: 'the matching engine and its event log',
        measured: false,
        note: "in the node's process: one sequencer, order books and event log per exchange, the book's single big server; part of the search, not measured separately.",
      },
      search: {
        plans: ORDER_PLANS,
        impl: (o) =>
          flowStepRunner({
            script: join(loadDir, '29-stock-exchange.js'),
            env: { TARGET_URL: baseUrl, PROFILE: ctx.profile, CAPACITY: 'book', ...gateway },
            scenario: 'book',
            iterations: 'orders',
            latencyTrend: 'http_req_duration',
            latencyMs: o.latencyMs,
            plan: o.plan,
            outDir: o.outDir,
            k6: o.k6,
          }),
      },
    },
  ]);
  const results: TargetResult[] = [
    gradeTarget(
      t['SE-T1']!,
      {
        value: ordersPerSecond,
        conditions: [
          { ok: dropped === 0, why: `${dropped} iterations dropped` },
          { ok: errorRate === 0, why: `error rate ${errorRate}` },
        ],
        // Only a rate not carried can be the machine's; a failed order or a wrong body is always a miss.
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
    gradeTarget(t['SE-T2']!, { value: errorRate, reason: `${checksFailed} body checks failed` }, ctx.profile),
    gradeTarget(t['SE-T3']!, { value: latency.stats.latencyMs.p99, atRate }, ctx.profile),
    gradeTarget(t['SE-T4']!, { value: latency.stats.latencyMs.p50 }, ctx.profile),
    gradeTarget(
      t['SE-T5']!,
      p999 === undefined || Number.isNaN(p999)
        ? { value: null, reason: 'the k6 summary has no p(99.9)' }
        : { value: round3(p999) },
      ctx.profile,
    ),
    gradeTarget(t['SE-T6']!, { value: round3(ordersPerSecond / PEAK) }, ctx.profile),
  ];
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
