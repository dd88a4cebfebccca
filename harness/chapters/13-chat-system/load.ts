// The chapter's load test: the k6 WebSocket profile (fan-out latency in a chatty 20-member group, delivery latency
// to a 100-member group, loss), then connections held at once and the chat servers' memory per connection, measured
// here with `ws` clients and the servers' RSS from /proc (manifest targets on Linux), then the capacity search: the
// highest message rate into a 20-member group whose fan-out p99 stays within CHAT-T4, side by side with the no-op
// fan-out server in a process of its own (harness/load/fanout-step.ts).
import { join } from 'node:path';
import { gradeTarget } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { capacityPerNode, type SearchStepOptions } from '../../load/capacity-search.ts';
import { loadK6 } from '../../load/chapter-k6.ts';
import { FANOUT_PLANS, fanoutStepRunner } from '../../load/fanout-step.ts';
import { checkFailureRate, loadSection } from '../../load/measured-scenario.ts';
import { startNoopFanoutProcess } from '../../load/noop-process.ts';
import type { AtRate, LoadScenario, TargetResult } from '../../results/types.ts';
import { holdConnections } from './hold-connections.ts';

// Mirrors the k6 script's profiles.
const profiles = {
  smoke: { fanoutMembers: 20, fanoutRate: 20, group100Rate: 2, holdS: 10, connections: 500 },
  full: { fanoutMembers: 20, fanoutRate: 200, group100Rate: 10, holdS: 65, connections: 5000 },
};
const GROUP100 = 100;
const SINGLE_PROCESS =
  "chapter 13's load runs from one k6 process: its setup makes the groups per process and its VUs are their members";

