// The k6 YCSB run against every node of the cluster, then the capacity probe of a cluster read against the no-op
// server; both become the chapter's load targets (KV-T1..T8).
import { join } from 'node:path';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { capacityMeasurement, capacityRatio } from '../../load/capacity-ratio.ts';
import { capacityPerNode } from '../../load/capacity-search.ts';
import { loadK6 } from '../../load/chapter-k6.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

// Mirrors the k6 script's profiles.
const profiles = {
  smoke: { rate: 40, seconds: 4, probeS: 3, rounds: 1 },
  full: { rate: 300, seconds: 30, probeS: 10, rounds: 3 },
};
// Each with what one operation is on the wire (an update is read-then-write with the read's context).
const WORKLOADS = [
  ['ycsb_a', 'KV-T1', '50% read, 50% update'],
  ['ycsb_b', 'KV-T2', '95% read, 5% update'],
  ['ycsb_c', 'KV-T3', 'read only'],
  ['ycsb_d', 'KV-T4', '95% read latest, 5% insert'],
  ['ycsb_f', 'KV-T5', '50% read, 50% read-modify-write'],
] as const;

const ZERO = { p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };

export const loadKeyValueStore: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  const urls = ctx.target.nodes.map((n) => ctx.target.nodeUrl(n));
  ctx.onProgress(
    `k6 ${ctx.profile} profile: YCSB A, B, C, D, F against ${urls.length} nodes (about ${5 * (p.seconds + 1) + 5} s)`,
  );
  const run = await loadK6(ctx, {
    script: join(loadDir, '07-key-value-store.js'),
    env: { TARGET_URLS: urls.join(','), PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (5 * (p.seconds + 1) + 240) * 1000,
  });
  const scenarios: LoadScenario[] = [];
  const results: TargetResult[] = [];
  let dropped = 0;
  let errorRate = 0;
  let ycsbAp99 = 0;
  let requestsPerOp = 1;
  for (const [name, id, mix] of WORKLOADS) {
    const m = measuredScenario(run.summary, name, p.seconds, ['ops', 'reads', 'siblings']);
    const perRead = m.counters.reads ? m.counters.siblings! / m.counters.reads : 0;
    scenarios.push({ name, targetRps: p.rate, ...m.stats });
    dropped += m.dropped;
    errorRate = Math.max(errorRate, m.stats.errorRate);
    results.push(
      gradeTarget(
        t[id]!,
        {
          value: round3(m.counters.ops! / p.seconds),
          reason:
            `${mix}: p50 ${m.stats.latencyMs.p50.toFixed(1)} ms, p99 ${m.stats.latencyMs.p99.toFixed(1)} ms per ` +
            `request (${(m.count / Math.max(1, m.counters.ops!)).toFixed(2)} requests per op) at ${p.rate} ops/s offered; ` +
            `${perRead.toFixed(2)} siblings per read`,
        },
        ctx.profile,
      ),
    );
    if (name === 'ycsb_a') ycsbAp99 = round3(m.stats.latencyMs.p99);
    requestsPerOp = Math.max(requestsPerOp, m.count / Math.max(1, m.counters.ops!));
  }
  const checks = checkFailureRate(run.summary);
  errorRate = shareOf(Math.max(errorRate, checks.rate));
  // The no-op yardstick at the request rate of the heaviest mix (the mixes run one after another, an update is
  // two requests), and k6's own CPU use: met, missed, or beyond this machine.
  const atRate = await atOfferedRate(ctx, run, [
    { name: 'ycsb_heaviest', targetRps: Math.ceil(p.rate * requestsPerOp), rps: 0, errorRate: 0, latencyMs: ZERO },
  ]);
  results.push(gradeTarget(t['KV-T6']!, { value: ycsbAp99, atRate }, ctx.profile));
  results.push(
    gradeTarget(
      t['KV-T7']!,
      {
        value: errorRate,
        reason: `${checks.failed} body checks failed`,
        conditions: [{ ok: dropped === 0, why: `${dropped} iterations dropped: the offered rate was not carried` }],
        // Only a rate not carried can be the machine's; a failed request or wrong body is always a miss.
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
  );

  // KV-T8: a cluster read (R=2 through one node) at its ceiling against the no-op server, same run.
  // grade-load: the load ran elsewhere; what needs the implementation is reported as not measured.
  const here = !ctx.replayDir;
  const key = `probe-${Date.now().toString(36)}`;
  if (here) {
    const put = await fetch(`${urls[0]}/api/v1/kv/${key}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'x'.repeat(1000) }),
    });
    if (put.status !== 200) throw new Error(`could not write the probe key: ${put.status}`);
  }
  const probe = { label: 'cluster read R=2', rounds: p.rounds, unit: 'req/s' };
  const ratio: Measurement = here
    ? capacityMeasurement(
        await capacityRatio({
          ...probe,
          url: `${urls[0]}/api/v1/kv/${key}`,
          vus: 16,
          probeS: p.probeS,
          outDir: ctx.outDir,
          k6: ctx.k6,
          onProgress: ctx.onProgress,
        }),
        probe,
      )
    : {
        value: null,
        reason: 'not measured: graded from runner outputs (grade-load); the probe needs the implementation',
      };
  results.push(gradeTarget(t['KV-T8']!, ratio, ctx.profile));

  // Capacity per node of a cluster read within KV-T6's p99; the book gives no rate, so no node count.
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['KV-T6']!,
      latency: t['KV-T6']!,
      label: 'cluster read R=2',
      url: `${urls[0]}/api/v1/kv/${key}`,
      store: {
        name: 'the replicas',
        measured: false,
        note: `not a stateless tier: the node coordinates each read with its replicas (N=3, R=2) on this machine's ${urls.length} nodes, so the figure is one coordinator's share of a ${urls.length}-node cluster on one machine; more nodes add capacity only as the ring spreads the keys`,
      },
    },
  ]);
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
