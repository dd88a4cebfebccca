// WC-F1: kill -9 mid-crawl, start again: the job resumes to done, and no page it had listed as fetched before the
// kill is requested again (read from the web's log), and together the two runs fetch the whole reachable web. The
// kill lands while a fetch is in flight (the web's hanging page, which holds its fetch for the fetch timeout): a fetch
// in flight at a kill was never recorded, so the job must still list that URL at the end (its frontier entry may go
// only with its record). The hanging host's root is stored before the kill and a copy of its bytes is met only after
// it, so content seen must span the restart: each content stored once over both runs, the others its duplicates, and
// each served by getContent as the bytes the web sent.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { expectContentsServed } from './contents.ts';
import { CRAWL, getJob, listAllPages, type Page, startJob, waitDone } from './crawl.ts';
import { expectStoredIsTheModel } from './db-restart.ts';
import { expectedFetches, isTrap } from './expected.ts';
import { generateWeb, HANG_HOST, WebUnderTest } from './web.ts';

/** A slower crawl than the shared one, so that the kill lands in the middle of it. */
const DELAY_MS = 80;
/** Kill once this many pages are listed, if the hanging page is over before the kill could land on it. */
const KILL_AFTER_PAGES = 12;
/** The web's page that never answers (the fetch timeout ends it). */
const HANG_PATH = '/slow.html';

export async function killAndResume(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const web = await WebUnderTest.start(generateWeb(ctx.seed + 1));
  try {
    const { seed, job } = await startJob(ctx, web, { politenessDelayMs: DELAY_MS });
    // The moment: the hanging page in flight (a fetch the crawler has started and not recorded), read from the web's
    // own log right after the listing that is kept; or, should it be over first, KILL_AFTER_PAGES listed.
    const hanging = () => web.hits.find((h) => h.host === HANG_HOST && h.path === HANG_PATH);
    let before: Page[] = [];
    const until = performance.now() + timeLimit(20_000);
    for (;;) {
      before = await listAllPages(ctx, job.id);
      const h = hanging();
      if (h !== undefined && h.end === null) break;
      if (h !== undefined && before.length >= KILL_AFTER_PAGES) break;
      const j = await getJob(ctx, job.id);
      ctx.expect(j.state === 'running', `the crawl ended (${before.length} pages) before it could be killed`);
      ctx.expect(performance.now() < until, `the crawl never reached the moment to kill (${before.length} pages)`);
      await ctx.sleep(20);
    }
    const killStarted = performance.now();
    await ctx.target.kill();
    const killedAt = performance.now();
    const hang = hanging();
    const inFlight = hang !== undefined && (hang.end === null || hang.end >= killStarted);
    ctx.evidence['hangingInFlightAtKill'] = inFlight;
    ctx.changed('killed (kill -9) the crawler mid-crawl');
    const down = await ctx.http.send({ method: 'GET', path: `/api/v1/crawls/${job.id}` });
    ctx.expect(down.status === null, 'the crawler still answered after kill -9: the fault did not bite');
    await ctx.target.start();
    const done = await waitDone(ctx, job.id);
    const storedBefore = new Set(before.map((p) => new URL(p.url)).map((u) => `${u.hostname}${u.pathname}`));
    const after = web.hits.filter((h) => h.start > killedAt && h.path !== '/robots.txt');
    const refetched = after.filter((h) => storedBefore.has(`${h.host}${h.path}`));
    ctx.evidence['listedBeforeKill'] = before.length;
    ctx.evidence['requestsAfterRestart'] = after.length;
    ctx.expect(
      refetched.length === 0,
      `after the restart ${refetched.length} pages listed before the kill were fetched again: ${refetched
        .slice(0, 5)
        .map((h) => `${h.host}${h.path}`)
        .join(', ')}`,
    );
    ctx.expect(after.length > 0, 'nothing was fetched after the restart: the crawl did not resume');
    const expected = expectedFetches(web.model, seed, CRAWL.maxDepth);
    const fetched = new Set(web.hits.filter((h) => !isTrap(h.host, h.path)).map((h) => `${h.host}${h.path}`));
    const missing = [...expected].filter((u) => !fetched.has(u));
    ctx.expect(
      missing.length === 0,
      `after resuming, ${missing.length} reachable pages never fetched: ${missing.slice(0, 5).join(', ')}`,
    );
    ctx.expect(done.state === 'done', 'the resumed job did not end done');
    // What the job lists is the model's crawl: a URL whose fetch was in flight at the kill is listed too (fetched
    // again after the restart), every page once.
    const listed = await listAllPages(ctx, job.id);
    expectStoredIsTheModel(ctx, web, seed, listed, inFlight ? 'killed with a fetch in flight,' : 'killed mid-crawl,');
    expectContentSeenOnce(ctx, listed);
    // The content store across the kill: every content of both runs served as the bytes the web sent (WC-I10's rule).
    ctx.evidence['contentsServed'] = await expectContentsServed(ctx, job.id, listed, web.hits, 'after resuming');
    // The job's progress spans the restart: it counts every page it lists, those fetched before the kill included.
    ctx.expect(
      done.progress['fetched'] === listed.length,
      `after resuming, progress.fetched is ${done.progress['fetched']} but the job lists ${listed.length} pages`,
    );
  } finally {
    await web.close();
  }
}

/** Over the whole job (both runs): each content hash stored once, every other page of it a duplicate of that one. */
function expectContentSeenOnce(ctx: CheckContext, listed: readonly Page[]): void {
  const byHash = new Map<string, Page[]>();
  for (const p of listed)
    if (p.contentHash !== null && (p.outcome === 'stored' || p.outcome === 'duplicate'))
      byHash.set(p.contentHash, [...(byHash.get(p.contentHash) ?? []), p]);
  for (const [hash, ps] of byHash) {
    const stored = ps.filter((p) => p.outcome === 'stored');
    ctx.expect(
      stored.length === 1,
      `across the restart, content ${hash.slice(0, 12)} is stored ${stored.length} times (${ps.map((p) => p.url).join(', ')}), not once: content seen forgot what was stored before the kill`,
    );
    for (const d of ps.filter((p) => p.outcome === 'duplicate'))
      ctx.expect(
        stored.length > 0 && d.duplicateOf === stored[0]!.url,
        `${d.url} is a duplicate of ${d.duplicateOf}, not of ${stored[0]?.url ?? 'a stored page of its own hash (none is)'}`,
      );
  }
}
