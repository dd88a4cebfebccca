// The chapter's k6 load (load/23-hotel-reservation.js) mapped to its targets: the book's reservations, detail views
// and availability reads at once, each rate graded with the no-op yardstick at the same offered rate; then the
// capacity per node for reservations, a stepped search beside the no-op server. The three strategies side by side
// under contention are bench.ts's (`sdgrade bench 23`).
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

// Mirrors the k6 script's profiles: measured seconds and the share of the book's rates.
const durations = { smoke: { measureS: 8 }, full: { measureS: 60 } };
const scale = { smoke: 0.05, full: 1 };
/** Reservations per second: each is a transaction over its nights' inventory, so the search starts low. */
const RESERVE_PLANS: Record<'smoke' | 'full', SearchPlan> = {
  smoke: { startRps: 5, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 25, factor: 2, maxSteps: 10, refine: 3, warmupS: 3, stepS: 8 },
};

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
  // Capacity per node for HR-T1's rate: the script's reservations (checked: 201, the reservation asked for) alone at
  // stepped rates, within HR-T4. The book's 3/s would stop a search capped at twice it after one step, saying nothing
  // about the node, so it searches on up to the no-op server's top.
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['HR-T1']!,
      latency: t['HR-T4']!,
      label: 'reservation',
      url: `${baseUrl}/v1/reservations`,
      maxRps: 12_800,
      store: {
        name: 'the inventory store',
        measured: false,
        note: ctx.target.dependencies.database
          ? "PostgreSQL, shared by every node: each reservation locks its nights' inventory rows there, so its own capacity bounds the node count (not measured separately)."
          : 'not measured separately: each node keeps its own SQLite file by default, so this tier is not stateless as is; with --real-deps the nodes share PostgreSQL, whose own capacity bounds the node count.',
      },
      search: {
        plans: RESERVE_PLANS,
        impl: (o) =>
          flowStepRunner({
            script: join(loadDir, '23-hotel-reservation.js'),
            env: { TARGET_URL: baseUrl, PROFILE: ctx.profile, CAPACITY: 'reserve' },
            scenario: 'reserve',
            iterations: 'reservations',
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
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
