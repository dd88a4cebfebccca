// The chapter's k6 load (load/20-distributed-message-queue.js) mapped to its targets: batched and unbatched produce
// of 1 KB messages and fetches at once, each rate graded with the no-op yardstick at the same offered rate; then the
// capacity per broker of batched produce, a stepped search beside the no-op server. Beside them the script's
// end-to-end probe (MQ-T22) and after them its backlog drain (MQ-T23), information. The batching ratio at capacity is
// not measured yet (spec README, "Not yet").
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
import type { K6Summary } from '../../load/k6-summary.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

// Mirrors the k6 script's profiles: measured seconds, the share of the rates, messages per batch, bytes per value.
const durations = { smoke: { measureS: 8 }, full: { measureS: 60 } };
const scale = { smoke: 0.05, full: 1 };
const BATCH = 100;
const VALUE_BYTES = 1024;

/** Produce requests per second; each carries 100 KB, so the search starts lower than a bare HTTP one. */
const PRODUCE_PLANS: Record<'smoke' | 'full', SearchPlan> = {
  smoke: { startRps: 5, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 25, factor: 2, maxSteps: 11, refine: 3, warmupS: 3, stepS: 8 },
};

/** The end-to-end probe (MQ-T22) from the script's summary: p50 and p99 (ms) over its messages, or why not. */
function endToEnd(summary: K6Summary): { value: number | null; reason: string } {
  const lat = summary.metrics['e2e_ms'];
  const sent = summary.metrics['http_reqs{scenario:e2e}'];
  const n = sent?.type === 'counter' ? sent.count : 0;
  if (lat?.type !== 'trend' || !Number.isFinite(lat.values['p(99)']))
    return { value: null, reason: `not measured: the consumer at the tail read none of the probe's ${n} messages` };
  const [p50, p99, max] = [lat.values['p(50)'] ?? lat.values['med'], lat.values['p(99)'], lat.values['max']].map((x) =>
    round3(x ?? Number.NaN),
  );
  return {
    value: p99!,
    reason:
      `p50 ${p50} ms, p99 ${p99} ms, max ${max} ms: ${n} single 1 KB messages sent at a ` +
      'fixed rate beside the load, each from its send to its receipt by one consumer long polling the tail, both on ' +
      "k6's clock (ms resolution)",
  };
}

/** The backlog drain (MQ-T23) from the script's summary: messages per second, or why not. */
function drainRate(summary: K6Summary): { value: number | null; reason: string } {
  const got = summary.metrics['drained'];
  const took = summary.metrics['drain_ms'];
  const n = got?.type === 'counter' ? got.count : 0;
  const ms = took?.type === 'trend' ? (took.values['max'] ?? Number.NaN) : Number.NaN;
  if (n === 0 || !(ms > 0)) return { value: null, reason: 'not measured: the drain read nothing, or a wrong message' };
  const rate = round3((n * 1000) / ms);
  return {
    value: rate,
    reason: `${n} messages (${round3((n * VALUE_BYTES) / 1e6)} MB) in ${ms} ms from offset 0, 1 MiB per fetch, every offset, value and CRC checked: ${round3((rate * VALUE_BYTES) / 1e6)} MB/s`,
  };
}

const BROKERS_ASSUMPTION =
  "Brokers needed = the book's rate / capacity per broker, rounded up: assumes the topic has at least that many " +
  'partitions, spread evenly with one leader each, and no replication (acks 1, as measured; each replica would add ' +
  'its write to another broker). Measured with k6 on the same machine as the broker, so the capacity is a floor.';

export const loadMessageQueue: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const d = durations[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();
  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${baseUrl} (about ${d.measureS + (ctx.profile === 'full' ? 10 : 2) + 2} s, the drain after)`,
  );
  const run = await loadK6(ctx, {
    script: join(loadDir, '20-distributed-message-queue.js'),
    env: { TARGET_URL: baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    // The drain after the load may take up to its own two minutes.
    timeoutMs: (d.measureS + 240) * 1000,
  });
  const batched = measuredScenario(run.summary, 'batched', d.measureS, ['messages']);
  const single = measuredScenario(run.summary, 'single', d.measureS, ['messages']);
  const fetch = measuredScenario(run.summary, 'fetch', d.measureS, ['messages']);
  const batchedPerSecond = round3(batched.counters.messages! / d.measureS);
  const rates = {
    batched: Math.max(1, Math.ceil(((t['MQ-T1']!.value ?? 0) * scale[ctx.profile]) / BATCH)),
    single: Math.max(1, Math.ceil(500 * scale[ctx.profile])),
    fetch: Math.max(1, Math.ceil(200 * scale[ctx.profile])),
  };
  const scenarios: LoadScenario[] = [
    { name: 'batched', targetRps: rates.batched, ...batched.stats },
    { name: 'single', targetRps: rates.single, ...single.stats },
    { name: 'fetch', targetRps: rates.fetch, ...fetch.stats },
  ];
  const { failed: checksFailed, rate: checkRate } = checkFailureRate(run.summary);
  const errorRate = shareOf(
    Math.max(batched.stats.errorRate, single.stats.errorRate, fetch.stats.errorRate, checkRate),
  );
  const atRate = await atOfferedRate(ctx, run, scenarios);
  // Each scenario's dropped iterations count against its own target: MQ-T1 is the batched rate, MQ-T3's latency is
  // at 500 single produces a second and MQ-T4's under 200 fetches a second, each only if that rate was carried.
  const carried = (s: { dropped: number }) => ({ ok: s.dropped === 0, why: `${s.dropped} iterations dropped` });
  // Capacity per broker for MQ-T1's rate: the script's batched produce (100 x 1 KB, acks 1, every record checked)
  // alone at stepped rates, within MQ-T3's 50 ms (the chapter's only produce latency bound).
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['MQ-T1']!,
      latency: t['MQ-T3']!,
      label: `batched produce (${BATCH} x 1 KB)`,
      url: `${baseUrl}/api/v1/topics`,
      perRequest: BATCH,
      assumption: BROKERS_ASSUMPTION,
      search: {
        plans: PRODUCE_PLANS,
        impl: (o) =>
          flowStepRunner({
            script: join(loadDir, '20-distributed-message-queue.js'),
            env: { TARGET_URL: baseUrl, PROFILE: ctx.profile, CAPACITY: 'batched' },
            scenario: 'batched',
            // One produce request per iteration; a wrong record fails the step through its checks.
            iterations: 'http_reqs',
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
      t['MQ-T1']!,
      {
        value: batchedPerSecond,
        conditions: [carried(batched), { ok: errorRate === 0, why: `error rate ${errorRate}` }],
        // Only a rate not carried can be the machine's; a failed request or a wrong body is always a miss.
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
    gradeTarget(t['MQ-T2']!, { value: errorRate, reason: `${checksFailed} body checks failed` }, ctx.profile),
    gradeTarget(t['MQ-T3']!, { value: single.stats.latencyMs.p99, conditions: [carried(single)], atRate }, ctx.profile),
    gradeTarget(t['MQ-T4']!, { value: fetch.stats.latencyMs.p99, conditions: [carried(fetch)], atRate }, ctx.profile),
    gradeTarget(t['MQ-T5']!, { value: round3((batchedPerSecond * VALUE_BYTES) / 1e6) }, ctx.profile),
    gradeTarget(t['MQ-T22']!, endToEnd(run.summary), ctx.profile),
    gradeTarget(t['MQ-T23']!, drainRate(run.summary), ctx.profile),
  ];
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
