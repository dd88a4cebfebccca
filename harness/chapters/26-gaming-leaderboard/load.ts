// The chapter's k6 load (load/26-gaming-leaderboard.js) mapped to its targets: score updates at the book's peak, top
// 10 fetches at the book's rate and rank queries at once, each rate graded with the no-op yardstick at the same
// offered rate; then the capacity per node for score updates, a stepped search beside the no-op server. The board
// holds 2,000 players, not the book's 25 million (spec README, "Not yet").
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

// Mirrors the k6 script's profiles: measured seconds and the share of the rates.
const durations = { smoke: { measureS: 8 }, full: { measureS: 60 } };
const scale = { smoke: 0.05, full: 1 };
/** The script's rank-query rate (ours; the book gives none). */
const RANK_RATE = 250;
/** Score updates per second; smoke proves the plumbing in two short steps a side. */
const UPDATE_PLANS: Record<'smoke' | 'full', SearchPlan> = {
  smoke: { startRps: 10, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 125, factor: 2, maxSteps: 10, refine: 3, warmupS: 3, stepS: 8 },
};

export const loadLeaderboard: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const d = durations[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();
  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${baseUrl} (about ${d.measureS + (ctx.profile === 'full' ? 10 : 2)} s)`,
  );
  const run = await loadK6(ctx, {
    script: join(loadDir, '26-gaming-leaderboard.js'),
    env: { TARGET_URL: baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 120) * 1000,
  });
  const update = measuredScenario(run.summary, 'update', d.measureS);
  const top10 = measuredScenario(run.summary, 'top10', d.measureS);
  const rank = measuredScenario(run.summary, 'rank', d.measureS);
  const rates = {
    update: Math.max(1, Math.ceil((t['RGL-T1']!.value ?? 0) * scale[ctx.profile])),
    top10: Math.max(1, Math.ceil((t['RGL-T4']!.value ?? 0) * scale[ctx.profile])),
    rank: Math.max(1, Math.ceil(RANK_RATE * scale[ctx.profile])),
  };
  const scenarios: LoadScenario[] = [
    { name: 'update', targetRps: rates.update, ...update.stats },
    { name: 'top10', targetRps: rates.top10, ...top10.stats },
    { name: 'rank', targetRps: rates.rank, ...rank.stats },
  ];
  const { failed: checksFailed, rate: checkRate } = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(update.stats.errorRate, top10.stats.errorRate, rank.stats.errorRate, checkRate));
  const atRate = await atOfferedRate(ctx, run, scenarios);
  const carried = (s: typeof update, what: string) => [
    { ok: s.dropped === 0, why: `${s.dropped} ${what} iterations dropped` },
    { ok: errorRate === 0, why: `error rate ${errorRate}` },
  ];
  // Capacity per node for RGL-T1's peak: the script's score updates (checked: the player, month and a total past
  // the preload) alone at stepped rates, within RGL-T3's 50 ms, the chapter's only latency bound.
  const shared = Boolean(ctx.target.dependencies.redis);
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['RGL-T1']!,
      latency: t['RGL-T3']!,
      label: 'score update',
      url: `${baseUrl}/v1/scores`,
      store: {
        name: 'the board',
        measured: false,
        note: shared
          ? "one Redis sorted set per month, shared by every node: each update is a ZINCRBY there, so Redis's own capacity bounds the node count (not measured separately)."
          : "in each node's memory (the embedded tree): nodes would not share one board, so no node count is made; with Redis (--real-deps) the tier is stateless.",
      },
      ...(shared
        ? {}
        : { noNodeCount: "the board is in the node's own memory (embedded), so nodes would not share it" }),
      search: {
        plans: UPDATE_PLANS,
        impl: (o) =>
          flowStepRunner({
            script: join(loadDir, '26-gaming-leaderboard.js'),
            env: { TARGET_URL: baseUrl, PROFILE: ctx.profile, CAPACITY: 'update' },
            scenario: 'update',
            // One update request per iteration; a wrong answer fails the step through its checks.
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
      t['RGL-T1']!,
      {
        value: round3(update.count / d.measureS),
        conditions: carried(update, 'update'),
        // Only a rate not carried can be the machine's; a failed request or a wrong body is always a miss.
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
    gradeTarget(t['RGL-T2']!, { value: errorRate, reason: `${checksFailed} body checks failed` }, ctx.profile),
    gradeTarget(t['RGL-T3']!, { value: rank.stats.latencyMs.p99, atRate }, ctx.profile),
    gradeTarget(
      t['RGL-T4']!,
      {
        value: round3(top10.count / d.measureS),
        conditions: carried(top10, 'top10'),
        ...(errorRate === 0 ? { atRate } : {}),
      },
      ctx.profile,
    ),
  ];
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
