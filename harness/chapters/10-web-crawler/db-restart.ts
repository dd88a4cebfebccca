// WC-F2: the crawl's PostgreSQL taken away mid-crawl. The target is pointed at a PostgreSQL cluster the harness owns
// (harness/faults/private-postgres.ts); while a crawl of the generated web is under way the server crashes
// (`pg_ctl stop -m immediate`), stays down, and starts again. Survive means: the crawler keeps answering, every
// answer meanwhile is the documented one (200/201, or 503 `unavailable`), never a 500 or a hang; startCrawl answers
// 201 again within DB_BACK_BOUND_MS of the restart; the job then ends done, and what it lists equals the model of the
// web (every reachable allowed page once, none twice, the traps bounded), every page it listed before the crash still
// listed and not fetched again, each listed page really requested from the web, and its progress counting exactly
// the pages it lists (no fetch reported that was not stored).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PrivatePostgres } from '../../faults/private-postgres.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import { closedPort } from './conformance.ts';
import { CRAWL, type Crawl, getJob, listAllPages, okBody, type Page, startJob } from './crawl.ts';
import { endlessSite } from './stop-resume.ts';
import { expectedFetches, generateWeb, isTrap, TRAPS, WebUnderTest } from './web.ts';

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
/** The most scheduling delay a bound of this check adds (see harness/core/scheduling-slack.ts). */
const SLACK_CAP_MS = 5000;
/** The job is done within this after PostgreSQL is back (a hang bound: the whole crawl takes a few seconds). */
const DONE_AFTER_BACK_MS = 30_000;
/**
 * A running job whose progress stands still this long is stuck: no page of the web keeps a live crawl waiting more
 * than the fetch timeout (the hanging page), and its hosts answer in milliseconds.
 */
const STALL_MS = 6000;

/**
 * The staggered web: STAGGER_HOSTS endless hosts crawled at STAGGER_DELAY_MS; host k answers its robots.txt after
 * k * STAGGER_DELAY_MS / STAGGER_HOSTS, so the hosts' turns are spread evenly over each delay and come one by one
 * over the outage. A crawler that waits for its store starts none of them once it has a fetch the store cannot take;
 * one that does not starts one per host (whose record then waits).
 */
const STAGGER_HOSTS = 8;
const STAGGER_DELAY_MS = 1800;
/** How long each page of the staggered web takes to answer. */
const STAGGER_RESPONSE_MS = 40;
/**
 * After the first response of the staggered job that ended once the database was down, the time the crawler is given
 * to find its store away (the record of that response fails) before a new request is held against it.
 */
const NOTICE_MS = 300;
/** Below this much time left between the notice and the restart, the rule is not asserted (said in the evidence). */
const MIN_WINDOW_MS = 300;

interface StaggerHit {
  host: string;
  start: number;
  end: number | null;
}

async function staggeredSite(): Promise<{ server: Server; port: number; hits: StaggerHit[]; hosts: string[] }> {
  const hosts = Array.from({ length: STAGGER_HOSTS }, (_, k) => `s${k}.f2.test`);
  const hits: StaggerHit[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const k = Math.max(0, hosts.indexOf(host));
    if (req.url === '/robots.txt') {
      setTimeout(() => res.writeHead(404).end(), (k * STAGGER_DELAY_MS) / STAGGER_HOSTS);
      return;
    }
    const hit: StaggerHit = { host, start: performance.now(), end: null };
    hits.push(hit);
    n += 2;
    const body = `<html><body><a href="/p${n}">a</a><a href="/p${n + 1}">b</a></body></html>`;
    setTimeout(() => {
      hit.end = performance.now();
      res.writeHead(200, { 'content-type': 'text/html' }).end(body);
    }, STAGGER_RESPONSE_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits, hosts };
}

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
    // The staggered job: its hosts' turns come one by one over the outage (see staggeredSite).
    const staggerJob = okBody<Crawl>(
      ctx,
      await ctx.http.send({
        method: 'POST',
        path: '/api/v1/crawls',
        json: {
          seeds: stagger.hosts.map((h) => `http://${h}/`),
          politenessDelayMs: STAGGER_DELAY_MS,
          fetchTimeoutMs: timeLimit(5000),
          resolve: Object.fromEntries(stagger.hosts.map((h) => [h, `127.0.0.1:${stagger.port}`])),
        },
      }),
      201,
      'starting the staggered crawl',
    );
    ctx.changed(`left crawl ${staggerJob.id} running`);
    // Its hosts' turns come one by one once each host has had its first page (after its robots.txt and a delay).
    const steadyBy = performance.now() + timeLimit(20_000);
    while (new Set(stagger.hits.map((h) => h.host)).size < STAGGER_HOSTS) {
      ctx.expect(performance.now() < steadyBy, 'the staggered crawl did not reach every host of its web in time');
      await ctx.sleep(50);
    }
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
 * A job waits for its store: once a response ended with the database down (its record cannot be stored), the job
 * starts no new request until the database is back. NOTICE_MS (plus this process's scheduling delay) is left for the
 * crawler to find the store away; requests started later than that and before the restart break the rule.
 */
function expectNoFetchWhileStoreAway(
  ctx: CheckContext,
  hits: readonly StaggerHit[],
  crashedAt: number,
  restartAt: number,
): void {
  const ends = hits.flatMap((h) => (h.end !== null && h.end > crashedAt ? [h.end] : []));
  const firstEnd = Math.min(...ends);
  const allowMs = checkSlack(ctx.evidence, SLACK_CAP_MS).bound(timeLimit(NOTICE_MS));
  const noticedBy = firstEnd + allowMs;
  const windowMs = restartAt - noticedBy;
  const started = hits.filter((h) => h.start > noticedBy && h.start < restartAt);
  ctx.evidence['staggered'] = {
    requestsWhileDown: hits.filter((h) => h.start > crashedAt && h.start < restartAt).length,
    firstResponseAfterCrashMs: ends.length ? Math.round(firstEnd - crashedAt) : null,
    allowMs,
    windowMs: Number.isFinite(windowMs) ? Math.round(windowMs) : null,
    startedInWindow: started.length,
    // Each request from a second before the crash returned to the restart: [start, end] in ms from that return.
    requestsAroundCrash: hits
      .filter((h) => h.start > crashedAt - 1000 && h.start < restartAt)
      .map((h) => [Math.round(h.start - crashedAt), h.end === null ? null : Math.round(h.end - crashedAt)]),
  };
  if (!(windowMs >= timeLimit(MIN_WINDOW_MS))) {
    ctx.log('the staggered job had no response end early enough in the outage: the wait for the store not asserted');
    return;
  }
  ctx.expect(
    started.length === 0,
    `with PostgreSQL down, the staggered job started ${started.length} requests more than ${allowMs} ms after a response whose record the store could not take (hosts ${[
      ...new Set(started.map((h) => h.host)),
    ]
      .slice(0, 5)
      .join(', ')}): it kept starting fetches instead of waiting for its store`,
  );
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
  ctx.expect(
    missing.length === 0,
    `${when} the job ended done without ${missing.length} of the ${expected.size} reachable pages: ${missing
      .slice(0, 5)
      .join(', ')}`,
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
