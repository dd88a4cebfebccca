// WC-F3: stop and resume across restarts of the crawler (kill -9, then start). The stop is made while a fetch is in
// flight (the web's hanging page), and it answers only once that fetch is recorded. A job stopped by API and a job
// done before the restart (crawled beside it, so two jobs record at once) come back as they were answered: the
// stopped one stays stopped (no request to the web until it is resumed, its progress as the stop answered it), the
// done one keeps its state and pages. Resumed after the restart, the stopped job goes on from its stored frontier;
// killed again mid-crawl, it is running again after the next start (its resume was stored) and ends done having
// fetched every reachable page, none it had listed twice.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { withForbiddenLinks } from './budget.ts';
import { CRAWL, type Crawl, getJob, listAllPages, okBody, type Page, startJob, waitDone } from './crawl.ts';
import { expectedFetches, isTrap } from './expected.ts';
import { DOMAIN, generateWeb, WebUnderTest } from './web.ts';

/** A slower crawl than the shared one, so that the stop and the second kill land mid-crawl. */
const DELAY_MS = 80;
/** Stop once this many pages are listed. */
const STOP_AFTER_PAGES = 10;
/** After the resume, kill again once this many more pages are listed. */
const KILL_AFTER_MORE_PAGES = 5;
/** The generated web's page that never answers (the fetch timeout ends it). */
const HANG_HOST = `hang.${DOMAIN}`;
const HANG_PATH = '/slow.html';
/** How long the restarted crawler is watched for requests of the stopped job (several delays and fetch timeouts). */
const WATCH_MS = 1500;
/** Links on the seed page to URLs its robots.txt forbids. */
const FORBIDDEN_ON_SEED = 20;

function transition(ctx: CheckContext, id: string, to: 'stop' | 'resume') {
  return ctx.http.send({ method: 'POST', path: `/api/v1/crawls/${id}/${to}` });
}

const key = (h: { host: string; path: string }) => `${h.host}${h.path}`;
const pageKey = (p: Page) => {
  const u = new URL(p.url);
  return `${u.hostname}${u.pathname}`;
};

async function restart(ctx: CheckContext, what: string): Promise<number> {
  await ctx.target.kill();
  const killedAt = performance.now();
  ctx.changed(`killed (kill -9) and restarted the crawler ${what}`);
  await ctx.target.start();
  return killedAt;
}

/**
 * Waits for the moment to stop: STOP_AFTER_PAGES listed, and if the web's hanging page is not over yet, the moment it
 * is in flight (so the stop has a fetch to wait for, up to the fetch timeout).
 */
async function stopMoment(ctx: CheckContext, web: WebUnderTest, id: string): Promise<void> {
  await listedAtLeast(ctx, id, STOP_AFTER_PAGES);
  const hanging = () => web.hits.find((h) => h.host === HANG_HOST && h.path === HANG_PATH);
  const until = performance.now() + timeLimit(10_000);
  while (performance.now() < until) {
    // In flight, or over already (then the stop waits for whatever else is in flight).
    if (hanging()) break;
    const j = await getJob(ctx, id);
    if (j.state !== 'running') break;
    await ctx.sleep(10);
  }
  ctx.evidence['hangingInFlightAtStop'] = hanging()?.end === null;
}

async function listedAtLeast(ctx: CheckContext, id: string, n: number): Promise<Page[]> {
  let listed = await listAllPages(ctx, id);
  while (listed.length < n) {
    const j = await getJob(ctx, id);
    ctx.expect(j.state === 'running', `the crawl is ${j.state} with ${listed.length} pages listed, before ${n}`);
    await ctx.sleep(50);
    listed = await listAllPages(ctx, id);
  }
  return listed;
}

/** The same progress, every count and the frontier (whatever order the keys come in). */
const sameProgress = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, n]) => b[k] === n);

