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
import type { LoadScenario } from '../../results/types.ts';

// Mirrors the k6 script's profiles (measured seconds and rate).
const profiles = {
  smoke: { measureS: 6, rate: 100, probeS: 3, rounds: 1 },
  full: { measureS: 60, rate: 500, probeS: 10, rounds: 3 },
};

export const loadRateLimiter: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  ctx.onProgress(`k6 ${ctx.profile} profile against ${ctx.target.baseUrl} (about ${p.measureS + 3} s)`);
  const run = await loadK6(ctx, {
    script: join(loadDir, '05-rate-limiter.js'),
    env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (p.measureS + 120) * 1000,
  });
  const limited = measuredScenario(run.summary, 'limited', p.measureS);
  const passthrough = measuredScenario(run.summary, 'passthrough', p.measureS);
  const checks = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(limited.stats.errorRate, passthrough.stats.errorRate, checks.rate));
  const added = round3(limited.stats.latencyMs.p99 - passthrough.stats.latencyMs.p99);

  const scenarios: LoadScenario[] = [
    { name: 'limited', targetRps: p.rate, ...limited.stats },
    { name: 'passthrough', targetRps: p.rate, ...passthrough.stats },
  ];
  // The no-op yardstick at the same offered rate, and k6's own CPU use: met, missed, or beyond this machine.
  const atRate = await atOfferedRate(ctx, run, scenarios);

  // RL-T3: the decision endpoint on one key whose limit is never reached, against the no-op server.
  // grade-load: the load ran elsewhere; what needs the implementation is reported as not measured.
  const here = !ctx.replayDir;
  const domain = `load-${Date.now().toString(36)}`;
  if (here) {
    const put = await fetch(`${ctx.target.baseUrl}/api/v1/rules/${domain}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        descriptors: [{ key: 'client', rate_limit: { unit: 'second', requests_per_unit: 1e9 } }],
      }),
    });
    if (put.status !== 200) throw new Error(`could not install the capacity probe's rule: ${put.status}`);
  }
  const decision = {
    url: `${ctx.target.baseUrl}/api/v1/ratelimit`,
    method: 'POST',
    body: JSON.stringify({ domain, descriptors: [{ key: 'client', value: 'probe' }] }),
  };
  const probe = { label: 'decision', rounds: p.rounds };
  const ratio: Measurement = here
    ? capacityMeasurement(
        await capacityRatio({
          ...probe,
          ...decision,
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

  // Capacity per node of the decision service. The book gives no rate, so no node count; a step must keep the whole
  // decision's p99 within RL-T1's 5 ms, since a decision call is what the limiter adds to each API request.
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['RL-T1']!,
      latency: t['RL-T1']!,
      label: 'decision',
      ...decision,
      store: {
        name: 'the counter store',
        measured: false,
        note: 'not measured separately: with Redis every node shares its counters there, and Redis bounds the node count (RL-T5 compares its decisions per second with rate-limiter-flexible)',
      },
    },
  ]);

  const carried = (s: typeof limited, name: string) => [
    { ok: s.dropped === 0, why: `${s.dropped} ${name} iterations could not start in time (rate not carried)` },
    { ok: s.stats.errorRate === 0, why: `${name} error rate ${s.stats.errorRate}` },
  ];
  return {
    load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity },
    targets: [
      gradeTarget(
        t['RL-T1']!,
        {
          value: added,
          yardstick: {
            name: 'p99 of the same endpoint without a matching rule, same run',
            value: passthrough.stats.latencyMs.p99,
            unit: 'ms',
          },
          conditions: [...carried(limited, 'limited'), ...carried(passthrough, 'passthrough')],
          reason: `p99 limited ${limited.stats.latencyMs.p99} ms vs pass-through ${passthrough.stats.latencyMs.p99} ms`,
          // Only a rate not carried can be the machine's; a failed request or wrong answer is always a miss.
          ...(errorRate === 0 ? { atRate } : {}),
        },
        ctx.profile,
      ),
      gradeTarget(t['RL-T2']!, { value: errorRate, reason: `${checks.failed} answer checks failed` }, ctx.profile),
      gradeTarget(t['RL-T3']!, ratio, ctx.profile),
    ],
  };
};
