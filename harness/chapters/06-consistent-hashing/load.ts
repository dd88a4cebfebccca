// The chapter's load test: the k6 script (owner lookups and batches at a fixed arrival rate, bodies checked against
// the owners computed in setup: CH-T7, CH-T8), and a capacity probe of the owner lookup against the no-op server in
// the same run (CH-T6).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir, specFile } from '../../core/paths.ts';
import type { ResolvedTarget } from '../../core/resolve-targets.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { extractScenario, type K6Summary, runK6 } from '../../load/k6-runner.ts';
import { startNoopServer } from '../../load/noop-server.ts';
import { probeCapacity } from '../../load/probe-capacity.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

// Mirrors the k6 script's profiles.
const profiles = {
  smoke: { measureS: 6, probeS: 3, rounds: 1, ownerRate: 200, batchRate: 10 },
  full: { measureS: 60, probeS: 10, rounds: 3, ownerRate: 3000, batchRate: 50 },
};

export const loadConsistentHashing: LoadRun = async (ctx) => {
  const targets: ResolvedTarget[] = JSON.parse(
    readFileSync(specFile(ctx.catalog.chapter, 'generated/targets.json'), 'utf8'),
  );
  const t = Object.fromEntries(targets.map((x) => [x.id, x])) as Record<string, ResolvedTarget>;
  const d = profiles[ctx.profile];
  ctx.onProgress(`k6 ${ctx.profile} profile against ${ctx.target.baseUrl} (about ${d.measureS + 4} s)`);
  const run = await runK6({
    script: join(loadDir, '06-consistent-hashing.js'),
    env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
    outDir: ctx.outDir,
    k6: ctx.k6,
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 120) * 1000,
  });
  const owner = measured(run.summary, 'owner', d.measureS);
  const batch = measured(run.summary, 'batch', d.measureS);
  const scenarios: LoadScenario[] = [
    { name: 'owner', targetRps: d.ownerRate, ...owner.stats },
    { name: 'batch', targetRps: d.batchRate, ...batch.stats },
  ];

  ctx.onProgress(`capacity probes: no-op server and owner lookup, alternating, ${d.rounds} x ${d.probeS} s each`);
  const noop = await startNoopServer();
  let ratio: Measurement;
  try {
    const ceilings: number[] = [];
    const lookups: number[] = [];
    let probeErrors = 0;
    for (let i = 0; i < d.rounds; i++) {
      const probe = (url: string, name: string) =>
        probeCapacity({
          url,
          durationS: d.probeS,
          vus: 32,
          outDir: join(ctx.outDir, `probe-${name}-${i}`),
          k6: ctx.k6,
        });
      ceilings.push((await probe(`${noop.url}/`, 'noop')).rps);
      const r = await probe(`${ctx.target.baseUrl}/api/v1/owner?key=load%3A42`, 'owner');
      lookups.push(r.rps);
      probeErrors += r.errorRate + r.badStatusRate;
    }
    const ceiling = median(ceilings);
    const cap = median(lookups);
    ratio = {
      value: round(cap / ceiling),
      yardstick: { name: 'no-op node:http server, same machine, same run', value: round(ceiling), unit: 'req/s' },
      conditions: [{ ok: probeErrors === 0, why: 'some capacity-probe requests failed' }],
      reason: `median of ${d.rounds}: owner lookup ${round(cap)} req/s vs no-op ${round(ceiling)} req/s`,
    };
  } finally {
    await noop.stop();
  }

  const checksFailed = run.summary.checks.reduce((n, c) => n + c.fails, 0);
  const checksTotal = run.summary.checks.reduce((n, c) => n + c.passes + c.fails, 0);
  const errorRate = round(
    Math.max(owner.stats.errorRate, batch.stats.errorRate, checksFailed / Math.max(1, checksTotal)),
  );
  const results: TargetResult[] = [
    gradeTarget(t['CH-T6']!, ratio, ctx.profile),
    gradeTarget(
      t['CH-T7']!,
      {
        value: errorRate,
        reason: `${checksFailed} of ${checksTotal} body checks failed`,
        conditions: [
          { ok: owner.dropped === 0, why: `${owner.dropped} owner iterations could not start in time` },
          { ok: batch.dropped === 0, why: `${batch.dropped} batch iterations could not start in time` },
        ],
      },
      ctx.profile,
    ),
    gradeTarget(t['CH-T8']!, { value: owner.stats.latencyMs.p99 }, ctx.profile),
  ];
  return {
    load: {
      profile: ctx.profile,
      tool: `k6 ${ctx.k6Version}`,
      summaryPath: run.summaryPath,
      ...(run.dashboardPath ? { dashboardPath: run.dashboardPath } : {}),
      scenarios,
    },
    targets: results,
  };
};

function measured(summary: K6Summary, name: string, seconds: number) {
  const s = extractScenario(summary, name);
  const reqs = summary.metrics[`http_reqs{scenario:${name}}`];
  const dropped = summary.metrics[`dropped_iterations{scenario:${name}}`];
  const count = reqs?.type === 'counter' ? reqs.count : 0;
  return {
    count,
    dropped: dropped?.type === 'counter' ? dropped.count : 0,
    stats: { rps: round(count / seconds), errorRate: round(s.errorRate), latencyMs: s.latencyMs },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
