// WC-F5: a record's commit lands but the crawler never hears so. The target's PostgreSQL is reached through the
// PostgreSQL-protocol proxy (harness/faults/pg-wire-proxy.ts); mid-crawl the proxy drops the answer to the next
// transaction's COMMIT and takes the database away, and the crawler is killed (kill -9) while it is away, then the
// database comes back and the crawler starts again. Three rounds, a third of the crawl apart, then a fourth with the
// crawler left running (the database back 300 ms after the cut: the crawler's own retry of the record). The spec: a fetch, its
// new links and its content are one transaction. So whatever the commit held is whole after the restart: every page
// the job lists has its content served (a content written after its page's transaction is never written: the page
// is recorded, so it is never fetched again), and the job ends done listing exactly the reachable pages once each.
// Before the rounds, a create's COMMIT answer lost (create-answer-lost.ts): the stored job runs without a restart.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import { expectContentsServed } from './contents.ts';
import { CRAWL, getJob, listAllPages, startJob, waitDone } from './crawl.ts';
import { createAnswerLost } from './create-answer-lost.ts';
import { expectStoredIsTheModel } from './db-restart.ts';
import { expectedFetches } from './expected.ts';
import { generateWeb, WebUnderTest } from './web.ts';

/** A slower crawl than the shared one, so that the rounds land in the middle of it. */
const DELAY_MS = 80;
/** Each round starts once the web has served this share of the reachable pages. */
const ROUNDS_AT = [0.2, 0.45, 0.7];
/**
 * Then, the crawler not killed: a COMMIT's answer lost and the database back a moment later, so the crawler itself
 * tries the record again (a kill would have it read its state back from the database, which hides a retry that
 * counts the page again or as another outcome, or that forgets the links the first try queued).
 */
const LIVE_ROUND_AT = 0.85;
/** How long the database stays away in that round: the crawler's retries meet it away at least once. */
const LIVE_DOWN_MS = 300;
/** Hang bound for a round's moment (the web serving its share) and for the armed cut to land. */
const ROUND_BOUND_MS = 30_000;

export async function commitAnswerLost(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  await withPgWireProxy(ctx, "a PostgreSQL-protocol proxy that loses a COMMIT's answer", async (proxy) => {
    // First, while no job runs in this database, so the next COMMIT is a create's (and a crawler that leaves the job
    // idle fails in seconds, not after the rounds).
    await createAnswerLost(ctx, proxy);
    await lostCommits(ctx, proxy);
  });
}

async function lostCommits(ctx: CheckContext, proxy: PgWireProxy): Promise<void> {
  const web = await WebUnderTest.start(generateWeb(ctx.seed + 13));
  try {
    const { seed, job } = await startJob(ctx, web, { politenessDelayMs: DELAY_MS });
    const reachable = expectedFetches(web.model, seed, CRAWL.maxDepth).size;
    const served = () => web.hits.filter((h) => h.path !== '/robots.txt').length;
    let rounds = 0;
    for (const share of ROUNDS_AT) {
      const until = performance.now() + timeLimit(ROUND_BOUND_MS);
      while (served() < reachable * share) {
        ctx.expect(performance.now() < until, `the web served only ${served()} of ${reachable} pages in 30 s`);
        await ctx.sleep(5);
      }
      if ((await getJob(ctx, job.id)).state === 'done') break;
      const cutsBefore = proxy.cuts;
      // The next COMMIT the crawler sends lands; its answer is dropped and the database stays away until up().
      proxy.cutInTransaction(1, undefined, { at: 'commit-answer', down: true });
      while (proxy.cuts === cutsBefore) {
        ctx.expect(
          performance.now() < until,
          `no transaction committed within 30 s of round ${rounds + 1} (the web served ${served()} pages)`,
        );
        await ctx.sleep(2);
      }
      await ctx.target.kill();
      rounds++;
      ctx.changed(`killed (kill -9) the crawler with a COMMIT's answer lost and its database away (round ${rounds})`);
      proxy.up();
      await ctx.target.start();
      const listed = await listAllPages(ctx, job.id);
      await expectContentsServed(ctx, job.id, listed, web.hits, `after round ${rounds} (a COMMIT's answer lost)`);
    }
    // The live round: the answer lost, the database away a moment, the crawler left running.
    let live = false;
    const until = performance.now() + timeLimit(ROUND_BOUND_MS);
    while (served() < reachable * LIVE_ROUND_AT && performance.now() < until) await ctx.sleep(5);
    if ((await getJob(ctx, job.id)).state !== 'done') {
      const cutsBefore = proxy.cuts;
      proxy.cutInTransaction(1, undefined, { at: 'commit-answer', down: true });
      while (proxy.cuts === cutsBefore && performance.now() < until) await ctx.sleep(2);
      live = proxy.cuts > cutsBefore;
      if (live) {
        await ctx.sleep(LIVE_DOWN_MS);
        ctx.changed("lost a COMMIT's answer with the database away for 300 ms, the crawler left running");
      }
      proxy.up();
    }
    ctx.evidence['liveRound'] = live;
    ctx.evidence['rounds'] = rounds;
    // A crawl done before the first round never met the fault: a failure, not a pass.
    ctx.expect(rounds > 0, 'the crawl ended before the first COMMIT could be cut: the fault did not bite');
    const done = await waitDone(ctx, job.id);
    const listed = await listAllPages(ctx, job.id);
    expectStoredIsTheModel(ctx, web, seed, listed, `with ${rounds} COMMIT answers lost and kills,`);
    ctx.evidence['contentsServed'] = await expectContentsServed(ctx, job.id, listed, web.hits, 'at the end');
    // The job's progress counts the pages it lists, by outcome (a record tried again counted once, as it was decided).
    const listedAs = (o: string) => listed.filter((p) => p.outcome === o).length;
    const counted = {
      fetched: listed.length,
      stored: listedAs('stored'),
      duplicates: listedAs('duplicate'),
      skipped: listedAs('skipped'),
      failed: listedAs('failed'),
    };
    for (const [k, n] of Object.entries(counted))
      ctx.expect(done.progress[k] === n, `progress.${k} is ${done.progress[k]} but the job lists ${n} such pages`);
  } finally {
    await web.close();
  }
}
