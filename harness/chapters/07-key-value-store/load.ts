// The k6 YCSB run against every node of the cluster, then the capacity probe of a cluster read against the no-op
// server; both become the chapter's load targets (KV-T1..T8).
import { join } from 'node:path';
import { gradeTarget } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { capacityMeasurement, capacityRatio } from '../../load/capacity-ratio.ts';
import { runK6 } from '../../load/k6-runner.ts';
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

export const loadKeyValueStore: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  const urls = ctx.target.nodes.map((n) => ctx.target.nodeUrl(n));
  ctx.onProgress(
    `k6 ${ctx.profile} profile: YCSB A, B, C, D, F against ${urls.length} nodes (about ${5 * (p.seconds + 1) + 5} s)`,
  );
  const run = await runK6({
    script: join(loadDir, '07-key-value-store.js'),
    env: { TARGET_URLS: urls.join(','), PROFILE: ctx.profile },
    outDir: ctx.outDir,
    k6: ctx.k6,
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (5 * (p.seconds + 1) + 240) * 1000,
  });
  const scenarios: LoadScenario[] = [];
  const results: TargetResult[] = [];
  let dropped = 0;
  let errorRate = 0;
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
    if (name === 'ycsb_a')
      results.push(gradeTarget(t['KV-T6']!, { value: round3(m.stats.latencyMs.p99) }, ctx.profile));
  }
  const checks = checkFailureRate(run.summary);
  errorRate = shareOf(Math.max(errorRate, checks.rate));
  results.push(
    gradeTarget(
      t['KV-T7']!,
      {
        value: errorRate,
        reason: `${checks.failed} body checks failed`,
        conditions: [{ ok: dropped === 0, why: `${dropped} iterations dropped: the offered rate was not carried` }],
      },
      ctx.profile,
    ),
  );

  // KV-T8: a cluster read (R=2 through one node) at its ceiling against the no-op server, same run.
  const key = `probe-${Date.now().toString(36)}`;
  const put = await fetch(`${urls[0]}/api/v1/kv/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: 'x'.repeat(1000) }),
  });
  if (put.status !== 200) throw new Error(`could not write the probe key: ${put.status}`);
  const probe = { label: 'cluster read R=2', rounds: p.rounds, unit: 'req/s' };
  results.push(
    gradeTarget(
      t['KV-T8']!,
      capacityMeasurement(
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
      ),
      ctx.profile,
    ),
  );
  return { load: loadSection(ctx.profile, ctx.k6Version, run, scenarios), targets: results };
};
