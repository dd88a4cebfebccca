import { join } from 'node:path';
import type { Measurement } from '../../core/grade-target.ts';
import { gradeTarget } from '../../core/grade-target.ts';
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

/** IDs per request in the capacity probe of the batch endpoint. */
export const PROBE_BATCH = 1000;
// Mirrors the k6 script's profiles (measured seconds; share of the rate as singles; batch size).
const durations = { smoke: { measureS: 8, probeS: 3, rounds: 1 }, full: { measureS: 60, probeS: 10, rounds: 3 } };
const scale = { smoke: 0.02, full: 1 };

export const loadIdGenerator: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const d = durations[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();

  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${baseUrl} (about ${d.measureS + (ctx.profile === 'full' ? 10 : 2)} s)`,
  );
  const run = await loadK6(ctx, {
    script: join(loadDir, '08-unique-id-generator.js'),
    env: { TARGET_URL: baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 120) * 1000,
  });
  const single = measuredScenario(run.summary, 'single', d.measureS, ['ids']);
  const batch = measuredScenario(run.summary, 'batch', d.measureS, ['ids']);
  const idsPerSecond = round3((single.counters.ids! + batch.counters.ids!) / d.measureS);
  const bookRate = (t['UID-T1']!.value ?? 0) * scale[ctx.profile];
  const scenarios: LoadScenario[] = [
    { name: 'single', targetRps: Math.max(1, Math.ceil(bookRate * 0.1)), ...single.stats },
    { name: 'batch', targetRps: Math.max(1, Math.ceil((bookRate * 0.9) / 100)), ...batch.stats },
  ];
  const { failed: checksFailed, rate: checkRate } = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(single.stats.errorRate, batch.stats.errorRate, checkRate));

  // The no-op yardstick at the same offered rate, and k6's own CPU use: met, missed, or beyond this machine.
  const atRate = await atOfferedRate(ctx, run, scenarios);

  // UID-T4: IDs per second from the batch endpoint at its ceiling, over the no-op server's requests per second.
  const probe = { label: `batches of ${PROBE_BATCH}`, rounds: d.rounds, unit: 'IDs/s' };
  const here = !ctx.replayDir;
  const ratio: Measurement = here
    ? capacityMeasurement(
        await capacityRatio({
          ...probe,
          url: `${baseUrl}/api/v1/ids/batch?count=${PROBE_BATCH}`,
          method: 'POST',
          perRequest: PROBE_BATCH,
          vus: 16,
          probeS: d.probeS,
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

  // Capacity per node for the book's rate, one ID per request (the book's interface; batches only divide it).
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['UID-T1']!,
      latency: t['UID-T3']!,
      label: 'single ID',
      url: `${baseUrl}/api/v1/ids`,
      method: 'POST',
      store: {
        name: 'shared store',
        measured: false,
        note: 'none: each node makes IDs from its own datacenter and machine IDs (5 + 5 bits: up to 1,024 nodes) and its clock; nothing is shared, so the tier scales out as assumed.',
      },
    },
  ]);

  const results: TargetResult[] = [
    gradeTarget(
      t['UID-T1']!,
      {
        value: idsPerSecond,
        conditions: [
          { ok: single.dropped + batch.dropped === 0, why: `${single.dropped + batch.dropped} iterations dropped` },
          { ok: errorRate === 0, why: `error rate ${errorRate}` },
        ],
        // Only a rate not carried can be the machine's; a failed request or wrong body is always a miss.
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
    gradeTarget(t['UID-T2']!, { value: errorRate, reason: `${checksFailed} body checks failed` }, ctx.profile),
    gradeTarget(t['UID-T3']!, { value: single.stats.latencyMs.p99, atRate }, ctx.profile),
    gradeTarget(t['UID-T4']!, ratio, ctx.profile),
  ];
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
