// WC-F1: kill -9 mid-crawl, start again: the job resumes to done, and no page it had listed as fetched before the
// kill is requested again (read from the web's log), and together the two runs fetch the whole reachable web.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { CRAWL, getJob, listAllPages, startJob, waitDone } from './crawl.ts';
import { expectedFetches, generateWeb, isTrap, WebUnderTest } from './web.ts';

/** A slower crawl than the shared one, so that the kill lands in the middle of it. */
const DELAY_MS = 80;
/** Kill once this many pages are listed. */
const KILL_AFTER_PAGES = 12;

export async function killAndResume(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const web = await WebUnderTest.start(generateWeb(ctx.seed + 1));
  try {
    const { seed, job } = await startJob(ctx, web, { politenessDelayMs: DELAY_MS });
    let before = await listAllPages(ctx, job.id);
    while (before.length < KILL_AFTER_PAGES) {
      const j = await getJob(ctx, job.id);
      ctx.expect(j.state === 'running', `the crawl ended (${before.length} pages) before it could be killed`);
      await ctx.sleep(50);
      before = await listAllPages(ctx, job.id);
    }
    await ctx.target.kill();
    const killedAt = performance.now();
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
    // The job's progress spans the restart: it counts every page it lists, those fetched before the kill included.
    const listed = await listAllPages(ctx, job.id);
    ctx.expect(
      done.progress['fetched'] === listed.length,
      `after resuming, progress.fetched is ${done.progress['fetched']} but the job lists ${listed.length} pages`,
    );
  } finally {
    await web.close();
  }
}
