// WC-I9: the page budget. A job on the generated web, whose reachable allowed pages far outnumber its maxPages, makes
// exactly maxPages fetches (robots.txt not counted), read from the web's request log, and then ends done; its
// progress and its page list say the same, and its progress.frontier is 0 (a done job has nothing waiting). The
// shared crawl (WC-I7) is the other side: a web smaller than the budget is crawled whole.
// The seed page also links to thousands of URLs its host's robots.txt forbids: found, so in the URL-seen set, but
// never fetched, so not in the budget. A seen-set that only holds about maxPages URLs (a Bloom filter sized by the
// budget whose positives are trusted) then takes the pages found later for seen, and the job stops short.
import type { CheckContext } from '../../core/check-context.ts';
import { CRAWL, getJob, listAllPages, startJob, waitDone } from './crawl.ts';
import { expectedFetches } from './expected.ts';
import { generateWeb, type WebModel, WebUnderTest } from './web.ts';

/**
 * Fewer than the generated web's reachable pages (69), more than the seed and the pages it links to (16, or 19 when
 * the seed's host serves the pages that are not text): the job must go on to pages found on those (a seen-set that
 * took them for seen stops at 17, or 20).
 */
export const BUDGET = 25;
/** Links to forbidden URLs on the seed page: far more than the budget (a filter sized for 25 URLs is saturated). */
export const FORBIDDEN_LINKS = 3000;

/** The model with `count` links to `/private/` (every normal host forbids it to every agent) on h0's root. */
export function withForbiddenLinks(model: WebModel, count = FORBIDDEN_LINKS): WebModel {
  const seedHost = 'h0.web.test';
  const extra = Array.from({ length: count }, (_, i) => `<li><a href="/private/f${i}.html">f${i}</a></li>`);
  return {
    hosts: model.hosts,
    robotsTxt: (host) => model.robotsTxt(host),
    disallowed: (host, path) => model.disallowed(host, path),
    respond(host, path) {
      const r = model.respond(host, path);
      if (host !== seedHost || path !== '/' || r.kind !== 'html' || typeof r.body !== 'string') return r;
      // Before the page's own links, so that they are found in the same page as the forbidden ones.
      return { kind: 'html', body: r.body.replace('<ul>', `<ul>${extra.join('')}`) };
    },
  };
}

export async function pageBudget(ctx: CheckContext): Promise<void> {
  const model = withForbiddenLinks(generateWeb(ctx.seed + 3));
  ctx.expect(model.disallowed('h0.web.test', '/private/f0.html'), "h0's robots.txt does not forbid /private/");
  const web = await WebUnderTest.start(model);
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
    ctx.evidence['forbiddenLinksOnSeed'] = FORBIDDEN_LINKS;
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
    // Done is final, so no URL waits to be fetched: the ones the spent budget left queued are not counted, from the
    // answer that first says done on (a frontier cleared later, or only by a restart, shows here).
    const later = await getJob(ctx, job.id);
    ctx.evidence['frontierWhenDone'] = [done.progress['frontier'], later.progress['frontier']];
    for (const [when, j] of [
      ['when it turned done', done],
      ['a fetch timeout later', later],
    ] as const)
      ctx.expect(
        j.progress['frontier'] === 0,
        `the job is done, yet progress.frontier is ${j.progress['frontier']} ${when}: a done job has no URL waiting to be fetched`,
      );
  } finally {
    await web.close();
  }
}
