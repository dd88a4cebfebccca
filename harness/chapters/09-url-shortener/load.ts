import { join } from 'node:path';
import { dirBytes } from '../../core/dir-bytes.ts';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets, type ResolvedTarget } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import type { Target } from '../../core/target.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { capacityMeasurement, capacityRatio } from '../../load/capacity-ratio.ts';
import { runK6 } from '../../load/k6-runner.ts';
import { checkFailureRate, loadSection, measuredScenario } from '../../load/measured-scenario.ts';

// Mirrors the k6 script's profiles (its setup links, measured seconds, share of the book's rate).
const profiles = {
  smoke: { setupLinks: 200, measureS: 8, scale: 0.02, probeS: 3, rounds: 1 },
  full: { setupLinks: 5000, measureS: 60, scale: 1, probeS: 10, rounds: 3 },
};

export const loadUrlShortener: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  const bytesBefore = await storedBytes(ctx.target);

  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${ctx.target.baseUrl} (about ${p.measureS + (ctx.profile === 'full' ? 15 : 2)} s)`,
  );
  const run = await runK6({
    script: join(loadDir, '09-url-shortener.js'),
    env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
    outDir: ctx.outDir,
    k6: ctx.k6,
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (p.measureS + 120) * 1000,
  });
  const shorten = measuredScenario(run.summary, 'shorten', p.measureS);
  const redirect = measuredScenario(run.summary, 'redirect', p.measureS);
  const rate = (target: ResolvedTarget) => Math.ceil((target.value ?? 0) * p.scale);
  const checks = checkFailureRate(run.summary);
  const errorRate = round3(Math.max(shorten.stats.errorRate, redirect.stats.errorRate, checks.rate));

  // URL-T6: the redirect's ceiling against the no-op server's.
  const code = await anyCode(ctx.target.baseUrl);
  const probe = { label: 'redirect', rounds: p.rounds };
  const capacity = await capacityRatio({
    ...probe,
    url: `${ctx.target.baseUrl}/api/v1/${code}`,
    probeS: p.probeS,
    outDir: ctx.outDir,
    k6: ctx.k6,
    onProgress: ctx.onProgress,
  });

  // URL-T7: links made during the run are the script's setup links plus every shorten request that succeeded.
  const created = p.setupLinks + Math.round(shorten.count * (1 - shorten.stats.errorRate));
  const bytesAfter = await storedBytes(ctx.target);
  const bytes: Measurement =
    bytesBefore === null || bytesAfter === null
      ? { value: null, reason: 'needs the data directory of a manifest-started target using its embedded store' }
      : {
          value: Math.round((bytesAfter - bytesBefore) / created),
          yardstick: { name: "the book's 100 bytes per record", value: t['URL-T7']!.value ?? 100, unit: 'bytes' },
          reason: `${created} links grew the data directory by ${bytesAfter - bytesBefore} bytes`,
        };

  const carried = (s: typeof shorten, name: string) => [
    { ok: s.dropped === 0, why: `${s.dropped} ${name} iterations could not start in time (rate not carried)` },
    { ok: s.stats.errorRate === 0, why: `${name} error rate ${s.stats.errorRate}` },
  ];
  return {
    load: loadSection(ctx.profile, ctx.k6Version, run, [
      { name: 'shorten', targetRps: rate(t['URL-T1']!), ...shorten.stats },
      { name: 'redirect', targetRps: rate(t['URL-T2']!), ...redirect.stats },
    ]),
    targets: [
      gradeTarget(t['URL-T1']!, { value: shorten.stats.rps, conditions: carried(shorten, 'shorten') }, ctx.profile),
      gradeTarget(t['URL-T2']!, { value: redirect.stats.rps, conditions: carried(redirect, 'redirect') }, ctx.profile),
      gradeTarget(t['URL-T3']!, { value: errorRate, reason: `${checks.failed} body checks failed` }, ctx.profile),
      gradeTarget(t['URL-T4']!, { value: redirect.stats.latencyMs.p99 }, ctx.profile),
      gradeTarget(t['URL-T5']!, { value: shorten.stats.latencyMs.p99 }, ctx.profile),
      gradeTarget(t['URL-T6']!, capacityMeasurement(capacity, probe), ctx.profile),
      gradeTarget(t['URL-T7']!, bytes, ctx.profile),
    ],
  };
};

async function anyCode(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/data/shorten`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ longUrl: `https://example.com/capacity-probe/${Date.now()}` }),
  });
  const body = (await res.json()) as { code: string };
  return body.code;
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
