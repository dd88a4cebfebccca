// The chapter's load test (load/10-web-crawler.js): the load is the crawl itself. Two crawls of the load web, one
// after the other, each started and polled by k6 and stopped at its end, pages per second read from the web's own
// request log:
// - rate: many hosts with a politeness bound twice the book's peak, so the crawler and this machine, not politeness,
//   set the pace: WC-T6 (the book's 400 pages/s) and WC-T7 (800 at peak), each with the no-op yardstick offered the
//   same rate in the same run (met, missed, or beyond this machine);
// - politeness: few hosts and a long delay, a bound far below what the crawler can do, so the ratio of pages per
//   second to the bound shows how much of its polite capacity the frontier uses: WC-T8.
// WC-T9: the API answers right under the crawl (k6's body checks on progress and pages).
import { join } from 'node:path';
import { gradeTarget } from '../../core/grade-target.ts';
import type { LoadRun, LoadRunContext } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { type ChapterK6Run, loadK6 } from '../../load/chapter-k6.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { LoadScenario } from '../../results/types.ts';
import { type CrawlRate, crawlRate } from './crawl-rate.ts';
import { loadWeb } from './load-web.ts';
import { WebUnderTest } from './web.ts';

// Mirrors the k6 script's profiles (warm-up and measured seconds).
const windows = { smoke: { warmupS: 2, measureS: 8 }, full: { warmupS: 10, measureS: 60 } };
/**
 * Hosts and delay of each crawl. Rate: a bound of twice the book's peak (1,600 pages/s in full, a tenth in smoke).
 * Politeness: 100 pages/s in full (20 hosts, 200 ms), 40 in smoke: well within the crawler's pace.
 */
const PHASES = {
  smoke: { rate: { hosts: 32, delayMs: 200 }, politeness: { hosts: 8, delayMs: 200 } },
  full: { rate: { hosts: 320, delayMs: 200 }, politeness: { hosts: 20, delayMs: 200 } },
};
/** The share of the book's rates the smoke profile offers the yardstick (its rate phase's bound is a tenth). */
const SMOKE_SCALE = 0.1;

interface Phase {
  run: ChapterK6Run;
  rate: CrawlRate;
  hosts: number;
  delayMs: number;
}

async function crawlPhase(ctx: LoadRunContext, name: 'rate' | 'politeness'): Promise<Phase> {
  const { hosts, delayMs } = PHASES[ctx.profile][name];
  const w = windows[ctx.profile];
  const web = await WebUnderTest.start(loadWeb(hosts), { keepBodies: false });
  try {
    ctx.onProgress(
      `k6 ${ctx.profile} profile, ${name} crawl of ${hosts} hosts at ${delayMs} ms delay (about ${w.warmupS + w.measureS} s)`,
    );
    const run = await loadK6(ctx, {
      script: join(loadDir, '10-web-crawler.js'),
      env: {
        TARGET_URL: ctx.target.baseUrl,
        PROFILE: ctx.profile,
        WEB_PORT: String(web.port),
        HOSTS: String(hosts),
        DELAY_MS: String(delayMs),
      },
      outDir: join(ctx.outDir, name),
      onProgress: throttleProgress(ctx.onProgress),
      timeoutMs: (w.warmupS + w.measureS + 120) * 1000,
    });
    const rate = crawlRate(web.hits, { ...w, hosts, delayMs });
    ctx.onProgress(
      `${name} crawl: ${rate.pagesPerS} pages/s over ${w.measureS} s from ${rate.hostsCrawled} hosts; bound ${rate.politenessBound}, ratio ${rate.politenessRatio}`,
    );
    return { run, rate, hosts, delayMs };
  } finally {
    await web.close();
  }
}

