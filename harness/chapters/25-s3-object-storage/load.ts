// The chapter's k6 load (load/25-s3-object-storage.js) mapped to its targets: small-object PUTs (each read back),
// GETs and listings at once, each rate graded with the no-op yardstick at the same offered rate; then the capacity per
// node for PUTs and for GETs, each a stepped search beside the no-op server. The script signs every request with
// SigV4, with the credentials the target declares (the reference's by default).
import { join } from 'node:path';
import { gradeTarget } from '../../core/grade-target.ts';
import type { LoadRun, LoadRunContext } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { type CapacitySpec, capacityPerNode, type SearchPlan } from '../../load/capacity-search.ts';
import { loadK6 } from '../../load/chapter-k6.ts';
import { flowStepRunner } from '../../load/flow-step.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

export const LOAD_SCRIPT = join(loadDir, '25-s3-object-storage.js');

// Mirrors the k6 script's profiles: measured seconds, the share of the derived rates, and the listings per second.
const durations = { smoke: { measureS: 8 }, full: { measureS: 60 } };
const scale = { smoke: 0.05, full: 1 };
const listRate = { smoke: 1, full: 5 };

/** Each PUT is 0.5 MiB synced to disk and read back, so the search starts low; GETs start higher. */
const PUT_PLANS: Record<'smoke' | 'full', SearchPlan> = {
  smoke: { startRps: 5, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 10, factor: 2, maxSteps: 9, refine: 3, warmupS: 3, stepS: 8 },
};
const GET_PLANS: Record<'smoke' | 'full', SearchPlan> = {
  smoke: { startRps: 20, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 50, factor: 2, maxSteps: 9, refine: 3, warmupS: 3, stepS: 8 },
};

/** The script's env: the target and the credentials it signs with (the grade's own defaults when none declared). */
export function scriptEnv(
  baseUrl: string,
  profile: string,
  settings: LoadRunContext['settings'],
): Record<string, string> {
  const s = settings ?? {};
  return {
    TARGET_URL: baseUrl,
    PROFILE: profile,
    ACCESS_KEY_ID: String(s.accessKeyId ?? 'SDGRADEACCESSKEY0001'),
    SECRET_ACCESS_KEY: String(s.secretAccessKey ?? 'sdgrade-reference-secret-not-for-production'),
  };
}

const ASSUMPTION =
  "Nodes needed = the derived rate / capacity per node, rounded up: assumes the book's placement service spreads " +
  'objects evenly over data nodes that each store and serve their share. One copy per object: the book replicates ' +
  'to 3 (not built here), which would multiply the write work per PUT. Measured with k6 on the same machine as the ' +
  'node (k6 takes CPU from it, and signs and hashes every 0.5 MiB body), so the capacity is a floor.';

