// WC-F2: the crawl's PostgreSQL taken away mid-crawl. The target is pointed at a PostgreSQL cluster the harness owns
// (harness/faults/private-postgres.ts); while a crawl of the generated web is under way the server crashes
// (`pg_ctl stop -m immediate`), stays down, and starts again. Survive means: the crawler keeps answering, every
// answer meanwhile is the documented one (200/201, or 503 `unavailable`), never a 500 or a hang; startCrawl answers
// 201 again within DB_BACK_BOUND_MS of the restart; the job then ends done, and what it lists equals the model of the
// web (every reachable allowed page once, none twice, the traps bounded), every page it listed before the crash still
// listed and not fetched again, each listed page really requested from the web, and its progress counting exactly
// the pages it lists (no fetch reported that was not stored). A content stored before the crash is asked for while
// the database is down (200 or 503 `unavailable`, never "not found"), and every content the job lists is read back
// afterwards as the bytes the web sent (WC-I10's rule).
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PrivatePostgres } from '../../faults/private-postgres.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import { closedPort } from './conformance.ts';
import { expectContentsServed } from './contents.ts';
import { CRAWL, type Crawl, getJob, listAllPages, okBody, type Page, startJob } from './crawl.ts';
import { expectedFetches, isTrap } from './expected.ts';
import { endlessSite } from './stop-resume.ts';
import { expectNoFetchWhileStoreAway, SLACK_CAP_MS, staggeredSite, startStaggeredJob } from './store-away-fetches.ts';
import { generateWeb, TRAPS, WebUnderTest } from './web.ts';

/** A slower crawl than the shared one, so that the crash lands in the middle of it. */
const DELAY_MS = 80;
/** Crash the server once this many pages are listed. */
const CRASH_AFTER_PAGES = 10;
/** How long the server stays down. */
const DOWN_MS = 2000;
/** The API is asked this often while the server is down. */
const PROBE_EVERY_MS = 150;
/** An answer slower than this around the fault is a hang. */
const ANSWER_BOUND_MS = 10_000;
/** After PostgreSQL is back, startCrawl answers 201 again within this (WC-F2's stated bound). */
export const DB_BACK_BOUND_MS = 10_000;
/** The job is done within this after PostgreSQL is back (a hang bound: the whole crawl takes a few seconds). */
const DONE_AFTER_BACK_MS = 30_000;
/**
 * A running job whose progress stands still this long is stuck: no page of the web keeps a live crawl waiting more
 * than the fetch timeout (the hanging page), and its hosts answer in milliseconds.
 */
const STALL_MS = 6000;

const code = (x: Exchange) => (x.body as { code?: string } | undefined)?.code;
const key = (u: string) => {
  const v = new URL(u);
  return `${v.hostname}${v.pathname}`;
};

export async function databaseRestart(ctx: CheckContext): Promise<void> {
  await withPrivatePostgres(ctx, (pg) => crawlSurvivesRestart(ctx, pg));
}

/** A startCrawl whose one host is a closed port: the job touches nothing and ends at once. */
async function probeJob(ctx: CheckContext, port: number): Promise<Exchange> {
  const host = 'probe.f2.test';
  return ctx.http.send({
    method: 'POST',
    path: '/api/v1/crawls',
    json: { seeds: [`http://${host}/`], resolve: { [host]: `127.0.0.1:${port}` } },
  });
}