export const loadWebCrawler: LoadRun = async (ctx) => {
  if (ctx.replayDir) throw new Error("chapter 10's load is a crawl of a web the harness serves; it cannot be replayed");
  if ((ctx.segments ?? 1) > 1) throw new Error("chapter 10's load is one crawl job started by one k6 process");
  const t = loadTargets(ctx.catalog.chapter);
  const w = windows[ctx.profile];
  const scale = ctx.profile === 'full' ? 1 : SMOKE_SCALE;
  const fast = await crawlPhase(ctx, 'rate');
  const polite = await crawlPhase(ctx, 'politeness');

  const poll = [fast, polite].map((ph) => measuredScenario(ph.run.summary, 'poll', w.measureS));
  const checks = [fast, polite].map((ph) => checkFailureRate(ph.run.summary));
  const failedChecks = checks.reduce((n, c) => n + c.failed, 0);
  const totalChecks = checks.reduce((n, c) => n + c.total, 0);
  const errorRate = shareOf(Math.max(...poll.map((s) => s.stats.errorRate), failedChecks / Math.max(1, totalChecks)));
  const crawlScenario = (name: string, ph: Phase, targetRps?: number): LoadScenario => ({
    name,
    ...(targetRps !== undefined ? { targetRps } : {}),
    rps: ph.rate.pagesPerS,
    errorRate: 0,
    latencyMs: ph.rate.latencyMs,
  });
  const avg = Math.ceil((t['WC-T6']!.value ?? 0) * scale);
  const peak = Math.ceil((t['WC-T7']!.value ?? 0) * scale);
  // The no-op yardstick offered each rate in this run: can this machine carry that many HTTP requests a second?
  const atAvg = await atOfferedRate(ctx, fast.run, [crawlScenario('crawl', fast, avg)]);
  const atPeak = await atOfferedRate(ctx, fast.run, [crawlScenario('crawl', fast, peak)]);
  const scenarios: LoadScenario[] = [
    crawlScenario('crawl', fast, avg),
    crawlScenario('crawl-polite', polite),
    { name: 'poll', ...poll[0]!.stats },
  ];
  const ran = (ph: Phase, name: string) => ({
    ok: ph.rate.ranThrough,
    why: `the ${name} crawl did not keep going to the end of its measured window (it ran dry or stalled)`,
  });
  const apiOk = { ok: errorRate === 0, why: `the API under the crawl: error rate ${errorRate}` };
  const where = (ph: Phase) =>
    `${ph.rate.pages} pages from ${ph.rate.hostsCrawled} of ${ph.hosts} hosts in ${w.measureS} s at a ${ph.delayMs} ms delay (politeness bound ${ph.rate.politenessBound} pages/s)`;
  const nodes = (rate: number) =>
    fast.rate.pagesPerS > 0 ? `; ${Math.ceil(rate / fast.rate.pagesPerS)} crawler(s) like this one for ${rate}` : '';
  return {
    load: loadSection(ctx.profile, ctx.k6Version, fast.run, scenarios),
    targets: [
      gradeTarget(
        t['WC-T6']!,
        {
          value: fast.rate.pagesPerS,
          reason: `${where(fast)}${nodes(t['WC-T6']!.value ?? 0)}`,
          conditions: [ran(fast, 'rate'), apiOk],
          ...(errorRate === 0 ? { atRate: atAvg } : {}),
        },
        ctx.profile,
      ),
      gradeTarget(
        t['WC-T7']!,
        {
          value: fast.rate.pagesPerS,
          reason: `${where(fast)}${nodes(t['WC-T7']!.value ?? 0)}`,
          conditions: [ran(fast, 'rate'), apiOk],
          ...(errorRate === 0 ? { atRate: atPeak } : {}),
        },
        ctx.profile,
      ),
      gradeTarget(
        t['WC-T8']!,
        {
          value: polite.rate.politenessRatio,
          reason: where(polite),
          yardstick: { name: 'the politeness bound (sum over hosts of 1/delay)', value: 1, unit: 'ratio' },
          conditions: [ran(polite, 'politeness'), apiOk],
        },
        ctx.profile,
      ),
      gradeTarget(t['WC-T9']!, { value: errorRate, reason: `${failedChecks} body checks failed` }, ctx.profile),
    ],
  };
};