export const loadChatSystem: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();
  // The script's setup makes its users and groups in each k6 process, and its VUs are the groups' members: split
  // over processes, each group would have members missing and show them as lost messages.
  if ((ctx.segments ?? 1) > 1) throw new Error(SINGLE_PROCESS);
  ctx.onProgress(`k6 ${ctx.profile} WebSocket profile against ${baseUrl} (about ${p.holdS + 10} s)`);
  const run = await loadK6(ctx, {
    script: join(loadDir, '13-chat-system.js'),
    env: { TARGET_URL: baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (p.holdS + 180) * 1000,
  });
  if (run.segments > 1) throw new Error(`${SINGLE_PROCESS} (${run.segments} runner outputs found)`);
  const m = run.summary.metrics;
  const count = (name: string) => {
    const x = m[name];
    return x?.type === 'counter' ? x.count : 0;
  };
  const trend = (name: string, stat: string) => {
    const x = m[name];
    return x?.type === 'trend' && Number.isFinite(x.values[stat]) ? round3(x.values[stat]!) : null;
  };
  const fanoutExpected = count('fanout_acked') * (p.fanoutMembers - 1);
  const groupExpected = count('group100_acked') * (GROUP100 - 1);
  const deliveredAll = count('fanout_delivered') + count('group100_delivered');
  const expected = fanoutExpected + groupExpected;
  const loss = expected > 0 ? round3(Math.max(0, 1 - deliveredAll / expected)) : null;
  const { failed: checksFailed } = checkFailureRate(run.summary);
  const refused = count('refused');
  const scenarios: LoadScenario[] = [
    {
      name: 'fanout',
      targetRps: p.fanoutRate,
      rps: round3(count('fanout_acked') / p.holdS),
      errorRate: fanoutExpected ? round3(Math.max(0, 1 - count('fanout_delivered') / fanoutExpected)) : 0,
      latencyMs: latency(m, 'fanout_latency'),
    },
    {
      name: 'group100',
      targetRps: p.group100Rate,
      rps: round3(count('group100_acked') / p.holdS),
      errorRate: groupExpected ? round3(Math.max(0, 1 - count('group100_delivered') / groupExpected)) : 0,
      latencyMs: latency(m, 'group100_latency'),
    },
  ];

  // Beyond this machine only when k6 itself was saturated: the no-op HTTP yardstick has no WebSocket fan-out to
  // offer at the same rate, so there is no yardstick figure here and a slow delivery is the implementation's.
  const atRate: AtRate = {
    offeredRps: p.fanoutRate + p.group100Rate,
    ...(run.loadGenerator ? { loadGenerator: run.loadGenerator } : {}),
  };

  // grade-load: the connections are held from here, against the implementation: not measured from runner outputs.
  const notHere = {
    value: null,
    reason: 'not measured: graded from runner outputs (grade-load); needs the implementation',
  };
  let held: Awaited<ReturnType<typeof holdConnections>> | null = null;
  if (!ctx.replayDir) {
    ctx.onProgress(`holding ${p.connections} WebSocket connections to measure memory per connection`);
    held = await holdConnections(ctx.target, p.connections, ctx.onProgress);
  }
  // Capacity per node: the group size of CHAT-T3/T4 at a stepped message rate, within CHAT-T4's p99. The book gives
  // no message rate, so there is no node count; "node" is the deployment as the manifest starts it (the API server
  // and the chat servers, one machine).
  const fanout = (url: string) => (o: SearchStepOptions) =>
    fanoutStepRunner({
      baseUrl: url,
      members: p.fanoutMembers,
      latencyMs: o.latencyMs,
      plan: o.plan,
      outDir: o.outDir,
      k6: o.k6,
    });
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['CHAT-T4']!,
      latency: t['CHAT-T4']!,
      label: `fan-out to a ${p.fanoutMembers}-member group`,
      url: baseUrl,
      unit: 'msg/s',
      search: {
        plans: FANOUT_PLANS,
        impl: (o) => fanout(baseUrl)(o),
        yardstick: {
          name: 'the no-op fan-out server',
          start: () => startNoopFanoutProcess(),
          run: (url, o) => fanout(url)(o),
        },
      },
      store: {
        name: 'the message store and the relay between chat servers',
        measured: false,
        note: 'part of the search (every message is stored and relayed before its fan-out), not measured separately',
      },
    },
  ]);
  const rateNote = `${p.fanoutRate} msg/s into a 20-member group over both chat servers, ${ctx.profile} profile`;
  const results: TargetResult[] = [
    gradeTarget(
      t['CHAT-T1']!,
      held
        ? {
            value: held.held,
            conditions: [{ ok: held.failed === 0, why: `${held.failed} connections failed` }],
            reason: held.note,
          }
        : notHere,
      ctx.profile,
    ),
    gradeTarget(t['CHAT-T2']!, held ? { value: held.bytesPerConnection, reason: held.note } : notHere, ctx.profile),
    gradeTarget(t['CHAT-T3']!, { value: trend('fanout_latency', 'p(50)'), reason: rateNote, atRate }, ctx.profile),
    gradeTarget(t['CHAT-T4']!, { value: trend('fanout_latency', 'p(99)'), reason: rateNote, atRate }, ctx.profile),
    gradeTarget(
      t['CHAT-T5']!,
      { value: trend('group100_latency', 'p(99)'), reason: `${p.group100Rate} msg/s into a 100-member group`, atRate },
      ctx.profile,
    ),
    gradeTarget(
      t['CHAT-T6']!,
      {
        value: loss,
        ...(loss === null ? { reason: 'no message was acknowledged under load' } : {}),
        conditions: [
          { ok: refused === 0, why: `${refused} error frames or socket errors` },
          { ok: checksFailed === 0, why: `${checksFailed} frame checks failed` },
        ],
      },
      ctx.profile,
    ),
  ];
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};

function latency(m: Record<string, import('../../load/k6-runner.ts').K6Summary['metrics'][string]>, name: string) {
  const x = m[name];
  const v = x?.type === 'trend' ? x.values : {};
  const g = (k: string) => round3(v[k] ?? 0);
  return { p50: g('p(50)'), p90: g('p(90)'), p95: g('p(95)'), p99: g('p(99)'), max: g('max') };
}