async function crawlSurvivesRestart(ctx: CheckContext, pg: PrivatePostgres): Promise<void> {
  const web = await WebUnderTest.start(generateWeb(ctx.seed + 4));
  const idle = await endlessSite();
  const stagger = await staggeredSite();
  const port = await closedPort();
  // The scheduling delay is measured from here, over the whole check (the bounds below add what it saw).
  checkSlack(ctx.evidence, SLACK_CAP_MS);
  try {
    await startStaggeredJob(ctx, stagger);
    // A second job that is running but idle (the longest delay the spec allows): it is stopped while the database is
    // down, and a stop answered 503 must have changed nothing.
    const idleHost = 'idle.f2.test';
    const idleJob = okBody<Crawl>(
      ctx,
      await ctx.http.send({
        method: 'POST',
        path: '/api/v1/crawls',
        json: {
          seeds: [`http://${idleHost}/`],
          politenessDelayMs: 60_000,
          resolve: { [idleHost]: `127.0.0.1:${idle.port}` },
        },
      }),
      201,
      'starting the idle crawl',
    );
    ctx.changed(`left crawl ${idleJob.id} stopped`);
    const { seed, job } = await startJob(ctx, web, { politenessDelayMs: DELAY_MS });
    let before = await listAllPages(ctx, job.id);
    while (before.length < CRASH_AFTER_PAGES) {
      ctx.expect((await getJob(ctx, job.id)).state === 'running', 'the crawl ended before the database could crash');
      await ctx.sleep(50);
      before = await listAllPages(ctx, job.id);
    }
    // The server crashes mid-crawl; the API is asked, and every answer kept, until it starts again.
    const crashStarted = performance.now();
    await pg.crash();
    const crashedAt = performance.now();
    ctx.evidence['listedBeforeCrash'] = before.length;
    // The seed's root is HTML: stored before the crash, it is a content the job holds throughout.
    const storedBefore = before.find((p) => p.outcome === 'stored' && p.contentHash !== null);
    ctx.expect(storedBefore !== undefined, 'no page listed before the crash stored a content');
    const probes: { what: string; x: Exchange }[] = [];
    const acknowledged: string[] = [];
    const stopWhileDown = await ctx.http.send({ method: 'POST', path: `/api/v1/crawls/${idleJob.id}/stop` });
    probes.push({ what: 'stopCrawl', x: stopWhileDown });
    while (performance.now() - crashedAt < DOWN_MS) {
      probes.push({ what: 'getCrawl', x: await ctx.http.send({ method: 'GET', path: `/api/v1/crawls/${job.id}` }) });
      probes.push({
        what: 'listPages',
        x: await ctx.http.send({ method: 'GET', path: `/api/v1/crawls/${job.id}/pages?limit=5000` }),
      });
      probes.push({
        what: 'getContent',
        x: await ctx.http.send({
          method: 'GET',
          path: `/api/v1/crawls/${job.id}/contents/${storedBefore!.contentHash}`,
        }),
      });
      const started = await probeJob(ctx, port);
      probes.push({ what: 'startCrawl', x: started });
      if (started.status === 201) acknowledged.push((started.body as Crawl).id);
      await ctx.sleep(PROBE_EVERY_MS);
    }
    const downFor = performance.now() - crashedAt;
    const restartAt = performance.now();
    await pg.start();
    const back = performance.now();
    ctx.evidence['downMs'] = Math.round(downFor);
    // The crawl was under way when the server went: the web got requests from the crash's start to the restart (the
    // server goes down while pg_ctl runs; a crawler that waits for its store sends none after that).
    ctx.evidence['requestsWhileDown'] = web.hits.filter((h) => h.start > crashStarted && h.start < back).length;

    const statuses: Record<string, number> = {};
    for (const { what, x } of probes) {
      const k = `${what} ${x.status ?? x.error}${code(x) ? ` ${code(x)}` : ''}`;
      statuses[k] = (statuses[k] ?? 0) + 1;
      ctx.expect(
        x.status !== null,
        `${what} got no answer while PostgreSQL was down (${x.error}): the crawler crashed or dropped the connection`,
        x,
      );
      const ok = what === 'startCrawl' ? 201 : 200;
      ctx.expect(
        x.status === ok || (x.status === 503 && code(x) === 'unavailable'),
        `${what} answered ${x.status}${code(x) ? ` ${code(x)}` : ''} while PostgreSQL was down, not ${ok} or 503 unavailable`,
        x,
      );
      ctx.expect(
        x.durationMs < ANSWER_BOUND_MS,
        `${what} took ${Math.round(x.durationMs)} ms while PostgreSQL was down (a hang)`,
        x,
      );
    }
    ctx.evidence['statusesWhileDown'] = statuses;
    ctx.expect(
      probes.some(({ x }) => x.status === 503),
      'no request answered 503 while PostgreSQL was down: the fault did not bite on the API',
    );
    ctx.evidence['crashTookMs'] = Math.round(crashedAt - crashStarted);
    expectNoFetchWhileStoreAway(ctx, stagger.hits, crashedAt, restartAt);
    ctx.evidence['answersAgainAfterMs'] = await answersAgain(ctx, port, back, acknowledged);
    await expectStopAsAnswered(ctx, idleJob.id, stopWhileDown);

    // Once it is back the crawl completes, and what it stored is the model's crawl of the web.
    const done = await doneAfterBack(ctx, job.id);
    ctx.evidence['doneAfterBackMs'] = Math.round(performance.now() - back);
    const listed = await listAllPages(ctx, job.id);
    expectStoredIsTheModel(ctx, web, seed, listed);
    // The content store after the crash: every content of the job, those stored before it included, as served.
    ctx.evidence['contentsServed'] = await expectContentsServed(ctx, job.id, listed, web.hits, 'after the crash');
    const byUrl = new Map(listed.map((p) => [p.url, p]));
    const lost = before.filter((p) => {
      const now = byUrl.get(p.url);
      return !now || now.contentHash !== p.contentHash || now.outcome !== p.outcome;
    });
    ctx.expect(
      lost.length === 0,
      `${lost.length} pages listed before the crash are gone or changed after it: ${lost
        .slice(0, 5)
        .map((p) => p.url)
        .join(', ')}`,
    );
    const listedBefore = new Set(before.map((p) => key(p.url)));
    const refetched = web.hits.filter((h) => h.start > crashStarted && listedBefore.has(`${h.host}${h.path}`));
    ctx.expect(
      refetched.length === 0,
      `${refetched.length} pages listed before the crash were fetched again after it: ${refetched
        .slice(0, 5)
        .map((h) => `${h.host}${h.path}`)
        .join(', ')}`,
    );
    ctx.expect(
      done.progress['fetched'] === listed.length,
      `progress.fetched is ${done.progress['fetched']} but the job lists ${listed.length} pages: it counted fetches it did not store`,
    );
    // Everything acknowledged around the fault is still there.
    for (const id of acknowledged) {
      const x = await ctx.http.send({ method: 'GET', path: `/api/v1/crawls/${id}` });
      ctx.expect(x.status === 200, `crawl ${id}, answered 201 around the fault, reads ${x.status ?? x.error}`, x);
    }
    ctx.evidence['listed'] = listed.length;
  } finally {
    await web.close();
    for (const site of [idle, stagger]) {
      site.server.closeAllConnections();
      await new Promise<void>((resolve) => site.server.close(() => resolve()));
    }
  }
}

