// WC-F5, first part: a startCrawl whose COMMIT lands but whose answer is lost (the database away a moment, the crawler
// left running). The job is then stored, and the spec says a stored job runs: startCrawl answers 201 (and getCrawl
// has the job) or 503 `unavailable`, and either way the job's web gets its requests once the database is back, with
// no restart. A stored job that waits for the next start to run (one read back after its commit outside any retry,
// or a failed create never looked at again) is the failure. The job crawls a web of its own, so every request that
// web gets is that job's.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { CRAWL, getJob } from './crawl.ts';
import { DOMAIN, generateWeb, USER_AGENT, WebUnderTest } from './web.ts';

/** How long the database stays away after the cut: the crawler meets it away at least once. */
const DOWN_MS = 300;
/**
 * Hang bounds: for the create's COMMIT to be cut, and for the stored job's first request once the database is back
 * (the reference's came 171 ms after it, at a load average of 27).
 */
const CUT_BOUND_MS = 30_000;
const RUNS_WITHIN_MS = 5_000;

/** Run while no job writes (the cut lands on the next COMMIT the crawler sends: the create's). */
export async function createAnswerLost(ctx: CheckContext, proxy: PgWireProxy): Promise<void> {
  const web = await WebUnderTest.start(generateWeb(ctx.seed + 17));
  try {
    proxy.disarm(); // a cut armed before and never made would land here first
    const cutsBefore = proxy.cuts;
    proxy.cutInTransaction(1, undefined, { at: 'commit-answer', down: true });
    let answered = false;
    const answer = ctx.http
      .send({
        method: 'POST',
        path: '/api/v1/crawls',
        json: {
          seeds: [`http://h0.${DOMAIN}/`],
          allowedDomains: [DOMAIN],
          userAgent: USER_AGENT,
          resolve: web.resolveMap(),
          ...CRAWL,
          maxPages: 3,
        },
      })
      .finally(() => {
        answered = true;
      });
    const until = performance.now() + timeLimit(CUT_BOUND_MS);
    while (proxy.cuts === cutsBefore && !answered && performance.now() < until) await ctx.sleep(2);
    const cut = proxy.cuts > cutsBefore;
    if (cut) {
      await ctx.sleep(DOWN_MS);
      ctx.changed("lost a startCrawl's COMMIT answer with the database away for 300 ms, the crawler left running");
    }
    proxy.disarm();
    proxy.up();
    const x = await answer;
    ctx.evidence['createCommitAnswerLost'] = cut;
    ctx.evidence['createAnsweredAfterLostCommit'] = x.status ?? x.error;
    // A create that is no transaction block (one statement) gives the cut nothing to land on: nothing to grade here.
    if (!cut) return;
    const code = (x.body as { code?: unknown } | undefined)?.code;
    ctx.expect(
      x.status === 201 || (x.status === 503 && code === 'unavailable'),
      `a startCrawl whose COMMIT's answer was lost answered ${x.status ?? x.error}, not 201 or 503 unavailable`,
      x,
    );
    if (x.status === 201) await getJob(ctx, (x.body as { id: string }).id);
    const back = performance.now();
    const runsBy = back + timeLimit(RUNS_WITHIN_MS);
    while (web.hits.length === 0 && performance.now() < runsBy) await ctx.sleep(20);
    ctx.evidence['createdJobFirstRequestMs'] = web.hits.length ? Math.round(performance.now() - back) : null;
    ctx.expect(
      web.hits.length > 0,
      `startCrawl's COMMIT landed with its answer lost (startCrawl answered ${x.status}), so the job is stored, yet its web got no request within ${timeLimit(RUNS_WITHIN_MS)} ms of the database coming back: a stored job waits for a restart to run`,
    );
  } finally {
    await web.close();
  }
}