export const loadS3ObjectStorage: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const d = durations[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();
  const env = scriptEnv(baseUrl, ctx.profile, ctx.settings);
  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${baseUrl} (about ${d.measureS + (ctx.profile === 'full' ? 10 : 2)} s)`,
  );
  const run = await loadK6(ctx, {
    script: LOAD_SCRIPT,
    env,
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 180) * 1000,
  });
  const put = measuredScenario(run.summary, 'put', d.measureS, ['puts']);
  const get = measuredScenario(run.summary, 'get', d.measureS, ['gets']);
  const list = measuredScenario(run.summary, 'list', d.measureS);
  const rates = {
    put: Math.max(1, Math.ceil((t['SOS-T1']!.value ?? 0) * scale[ctx.profile])),
    get: Math.max(1, Math.ceil((t['SOS-T2']!.value ?? 0) * scale[ctx.profile])),
    list: listRate[ctx.profile],
  };
  // A PUT iteration is two requests (the PUT and its read-back): the yardstick is offered both.
  const scenarios: LoadScenario[] = [
    { name: 'put', targetRps: rates.put * 2, ...put.stats },
    { name: 'get', targetRps: rates.get, ...get.stats },
    { name: 'list', targetRps: rates.list, ...list.stats },
  ];
  const { failed: checksFailed, rate: checkRate } = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(put.stats.errorRate, get.stats.errorRate, list.stats.errorRate, checkRate));
  const atRate = await atOfferedRate(ctx, run, scenarios);
  const carried = (dropped: number) => [
    { ok: dropped === 0, why: `${dropped} iterations dropped` },
    { ok: errorRate === 0, why: `error rate ${errorRate}` },
  ];
  // Only a rate not carried can be the machine's; a failed request or a wrong body is always a miss.
  const machine = errorRate === 0 ? { atRate } : {};
  const p99 = (name: string) => {
    const m = run.summary.metrics[`${name}{scenario:${name === 'put_ms' ? 'put' : 'get'}}`];
    return m?.type === 'trend' && Number.isFinite(m.values['p(99)']) ? round3(m.values['p(99)']!) : null;
  };
  const putP99 = p99('put_ms');
  const getP99 = p99('get_ms');
  const store = {
    name: 'the metadata store',
    measured: false,
    note: ctx.target.dependencies.database
      ? 'PostgreSQL, shared by every node: each PUT commits its object row there, so its own capacity bounds the node count (not measured separately); the bytes stay on the node.'
      : "not measured separately: each node keeps its own SQLite metadata and data files, the book's data node with its own mapping table.",
  };
  const search = (scenario: 'put' | 'get', iterations: string, trend: string): CapacitySpec['search'] => ({
    plans: scenario === 'put' ? PUT_PLANS : GET_PLANS,
    requestsPerIteration: scenario === 'put' ? 2 : 1,
    impl: (o) =>
      flowStepRunner({
        script: LOAD_SCRIPT,
        env: { ...env, CAPACITY: scenario },
        scenario,
        iterations,
        latencyTrend: trend,
        latencyMs: o.latencyMs,
        plan: o.plan,
        outDir: o.outDir,
        k6: o.k6,
      }),
  });
  // The derived rates are low (4.3 and 81.3/s): a search capped at twice them would stop after a step or two, saying
  // nothing about the node, so each searches on towards the no-op server's range.
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['SOS-T1']!,
      latency: t['SOS-T4']!,
      label: 'small-object PUT',
      url: `${baseUrl}/`,
      maxRps: 1_280,
      store,
      assumption: ASSUMPTION,
      search: search('put', 'puts', 'put_ms'),
    },
    {
      target: t['SOS-T2']!,
      latency: t['SOS-T4']!,
      label: 'small-object GET',
      url: `${baseUrl}/`,
      maxRps: 6_400,
      store,
      assumption: ASSUMPTION,
      search: search('get', 'gets', 'get_ms'),
    },
  ]);
  // A capacity step runs the same script with the same body checks: a wrong body or a failed request at a higher rate
  // is as wrong as one at the book's (concurrent GETs are where shared-state bugs show), so it counts for SOS-T3.
  const failedSteps = capacity.flatMap((c) => (c.steps ?? []).filter((s) => s.errorRate > 0).map((s) => ({ c, s })));
  const stepErrors = {
    rate: Math.max(0, ...failedSteps.map((x) => x.s.errorRate)),
    where: failedSteps
      .map((x) => `; ${x.c.label} capacity step at ${x.s.rate}/s: error rate ${x.s.errorRate}`)
      .join(''),
  };
  const results: TargetResult[] = [
    gradeTarget(
      t['SOS-T1']!,
      { value: round3(put.counters.puts! / d.measureS), conditions: carried(put.dropped), ...machine },
      ctx.profile,
    ),
    gradeTarget(
      t['SOS-T2']!,
      { value: round3(get.counters.gets! / d.measureS), conditions: carried(get.dropped), ...machine },
      ctx.profile,
    ),
    gradeTarget(
      t['SOS-T3']!,
      { value: Math.max(errorRate, stepErrors.rate), reason: `${checksFailed} body checks failed${stepErrors.where}` },
      ctx.profile,
    ),
    gradeTarget(
      t['SOS-T4']!,
      {
        value: putP99 === null || getP99 === null ? null : Math.max(putP99, getP99),
        reason: `PUT p99 ${putP99} ms, GET p99 ${getP99} ms`,
        atRate,
      },
      ctx.profile,
    ),
    gradeTarget(
      t['SOS-T5']!,
      {
        value: list.stats.rps,
        reason: `offered ${rates.list}/s, ${list.dropped} dropped, p99 ${round3(list.stats.latencyMs.p99)} ms`,
      },
      ctx.profile,
    ),
  ];
  return { load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity }, targets: results };
};
