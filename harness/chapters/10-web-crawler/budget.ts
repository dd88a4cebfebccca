// WC-I9: the page budget. A job on the generated web, whose reachable allowed pages far outnumber its maxPages, makes
// exactly maxPages fetches (robots.txt not counted), read from the web's request log, and then ends done; its
// progress and its page list say the same. The shared crawl (WC-I7) is the other side: a web smaller than the
// budget is crawled whole.
import type { CheckContext } from '../../core/check-context.ts';
import { CRAWL, listAllPages, startJob, waitDone } from './crawl.ts';
import { expectedFetches, generateWeb, WebUnderTest } from './web.ts';

/** Fewer than the generated web's reachable pages (about 90), more than its seed host's first level. */
export const BUDGET = 17;

export async function pageBudget(ctx: CheckContext): Promise<void> {
  const web = await WebUnderTest.start(generateWeb(ctx.seed + 3));
  try {
    const { seed, job } = await startJob(ctx, web, { maxPages: BUDGET });
    const reachable = expectedFetches(web.model, seed, CRAWL.maxDepth).size;
    ctx.expect(reachable > BUDGET, `the web has ${reachable} reachable pages, not more than the budget ${BUDGET}`);
    const done = await waitDone(ctx, job.id);
    // A fetch in flight when the job turned done would still reach the web: give it the fetch timeout to show.
    await ctx.sleep(CRAWL.fetchTimeoutMs);
    const fetches = web.hits.filter((h) => h.path !== '/robots.txt');
    const pages = await listAllPages(ctx, job.id);
    ctx.evidence['maxPages'] = BUDGET;
    ctx.evidence['reachable'] = reachable;
    ctx.evidence['fetches'] = fetches.length;
    ctx.evidence['listed'] = pages.length;
    ctx.expect(
      fetches.length <= BUDGET,
      `the web received ${fetches.length} page requests from a job with maxPages ${BUDGET}: more than its budget`,
    );
    ctx.expect(
      fetches.length >= BUDGET,
      `the web received ${fetches.length} page requests from a job with maxPages ${BUDGET}, though ${reachable} pages were reachable: the job stopped short of its budget`,
    );
    ctx.expect(done.state === 'done', `the job ended ${done.state}, not done`);
    ctx.expect(pages.length === BUDGET, `the job lists ${pages.length} pages, not its ${BUDGET} fetches`);
    ctx.expect(
      done.progress['fetched'] === BUDGET,
      `progress.fetched is ${done.progress['fetched']}, not the budget ${BUDGET}`,
    );
  } finally {
    await web.close();
  }
}
