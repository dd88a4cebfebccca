// The chapter's load test: the k6 script with the book's mix (URL-T1..T5), a capacity probe of the redirect against
// the no-op server in the same run (URL-T6), and bytes stored per link from the data directory (URL-T7).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dirBytes } from '../../core/dir-bytes.ts';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir, specFile } from '../../core/paths.ts';
import type { ResolvedTarget } from '../../core/resolve-targets.ts';
import type { Target } from '../../core/target.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { extractScenario, type K6Summary, runK6 } from '../../load/k6-runner.ts';
import { startNoopServer } from '../../load/noop-server.ts';
import { probeCapacity } from '../../load/probe-capacity.ts';
import type { LoadScenario, TargetResult } from '../../results/types.ts';

// Mirrors the k6 script's profiles (links made in its setup, measured seconds).
const setupLinks = { smoke: 200, full: 5000 };
const durations = { smoke: { measureS: 8, probeS: 3, rounds: 1 }, full: { measureS: 60, probeS: 10, rounds: 3 } };

export const loadUrlShortener: LoadRun = async (ctx) => {
  const targets: ResolvedTarget[] = JSON.parse(
    readFileSync(specFile(ctx.catalog.chapter, 'generated/targets.json'), 'utf8'),
  );
  const t = Object.fromEntries(targets.map((x) => [x.id, x])) as Record<string, ResolvedTarget>;
  const d = durations[ctx.profile];
  const bytesBefore = await storedBytes(ctx.target);

  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${ctx.target.baseUrl} (about ${d.measureS + (ctx.profile === 'full' ? 15 : 2)} s)`,
  );
  const run = await runK6({
    script: join(loadDir, '09-url-shortener.js'),
    env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
    outDir: ctx.outDir,
    k6: ctx.k6,
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (d.measureS + 120) * 1000,
  });
  const scen = (name: 'shorten' | 'redirect') => measuredScenario(run.summary, name, d.measureS);
  const shorten = scen('shorten');
  const redirect = scen('redirect');
  const scenarios: LoadScenario[] = [
    { name: 'shorten', targetRps: rateFor(t['URL-T1']!, ctx.profile), ...shorten.stats },
    { name: 'redirect', targetRps: rateFor(t['URL-T2']!, ctx.profile), ...redirect.stats },
  ];

  // URL-T6: the redirect's ceiling against the no-op server's, alternated and repeated in this run (bare numbers
  // move 15-25% between runs here; the median of alternating probes is what we trust).
  ctx.onProgress(`capacity probes: no-op server and redirect, alternating, ${d.rounds} x ${d.probeS} s each`);
  const noop = await startNoopServer();
  let ratio: Measurement;
  try {
    const code = await anyCode(ctx.target.baseUrl);
    const ceilings: number[] = [];
    const redirects: number[] = [];
    let probeErrors = 0;
    for (let i = 0; i < d.rounds; i++) {
      const probe = (url: string, name: string) =>
        probeCapacity({
          url,
          durationS: d.probeS,
          vus: 32,
          outDir: join(ctx.outDir, `probe-${name}-${i}`),
          k6: ctx.k6,
        });
      ceilings.push((await probe(`${noop.url}/`, 'noop')).rps);
      const r = await probe(`${ctx.target.baseUrl}/api/v1/${code}`, 'redirect');
      redirects.push(r.rps);
      probeErrors += r.errorRate;
    }
    const ceiling = median(ceilings);
    const redirectCap = median(redirects);
    ratio = {
      value: round(redirectCap / ceiling),
      yardstick: { name: 'no-op node:http server, same machine, same run', value: round(ceiling), unit: 'req/s' },
      conditions: [{ ok: probeErrors === 0, why: 'some capacity-probe requests failed' }],
      reason: `median of ${d.rounds}: redirect ${round(redirectCap)} req/s vs no-op ${round(ceiling)} req/s`,
    };
  } finally {
    await noop.stop();
  }

  const noErrors = [
    {
      ok: shorten.dropped === 0,
      why: `${shorten.dropped} shorten iterations could not start in time (rate not carried)`,
    },
    { ok: shorten.stats.errorRate === 0, why: `shorten error rate ${shorten.stats.errorRate}` },
  ];
  const noErrorsRead = [
    {
      ok: redirect.dropped === 0,
      why: `${redirect.dropped} redirect iterations could not start in time (rate not carried)`,
    },
    { ok: redirect.stats.errorRate === 0, why: `redirect error rate ${redirect.stats.errorRate}` },
  ];
  const checksFailed = run.summary.checks.reduce((n, c) => n + c.fails, 0);
  const checksTotal = run.summary.checks.reduce((n, c) => n + c.passes + c.fails, 0);
  const errorRate = round(
    Math.max(shorten.stats.errorRate, redirect.stats.errorRate, checksFailed / Math.max(1, checksTotal)),
  );

  // Links made during the run: the script's setup links plus every shorten request that succeeded.
  const created = setupLinks[ctx.profile] + Math.round(shorten.count * (1 - shorten.stats.errorRate));
  const bytesAfter = await storedBytes(ctx.target);
  const bytes: Measurement =
    bytesBefore === null || bytesAfter === null
      ? { value: null, reason: 'needs the data directory of a manifest-started target using its embedded store' }
      : created > 0
        ? {
            value: Math.round((bytesAfter - bytesBefore) / created),
            yardstick: { name: "the book's 100 bytes per record", value: t['URL-T7']!.value ?? 100, unit: 'bytes' },
            reason: `${created} links grew the data directory by ${bytesAfter - bytesBefore} bytes`,
          }
        : { value: null, reason: 'no link was created during the load run' };

  const results: TargetResult[] = [
    gradeTarget(t['URL-T1']!, { value: round(shorten.stats.rps), conditions: noErrors }, ctx.profile),
    gradeTarget(t['URL-T2']!, { value: round(redirect.stats.rps), conditions: noErrorsRead }, ctx.profile),
    gradeTarget(t['URL-T3']!, { value: errorRate, reason: `${checksFailed} body checks failed` }, ctx.profile),
    gradeTarget(t['URL-T4']!, { value: redirect.stats.latencyMs.p99 }, ctx.profile),
    gradeTarget(t['URL-T5']!, { value: shorten.stats.latencyMs.p99 }, ctx.profile),
    gradeTarget(t['URL-T6']!, ratio, ctx.profile),
    gradeTarget(t['URL-T7']!, bytes, ctx.profile),
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

/** A measured scenario: k6's numbers, with the rate over the scenario's own duration (k6's is over the whole test). */
function measuredScenario(summary: K6Summary, name: string, seconds: number) {
  const s = extractScenario(summary, name);
  const reqs = summary.metrics[`http_reqs{scenario:${name}}`];
  const dropped = summary.metrics[`dropped_iterations{scenario:${name}}`];
  const count = reqs?.type === 'counter' ? reqs.count : 0;
  return {
    count,
    dropped: dropped?.type === 'counter' ? dropped.count : 0,
    stats: { rps: round(count / seconds), errorRate: round(s.errorRate), latencyMs: s.latencyMs },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Bytes of the node's data directory at rest: the node is stopped gracefully first (so a write-ahead log is folded
 * into the database and not counted), measured, and started again. Null where that cannot be done.
 */
async function storedBytes(target: Target): Promise<number | null> {
  if (!target.processControl || !target.dataDir || target.dependencies.database) return null;
  await target.stop();
  const bytes = dirBytes(target.dataDir());
  await target.start();
  return bytes;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function rateFor(t: ResolvedTarget, profile: 'smoke' | 'full'): number {
  // Mirrors the script's profiles: smoke runs at 2% of the book's rate.
  return Math.ceil((t.value ?? 0) * (profile === 'smoke' ? 0.02 : 1));
}

async function anyCode(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/data/shorten`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ longUrl: `https://example.com/capacity-probe/${Date.now()}` }),
  });
  const body = (await res.json()) as { code: string };
  return body.code;
}
