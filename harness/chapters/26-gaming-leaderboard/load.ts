// The chapter's k6 load (load/26-gaming-leaderboard.js) mapped to its targets: score updates at the book's peak, top
// 10 fetches at the book's rate and rank queries at once, each rate graded with the no-op yardstick at the same
// offered rate. The board holds 2,000 players, not the book's 25 million (spec README, "Not yet").
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

// Mirrors the k6 script's profiles: measured seconds and the share of the rates.
const durations = { smoke: { measureS: 8 }, full: { measureS: 60 } };
const scale = { smoke: 0.05, full: 1 };
/** The script's rank-query rate (ours; the book gives none). */
const RANK_RATE = 250;

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
  return { load: loadSection(ctx.profile, ctx.k6Version, run, scenarios), targets: results };
};
