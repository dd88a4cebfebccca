import { join } from 'node:path';
import { dirBytes } from '../../core/dir-bytes.ts';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets, type ResolvedTarget } from '../../core/resolve-targets.ts';
import type { Target } from '../../core/target.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { capacityMeasurement, capacityRatio } from '../../load/capacity-ratio.ts';
import { capacityPerNode } from '../../load/capacity-search.ts';
import { loadK6 } from '../../load/chapter-k6.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';

// Mirrors the k6 script's profiles (its setup links, measured seconds, share of the book's rate).
const profiles = {
  smoke: { setupLinks: 200, measureS: 8, scale: 0.02, probeS: 3, rounds: 1 },
  full: { setupLinks: 5000, measureS: 60, scale: 1, probeS: 10, rounds: 3 },
};

export const loadUrlShortener: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  // grade-load: the load ran elsewhere; what needs the implementation here is reported as not measured.
  const here = !ctx.replayDir;
  const bytesBefore = here ? await storedBytes(ctx.target) : null;

  ctx.onProgress(
    `k6 ${ctx.profile} profile against ${ctx.target.baseUrl} (about ${p.measureS + (ctx.profile === 'full' ? 15 : 2)} s)`,
  );
  const run = await loadK6(ctx, {
    script: join(loadDir, '09-url-shortener.js'),
    env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
    onProgress: throttleProgress(ctx.onProgress),
    timeoutMs: (p.measureS + 120) * 1000,
  });
  const shorten = measuredScenario(run.summary, 'shorten', p.measureS);
  const redirect = measuredScenario(run.summary, 'redirect', p.measureS);
  const rate = (target: ResolvedTarget) => Math.ceil((target.value ?? 0) * p.scale);
  const checks = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(shorten.stats.errorRate, redirect.stats.errorRate, checks.rate));

  const scenarios = [
    { name: 'shorten', targetRps: rate(t['URL-T1']!), ...shorten.stats },
    { name: 'redirect', targetRps: rate(t['URL-T2']!), ...redirect.stats },
  ];
  // The no-op yardstick at the same offered rate, and k6's own CPU use: met, missed, or beyond this machine.
  const atRate = await atOfferedRate(ctx, run, scenarios);

  // URL-T6: the redirect's ceiling against the no-op server's.
  const code = here ? await anyCode(ctx.target.baseUrl) : '';
  const probe = { label: 'redirect', rounds: p.rounds };
  const ratio: Measurement = here
    ? capacityMeasurement(
        await capacityRatio({
          ...probe,
          url: `${ctx.target.baseUrl}/api/v1/${code}`,
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

  // URL-T7: links made during the run are the script's setup links (each runner makes its own) plus every shorten
  // request that succeeded.
  const created = p.setupLinks * run.segments + Math.round(shorten.count * (1 - shorten.stats.errorRate));
  const bytesAfter = here ? await storedBytes(ctx.target) : null;

  // Capacity per node for the book's two rates, after URL-T7 (its shorten steps add links).
  const capacity = await capacityPerNode(ctx, [
    {
      target: t['URL-T2']!,
      latency: t['URL-T4']!,
      label: 'redirect',
      url: `${ctx.target.baseUrl}/api/v1/${code}`,
      store: STORE,
    },
    {
      target: t['URL-T1']!,
      latency: t['URL-T5']!,
      label: 'shorten',
      url: `${ctx.target.baseUrl}/api/v1/data/shorten`,
      method: 'POST',
      body: JSON.stringify({ longUrl: 'https://example.com/capacity/{n}' }),
      store: STORE,
    },
  ]);
  const bytes: Measurement =
    bytesBefore === null || bytesAfter === null
      ? {
          value: null,
          reason: here
            ? 'needs the data directory of a manifest-started target using its embedded store'
            : 'not measured: graded from runner outputs (grade-load)',
        }
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
    load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity },
    targets: [
      gradeTarget(
        t['URL-T1']!,
        {
          value: shorten.stats.rps,
          conditions: carried(shorten, 'shorten'),
          // Only a rate not carried can be the machine's; a failed request is always a miss.
          ...(shorten.stats.errorRate === 0 ? { atRate } : {}),
        },
        ctx.profile,
      ),
      gradeTarget(
        t['URL-T2']!,
        {
          value: redirect.stats.rps,
          conditions: carried(redirect, 'redirect'),
          // Only a rate not carried can be the machine's; a failed request is always a miss.
          ...(redirect.stats.errorRate === 0 ? { atRate } : {}),
        },
        ctx.profile,
      ),
      gradeTarget(t['URL-T3']!, { value: errorRate, reason: `${checks.failed} body checks failed` }, ctx.profile),
      gradeTarget(t['URL-T4']!, { value: redirect.stats.latencyMs.p99, atRate }, ctx.profile),
      gradeTarget(t['URL-T5']!, { value: shorten.stats.latencyMs.p99, atRate }, ctx.profile),
      gradeTarget(t['URL-T6']!, ratio, ctx.profile),
      gradeTarget(t['URL-T7']!, bytes, ctx.profile),
    ],
  };
};

const STORE = {
  name: 'the link store',
  measured: false,
  note: "not measured separately: each node keeps its own SQLite file by default, so this tier is not stateless as is; with --real-deps the nodes share PostgreSQL, whose own capacity bounds the node count (the book's design puts a cache in front of it).",
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