/**
 * A stop answered while the database was down: 200 means the job is stopped; 503 means nothing changed, so the job
 * is still running and a stop tried again once the database is back answers 200 (not 409 crawl_not_running).
 */
async function expectStopAsAnswered(ctx: CheckContext, id: string, stop: Exchange): Promise<void> {
  ctx.evidence['stopWhileDown'] = `${stop.status ?? stop.error}${code(stop) ? ` ${code(stop)}` : ''}`;
  const now = await getJob(ctx, id);
  if (stop.status === 200) {
    ctx.expect(
      now.state === 'stopped',
      `stopCrawl answered 200 while PostgreSQL was down, and the job is ${now.state}`,
    );
    return;
  }
  if (stop.status !== 503) return; // any other answer already failed with the probes
  ctx.expect(
    now.state === 'running',
    `stopCrawl answered 503 while PostgreSQL was down, yet the job is ${now.state} once it is back (a 503 must change nothing)`,
  );
  const again = await ctx.http.send({ method: 'POST', path: `/api/v1/crawls/${id}/stop` });
  ctx.expect(
    again.status === 200,
    `stopCrawl tried again after a 503, once PostgreSQL was back, answered ${again.status ?? again.error}${code(again) ? ` ${code(again)}` : ''}, not 200`,
    again,
  );
}

/**
 * The listed pages: each URL once, each requested from the web, exactly the model's reachable pages, traps bounded
 * (WC-F2, and WC-F1 after its kill). `when` starts the message of a missing page.
 */
