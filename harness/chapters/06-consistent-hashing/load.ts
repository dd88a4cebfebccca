import { join } from 'node:path';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { capacityMeasurement, capacityRatio } from '../../load/capacity-ratio.ts';
import { capacityPerNode } from '../../load/capacity-search.ts';
import { loadK6 } from '../../load/chapter-k6.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

// Mirrors the k6 script's profiles.
const profiles = {
  smoke: { measureS: 6, probeS: 3, rounds: 1, ownerRate: 200, batchRate: 10 },
  full: { measureS: 60, probeS: 10, rounds: 3, ownerRate: 3000, batchRate: 50 },
};

export const loadConsistentHashing: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const d = profiles[ctx.profile];
  ctx.onProgress(`k6 ${ctx.profile} profile against ${ctx.target.baseUrl} (about ${d.measureS + 4} s)`);
  const run = await loadK6(ctx, {
    script: join(loadDir, '06-consistent-hashing.js'),
    env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 120) * 1000,
  });
  const owner = measuredScenario(run.summary, 'owner', d.measureS);
  const batch = measuredScenario(run.summary, 'batch', d.measureS);
  const scenarios: LoadScenario[] = [
    { name: 'owner', targetRps: d.ownerRate, ...owner.stats },
    { name: 'batch', targetRps: d.batchRate, ...batch.stats },
  ];

  // The no-op yardstick at the same offered rate, and k6's own CPU use: met, missed, or beyond this machine.
  const atRate = await atOfferedRate(ctx, run, scenarios);

  const probe = { label: 'owner lookup', rounds: d.rounds };
  const ownerUrl = `${ctx.target.baseUrl}/api/v1/owner?key=load%3A42`;
  // grade-load: the load ran elsewhere; what needs the implementation is reported as not measured.
  const ratio: Measurement = ctx.replayDir
    ? {
        value: null,
        reason: 'not measured: graded from runner outputs (grade-load); the probe needs the implementation',
      }
    : capacityMeasurement(
        await capacityRatio({
          ...probe,
          url: ownerUrl,
          probeS: d.probeS,
          outDir: ctx.outDir,
          k6: ctx.k6,
          onProgress: ctx.onProgress,
        }),
        probe,
      );
  // Capacity per node of owner lookups within CH-T8's p99; the book gives no rate, so no node count.
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['CH-T8']!,
      latency: t['CH-T8']!,
      label: 'owner lookup',
      url: ownerUrl,
      store: {
        name: 'the ring',
        measured: false,
        note: 'nothing shared on the lookup path: each node holds the whole ring in memory (its membership in its own file), so lookups scale out as assumed; membership changes, rare writes, would have to reach every node',
      },
    },
  ]);

  const { failed: checksFailed, total: checksTotal, rate: checkRate } = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(owner.stats.errorRate, batch.stats.errorRate, checkRate));
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
        // Only iterations not started in time can be the machine's; a failed request or wrong owner is a miss.
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
    gradeTarget(t['CH-T8']!, { value: owner.stats.latencyMs.p99, atRate }, ctx.profile),
  ];
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
