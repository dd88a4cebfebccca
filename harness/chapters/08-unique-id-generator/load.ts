// The chapter's load test: the k6 script at the book's 10,000 IDs/s (UID-T1..T3), then the batch endpoint's
// ceiling in IDs per second against the no-op server's requests per second, alternated in the same run (UID-T4).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir, specFile } from '../../core/paths.ts';
import type { ResolvedTarget } from '../../core/resolve-targets.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { extractScenario, type K6Summary, runK6 } from '../../load/k6-runner.ts';
import { startNoopServer } from '../../load/noop-server.ts';
import { probeCapacity } from '../../load/probe-capacity.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

const BATCH_PROBE = fileURLToPath(new URL('./batch-probe.js', import.meta.url));
/** IDs per request in the capacity probe of the batch endpoint. */
export const PROBE_BATCH = 1000;
// Mirrors the k6 script's profiles (measured seconds; share of the rate as singles; batch size).
const durations = { smoke: { measureS: 8, probeS: 3, rounds: 1 }, full: { measureS: 60, probeS: 10, rounds: 3 } };
const scale = { smoke: 0.02, full: 1 };

export const loadIdGenerator: LoadRun = async (ctx) => {
  const targets: ResolvedTarget[] = JSON.parse(
    readFileSync(specFile(ctx.catalog.chapter, 'generated/targets.json'), 'utf8'),
  );
  const t = Object.fromEntries(targets.map((x) => [x.id, x])) as Record<string, ResolvedTarget>;
  const d = durations[ctx.profile];
  const baseUrl = ctx.target.nodeUrl();

  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${baseUrl} (about ${d.measureS + (ctx.profile === 'full' ? 10 : 2)} s)`,
  );
  const run = await runK6({
    script: join(loadDir, '08-unique-id-generator.js'),
    env: { TARGET_URL: baseUrl, PROFILE: ctx.profile },
    outDir: ctx.outDir,
    k6: ctx.k6,
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 120) * 1000,
  });
  const single = measured(run.summary, 'single', d.measureS);
  const batch = measured(run.summary, 'batch', d.measureS);
  const idsPerSecond = round((single.ids + batch.ids) / d.measureS);
  const bookRate = (t['UID-T1']!.value ?? 0) * scale[ctx.profile];
  const scenarios: LoadScenario[] = [
    { name: 'single', targetRps: Math.max(1, Math.ceil(bookRate * 0.1)), ...single.stats },
    { name: 'batch', targetRps: Math.max(1, Math.ceil((bookRate * 0.9) / 100)), ...batch.stats },
  ];
  const checksFailed = run.summary.checks.reduce((n, c) => n + c.fails, 0);
  const checksTotal = run.summary.checks.reduce((n, c) => n + c.passes + c.fails, 0);
  const errorRate = round(
    Math.max(single.stats.errorRate, batch.stats.errorRate, checksFailed / Math.max(1, checksTotal)),
  );

  // UID-T4: IDs per second from the batch endpoint at its ceiling, over the no-op server's requests per second.
  ctx.onProgress(
    `capacity probes: no-op server and batches of ${PROBE_BATCH}, alternating, ${d.rounds} x ${d.probeS} s`,
  );
  const noop = await startNoopServer();
  let ratio: Measurement;
  try {
    const ceilings: number[] = [];
    const batches: number[] = [];
    let probeErrors = 0;
    for (let i = 0; i < d.rounds; i++) {
      const outDir = (name: string) => join(ctx.outDir, `probe-${name}-${i}`);
      ceilings.push(
        (await probeCapacity({ url: `${noop.url}/`, durationS: d.probeS, vus: 32, outDir: outDir('noop'), k6: ctx.k6 }))
          .rps,
      );
      const b = await runK6({
        script: BATCH_PROBE,
        env: { TARGET_URL: baseUrl, COUNT: String(PROBE_BATCH), DURATION: `${d.probeS}s`, VUS: '16' },
        outDir: outDir('batch'),
        k6: ctx.k6,
        timeoutMs: (d.probeS + 60) * 1000,
      });
      const s = extractScenario(b.summary, 'probe');
      batches.push(s.rps * PROBE_BATCH);
      probeErrors += s.errorRate;
    }
    const ceiling = median(ceilings);
    const ids = median(batches);
    ratio = {
      value: round(ids / ceiling),
      yardstick: { name: 'no-op node:http server, same machine, same run', value: round(ceiling), unit: 'req/s' },
      conditions: [{ ok: probeErrors === 0, why: 'some batch-probe requests failed' }],
      reason: `median of ${d.rounds}: ${round(ids)} IDs/s in batches of ${PROBE_BATCH} vs no-op ${round(ceiling)} req/s`,
    };
  } finally {
    await noop.stop();
  }

  const results: TargetResult[] = [
    gradeTarget(
      t['UID-T1']!,
      {
        value: idsPerSecond,
        conditions: [
          { ok: single.dropped + batch.dropped === 0, why: `${single.dropped + batch.dropped} iterations dropped` },
          { ok: errorRate === 0, why: `error rate ${errorRate}` },
        ],
      },
      ctx.profile,
    ),
    gradeTarget(t['UID-T2']!, { value: errorRate, reason: `${checksFailed} body checks failed` }, ctx.profile),
    gradeTarget(t['UID-T3']!, { value: single.stats.latencyMs.p99 }, ctx.profile),
    gradeTarget(t['UID-T4']!, ratio, ctx.profile),
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
  const ids = summary.metrics[`ids{scenario:${name}}`];
  const count = reqs?.type === 'counter' ? reqs.count : 0;
  return {
    ids: ids?.type === 'counter' ? ids.count : 0,
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