export async function stopResumeAcrossRestart(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  // Its seed links first to pages robots.txt forbids: found, never fetched, they leave the frontier before the stop,
  // which a stopped job's progress.frontier must still say after the restart.
  const web = await WebUnderTest.start(withForbiddenLinks(generateWeb(ctx.seed + 5), FORBIDDEN_ON_SEED));
  const small = await WebUnderTest.start(generateWeb(ctx.seed + 6));
  try {
    // The job under test, stopped mid-crawl, and beside it a whole crawl of another web that is done before the
    // first restart (two jobs recording at once: each fetch's record is its own transaction, whoever else writes).
    const { seed, job } = await startJob(ctx, web, { politenessDelayMs: DELAY_MS });
    const d = await startJob(ctx, small);
    await stopMoment(ctx, web, job.id);
    const stopped = okBody<Crawl>(ctx, await transition(ctx, job.id, 'stop'), 200, 'stopping the crawl');
    // The stop answers once its fetches in flight have ended and been recorded: once the web has seen every request
    // end, the progress is still the one the stop answered.
    const settleUntil = performance.now() + CRAWL.fetchTimeoutMs + timeLimit(2000);
    while (web.hits.some((h) => h.end === null) && performance.now() < settleUntil) await ctx.sleep(50);
    await ctx.sleep(200);
    const settled = await getJob(ctx, job.id);
    ctx.expect(
      settled.progress['fetched'] === stopped.progress['fetched'],
      `stopCrawl answered progress.fetched ${stopped.progress['fetched']}, and once its fetches in flight ended it is ${settled.progress['fetched']}: it answered before they were recorded`,
    );
    const atStop = await listAllPages(ctx, job.id);
    ctx.evidence['listedAtStop'] = atStop.length;
    const done = await waitDone(ctx, d.job.id);
    const donePages = await listAllPages(ctx, d.job.id);
    ctx.evidence['doneJobListed'] = donePages.length;
    ctx.expect(
      done.progress['fetched'] === donePages.length,
      `a done job's progress.fetched is ${done.progress['fetched']} but it lists ${donePages.length} pages`,
    );

    // Restart 1: the stopped job is still stopped, sends nothing, and its progress is what the stop answered.
    const killed1 = await restart(ctx, 'with one job stopped and one done');
    const after1 = await getJob(ctx, job.id);
    ctx.expect(after1.state === 'stopped', `a stopped job is ${after1.state} after the crawler restarted`);
    // All of it: the counts and the frontier (the URLs still to fetch, as stored; one robots.txt forbade left it).
    ctx.expect(
      sameProgress(after1.progress, stopped.progress),
      `a stopped job's progress was ${JSON.stringify(stopped.progress)} at the stop and is ${JSON.stringify(after1.progress)} after the restart`,
    );
    await ctx.sleep(WATCH_MS);
    const whileStopped = web.hits.filter((h) => h.start > killed1);
    ctx.evidence['requestsWhileStoppedAfterRestart'] = whileStopped.length;
    ctx.expect(
      whileStopped.length === 0,
      `the web received ${whileStopped.length} requests from a job stopped before the restart, before any resume: ${whileStopped
        .slice(0, 5)
        .map(key)
        .join(', ')}`,
    );
    const doneAfter = await ctx.http.send({ method: 'GET', path: `/api/v1/crawls/${d.job.id}` });
    ctx.expect(doneAfter.status === 200, `a done job reads ${doneAfter.status ?? doneAfter.error} after the restart`);
    if (doneAfter.status === 200) {
      const j = doneAfter.body as Crawl;
      ctx.expect(j.state === 'done', `a done job is ${j.state} after the restart`);
      ctx.expect(
        sameProgress(j.progress, done.progress),
        `a done job's progress was ${JSON.stringify(done.progress)} and is ${JSON.stringify(j.progress)} after the restart`,
      );
      const again = (await listAllPages(ctx, d.job.id)).map((p) => p.url);
      ctx.expect(
        JSON.stringify(again) === JSON.stringify(donePages.map((p) => p.url)),
        `a done job listed ${donePages.length} pages before the restart and ${again.length} (or others) after it`,
      );
    }

    // Resumed after the restart: it goes on from its stored frontier, then is killed again mid-crawl.
    const resumedAt = performance.now();
    okBody<Crawl>(ctx, await transition(ctx, job.id, 'resume'), 200, 'resuming the crawl after the restart');
    const beforeKill2 = await listedAtLeast(ctx, job.id, atStop.length + KILL_AFTER_MORE_PAGES);
    ctx.evidence['requestsAfterResume'] = web.hits.filter((h) => h.start > resumedAt).length;

    // Restart 2: the resume was stored, so the job is running (or done) and carries on.
    await restart(ctx, 'with the resumed job mid-crawl');
    const after2 = await getJob(ctx, job.id);
    ctx.expect(
      after2.state !== 'stopped',
      'a job resumed by API is stopped again after the crawler restarted: its resume was not stored',
    );
    const final = await waitDone(ctx, job.id);
    ctx.expect(final.state === 'done', 'the resumed job did not end done');

    // Over the three runs: no page listed before the second kill fetched twice (a fetch in flight at a kill -9 was
    // never recorded and may be fetched again), every reachable allowed page, progress counting what is listed.
    const recorded = new Set(beforeKill2.map(pageKey));
    const count = new Map<string, number>();
    for (const h of web.hits.filter((h) => h.path !== '/robots.txt')) count.set(key(h), (count.get(key(h)) ?? 0) + 1);
    const twice = [...count].filter(([u, n]) => n > 1 && recorded.has(u));
    ctx.evidence['fetchedTwice'] = twice.length;
    ctx.expect(
      twice.length === 0,
      `stopped, restarted, resumed and restarted, the job fetched ${twice.length} pages it had listed more than once: ${twice
        .slice(0, 5)
        .map(([u, n]) => `${u} x${n}`)
        .join(', ')}`,
    );
    const expected = expectedFetches(web.model, seed, CRAWL.maxDepth);
    const fetched = new Set(web.hits.filter((h) => !isTrap(h.host, h.path)).map(key));
    const missing = [...expected].filter((u) => !fetched.has(u));
    ctx.evidence['missing'] = missing.length;
    ctx.expect(
      missing.length === 0,
      `stopped, restarted and resumed, ${missing.length} reachable pages were never fetched: ${missing.slice(0, 5).join(', ')}`,
    );
    const listed = await listAllPages(ctx, job.id);
    const lost = atStop.filter((p) => !listed.some((q) => pageKey(q) === pageKey(p)));
    ctx.expect(lost.length === 0, `${lost.length} pages listed at the stop are no longer listed at the end`);
    ctx.expect(
      final.progress['fetched'] === listed.length,
      `progress.fetched is ${final.progress['fetched']} but the job lists ${listed.length} pages`,
    );
  } finally {
    await web.close();
    await small.close();
  }
}