export function expectStoredIsTheModel(
  ctx: CheckContext,
  web: WebUnderTest,
  seed: string,
  listed: readonly Page[],
  when = 'after the database came back',
): void {
  const keys = listed.map((p) => key(p.url));
  const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
  ctx.expect(twice.length === 0, `${twice.length} pages listed more than once: ${twice.slice(0, 5).join(', ')}`);
  const requested = new Set(web.hits.map((h) => `${h.host}${h.path}`));
  const never = keys.filter((k) => !requested.has(k));
  ctx.expect(
    never.length === 0,
    `${never.length} listed pages were never requested from the web: ${never.slice(0, 5).join(', ')}`,
  );
  const expected = expectedFetches(web.model, seed, CRAWL.maxDepth);
  const got = new Set(
    listed
      .map((p) => new URL(p.url))
      .flatMap((u) => (isTrap(u.hostname, u.pathname) ? [] : [`${u.hostname}${u.pathname}`])),
  );
  const missing = [...expected].filter((k) => !got.has(k));
  const extra = [...got].filter((k) => !expected.has(k));
  ctx.evidence['expected'] = expected.size;
  // Pages the crawler gave up on (status 0) that the web answers: their links are the likeliest missing ones.
  const gaveUp = listed.filter((p) => {
    const u = new URL(p.url);
    return p.status === 0 && web.model.respond(u.hostname, u.pathname).kind !== 'hang';
  });
  ctx.expect(
    missing.length === 0,
    `${when} the job ended done without ${missing.length} of the ${expected.size} reachable pages: ${missing
      .slice(0, 5)
      .join(', ')}${
      gaveUp.length
        ? ` (the crawler gave up on ${gaveUp.length} pages the web answers, status 0: ${gaveUp
            .slice(0, 3)
            .map((p) => key(p.url))
            .join(', ')}; the web under test answers from the harness's process, late when the machine is loaded)`
        : ''
    }`,
  );
  ctx.expect(
    extra.length === 0,
    `${extra.length} pages listed that the web's model does not reach: ${extra.slice(0, 5).join(', ')}`,
  );
  // Each trap is entered at depth 2, so it has exactly its pages at depths 2..maxDepth.
  for (const t of TRAPS) {
    const n = listed.filter((p) => {
      const u = new URL(p.url);
      return u.hostname === t.host && u.pathname.startsWith(t.prefix);
    }).length;
    ctx.expect(n === CRAWL.maxDepth - 1, `${t.name}: ${n} pages listed, not the ${CRAWL.maxDepth - 1} maxDepth allows`);
  }
}

/**
 * Waits for the job to end done once the database is back; fails when its progress stands still for STALL_MS (a job
 * that lost track of fetches the store refused waits forever) or past DONE_AFTER_BACK_MS.
 */
async function doneAfterBack(ctx: CheckContext, id: string): Promise<Crawl> {
  const until = performance.now() + timeLimit(DONE_AFTER_BACK_MS);
  let last = '';
  let movedAt = performance.now();
  for (;;) {
    const job = await getJob(ctx, id);
    if (job.state === 'done') return job;
    const now = JSON.stringify(job.progress);
    if (now !== last) {
      last = now;
      movedAt = performance.now();
    }
    if (performance.now() - movedAt > timeLimit(STALL_MS))
      ctx.fail(
        `after PostgreSQL came back the job is ${job.state} and made no progress for ${timeLimit(STALL_MS)} ms: it stands at ${now}`,
      );
    if (performance.now() > until)
      ctx.fail(`the job was not done ${timeLimit(DONE_AFTER_BACK_MS)} ms after PostgreSQL came back: progress ${now}`);
    await ctx.sleep(100);
  }
}

/** Starts probe jobs until one answers 201; fails past DB_BACK_BOUND_MS (plus the scheduling delay, at most 5 s). */
async function answersAgain(ctx: CheckContext, port: number, since: number, acknowledged: string[]): Promise<number> {
  let last: Exchange | undefined;
  while (performance.now() - since < checkSlack(ctx.evidence, SLACK_CAP_MS).bound(DB_BACK_BOUND_MS)) {
    last = await probeJob(ctx, port);
    if (last.status === 201) {
      acknowledged.push(okBody<Crawl>(ctx, last, 201, 'starting a crawl after the restart').id);
      return Math.round(performance.now() - since);
    }
    ctx.expect(
      last.status === 503 && code(last) === 'unavailable',
      `after PostgreSQL came back startCrawl answered ${last.status ?? last.error}, not 201 or 503 unavailable`,
      last,
    );
    await ctx.sleep(200);
  }
  return ctx.fail(
    `startCrawl did not answer 201 within ${DB_BACK_BOUND_MS} ms after PostgreSQL came back (last: ${last?.status})`,
    last ? { exchange: last } : {},
  );
}
