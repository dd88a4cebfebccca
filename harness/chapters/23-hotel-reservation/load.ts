// The chapter's k6 load (load/23-hotel-reservation.js) mapped to its targets: the book's reservations, detail views
// and availability reads at once, each rate graded with the no-op yardstick at the same offered rate. The three
// strategies side by side under contention are not measured yet (spec README, "Not yet").
import { join } from 'node:path';
import { gradeTarget } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { loadK6 } from '../../load/chapter-k6.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

// Mirrors the k6 script's profiles: measured seconds and the share of the book's rates.
const durations = { smoke: { measureS: 8 }, full: { measureS: 60 } };
const scale = { smoke: 0.05, full: 1 };

export const loadHotelReservation: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const d = durations[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();
  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${baseUrl} (about ${d.measureS + (ctx.profile === 'full' ? 10 : 2)} s)`,
  );
  const run = await loadK6(ctx, {
    script: join(loadDir, '23-hotel-reservation.js'),
    env: { TARGET_URL: baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 120) * 1000,
  });
  const reserve = measuredScenario(run.summary, 'reserve', d.measureS, ['reservations']);
  const details = measuredScenario(run.summary, 'details', d.measureS);
  const availability = measuredScenario(run.summary, 'availability', d.measureS);
  const rates = {
    reserve: Math.max(1, Math.ceil((t['HR-T1']!.value ?? 0) * scale[ctx.profile])),
    details: Math.max(1, Math.ceil((t['HR-T2']!.value ?? 0) * scale[ctx.profile])),
    availability: Math.max(1, Math.ceil(30 * scale[ctx.profile])),
  };
  const scenarios: LoadScenario[] = [
    { name: 'reserve', targetRps: rates.reserve, ...reserve.stats },
    { name: 'details', targetRps: rates.details, ...details.stats },
    { name: 'availability', targetRps: rates.availability, ...availability.stats },
  ];
  const { failed: checksFailed, rate: checkRate } = checkFailureRate(run.summary);
  const errorRate = shareOf(
    Math.max(reserve.stats.errorRate, details.stats.errorRate, availability.stats.errorRate, checkRate),
  );
  const atRate = await atOfferedRate(ctx, run, scenarios);
  const carried = (dropped: number) => [
    { ok: dropped === 0, why: `${dropped} iterations dropped` },
    { ok: errorRate === 0, why: `error rate ${errorRate}` },
  ];
  const results: TargetResult[] = [
    gradeTarget(
      t['HR-T1']!,
      {
        value: round3(reserve.counters.reservations! / d.measureS),
        conditions: carried(reserve.dropped),
        // Only a rate not carried can be the machine's; a failed request or a wrong body is always a miss.
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
    gradeTarget(
      t['HR-T2']!,
      {
        value: round3(details.stats.rps),
        conditions: carried(details.dropped),
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
    gradeTarget(t['HR-T3']!, { value: errorRate, reason: `${checksFailed} body checks failed` }, ctx.profile),
    gradeTarget(t['HR-T4']!, { value: reserve.stats.latencyMs.p99, atRate }, ctx.profile),
  ];
  return { load: loadSection(ctx.profile, ctx.k6Version, run, scenarios), targets: results };
};
