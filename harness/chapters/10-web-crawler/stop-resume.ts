// WC-C3, WC-I8: stop and resume by API. C3 walks the job's state machine and its refusals; I8 stops a crawl of the
// generated web mid-way and reads the web's log: nothing requested from the stop's answer on, and the resumed job
// fetches each URL at most once over both runs and covers the whole reachable web, and its listing (the same
// requests as at the stop) then holds every page the web served it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { closedPort } from './conformance.ts';
import { CRAWL, type Crawl, getJob, listAllPages, okBody, startJob, waitDone } from './crawl.ts';
import { expectedFetches } from './expected.ts';
import { generateWeb, WebUnderTest } from './web.ts';

/** A crawl slow enough (the delay) that the stop lands in the middle of it. */
const DELAY_MS = 80;
/** Stop once this many pages are listed. */
const STOP_AFTER_PAGES = 10;
/** How long a stopped job is watched for requests: several delays, and more than the crawl's fetch timeout. */
const WATCH_MS = 1500;

function transition(ctx: CheckContext, id: string, to: 'stop' | 'resume') {
  return ctx.http.send({ method: 'POST', path: `/api/v1/crawls/${id}/${to}` });
}

/** One host that answers every page at once with two new links (robots.txt 404): a job on it never runs dry. */
export async function endlessSite(): Promise<{ server: Server; port: number }> {
  let n = 0;
  const server = createServer((req, res) => {
    if (req.url === '/robots.txt') return res.writeHead(404).end();
    n += 2;
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<html><body><a href="/p${n}">a</a><a href="/p${n + 1}">b</a></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export async function stopResumeConformance(ctx: CheckContext): Promise<void> {
  for (const to of ['stop', 'resume'] as const)
    ctx.expectStatus(await transition(ctx, 'c-none', to), 404, 'crawl_not_found');

  const site = await endlessSite();
  try {
    // The longest delay the spec allows: after its first page the job waits a minute, running, with nothing in flight.
    const host = 'endless.c3.test';
    const x = await ctx.http.send({
      method: 'POST',
      path: '/api/v1/crawls',
      json: { seeds: [`http://${host}/`], politenessDelayMs: 60_000, resolve: { [host]: `127.0.0.1:${site.port}` } },
    });
    const job = okBody<Crawl>(ctx, x, 201, 'starting a crawl');
    ctx.changed(`left crawl ${job.id} stopped`);
    ctx.expectStatus(await transition(ctx, job.id, 'resume'), 409, 'crawl_not_stopped');
    const stopped = okBody<Crawl>(ctx, await transition(ctx, job.id, 'stop'), 200, 'stopping a running crawl');
    ctx.expect(stopped.state === 'stopped', `stopCrawl answered state ${stopped.state}, not stopped`);
    ctx.expect((await getJob(ctx, job.id)).state === 'stopped', 'getCrawl after stopCrawl is not stopped');
    ctx.expectStatus(await transition(ctx, job.id, 'stop'), 409, 'crawl_not_running');
    const resumed = okBody<Crawl>(ctx, await transition(ctx, job.id, 'resume'), 200, 'resuming a stopped crawl');
    ctx.expect(resumed.state === 'running', `resumeCrawl answered state ${resumed.state}, not running`);
    ctx.expectStatus(await transition(ctx, job.id, 'resume'), 409, 'crawl_not_stopped');
    okBody<Crawl>(ctx, await transition(ctx, job.id, 'stop'), 200, 'stopping the resumed crawl');
  } finally {
    site.server.closeAllConnections();
    await new Promise<void>((resolve) => site.server.close(() => resolve()));
  }

  // done is final: a job whose only host cannot be reached ends at once, and then neither stops nor resumes.
  const x = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/crawls',
    json: { seeds: ['http://gone.c3.test/'], resolve: { 'gone.c3.test': `127.0.0.1:${await closedPort()}` } },
  });
  const done = await waitDone(ctx, okBody<Crawl>(ctx, x, 201, 'starting a crawl').id, 20_000);
  ctx.expectStatus(await transition(ctx, done.id, 'stop'), 409, 'crawl_not_running');
  ctx.expectStatus(await transition(ctx, done.id, 'resume'), 409, 'crawl_not_stopped');
  ctx.expect((await getJob(ctx, done.id)).state === 'done', 'a done job left done after refused transitions');
}

export async function stopThenResume(ctx: CheckContext): Promise<void> {
  const web = await WebUnderTest.start(generateWeb(ctx.seed + 2));
  try {
    const { seed, job } = await startJob(ctx, web, { politenessDelayMs: DELAY_MS });
    let listed = await listAllPages(ctx, job.id);
    while (listed.length < STOP_AFTER_PAGES) {
      ctx.expect((await getJob(ctx, job.id)).state === 'running', `the crawl ended before it could be stopped`);
      await ctx.sleep(50);
      listed = await listAllPages(ctx, job.id);
    }
    const x = await transition(ctx, job.id, 'stop');
    const stoppedAt = performance.now();
    const stopped = okBody<Crawl>(ctx, x, 200, 'stopping the crawl');
    await ctx.sleep(WATCH_MS);
    const during = web.hits.filter((h) => h.start > stoppedAt);
    ctx.evidence['requestsWhileStopped'] = during.length;
    ctx.expect(
      during.length === 0,
      `the web received ${during.length} requests after stopCrawl answered: ${during
        .slice(0, 5)
        .map((h) => `${h.host}${h.path}`)
        .join(', ')}`,
    );
    const still = await getJob(ctx, job.id);
    ctx.expect(still.state === 'stopped', `a stopped crawl is ${still.state} ${WATCH_MS} ms later`);
    ctx.expect(
      still.progress['fetched'] === stopped.progress['fetched'],
      `progress.fetched moved from ${stopped.progress['fetched']} to ${still.progress['fetched']} while stopped`,
    );
    const atStop = (await listAllPages(ctx, job.id)).length;
    ctx.evidence['listedAtStop'] = atStop;

    const resumedAt = performance.now();
    okBody<Crawl>(ctx, await transition(ctx, job.id, 'resume'), 200, 'resuming the crawl');
    const done = await waitDone(ctx, job.id);
    ctx.expect(done.state === 'done', 'the resumed job did not end done');
    const after = web.hits.filter((h) => h.start > resumedAt);
    ctx.evidence['requestsAfterResume'] = after.length;
    ctx.expect(after.length > 0, 'nothing was fetched after resumeCrawl: the crawl did not go on');
    // Each URL at most once over both runs (robots.txt is WC-I2's).
    const count = new Map<string, number>();
    for (const h of web.hits.filter((h) => h.path !== '/robots.txt'))
      count.set(`${h.host}${h.path}`, (count.get(`${h.host}${h.path}`) ?? 0) + 1);
    const twice = [...count].filter(([, n]) => n > 1);
    ctx.evidence['fetchedTwice'] = twice.length;
    ctx.expect(
      twice.length === 0,
      `stopped and resumed, the job fetched ${twice.length} URLs more than once: ${twice
        .slice(0, 5)
        .map(([u, n]) => `${u} x${n}`)
        .join(', ')}`,
    );
    // robots.txt once per host per job: a resumed job is the same job, and still knows each host's rules.
    const robots = new Map<string, number>();
    for (const h of web.hits.filter((h) => h.path === '/robots.txt')) robots.set(h.host, (robots.get(h.host) ?? 0) + 1);
    const robotsAgain = [...robots].filter(([, n]) => n > 1);
    ctx.expect(
      robotsAgain.length === 0,
      `stopped and resumed, the job fetched robots.txt more than once from ${robotsAgain.length} hosts: ${robotsAgain
        .slice(0, 5)
        .map(([host, n]) => `${host} x${n}`)
        .join(', ')}`,
    );
    const expected = expectedFetches(web.model, seed, CRAWL.maxDepth);
    const missing = [...expected].filter((u) => !count.has(u));
    ctx.evidence['missing'] = missing.length;
    ctx.expect(
      missing.length === 0,
      `stopped and resumed, ${missing.length} reachable pages were never fetched: ${missing.slice(0, 5).join(', ')}`,
    );
    // A stopped job's listing is not final: the same listing requests, made again once the resumed job is done, list
    // every page the web served it over both runs (read from the web's log, not the crawler's account), once each.
    const listedDone = await listAllPages(ctx, job.id);
    const listedKeys = new Set(listedDone.map((p) => `${new URL(p.url).hostname}${new URL(p.url).pathname}`));
    const unlisted = [...count.keys()].filter((u) => !listedKeys.has(u));
    ctx.evidence['listedDone'] = listedDone.length;
    ctx.expect(
      unlisted.length === 0 && listedDone.length === count.size,
      `stopped (${atStop} pages listed) and resumed, the done job lists ${listedDone.length} pages for the ${count.size} URLs the web served it, ${unlisted.length} of them missing: ${unlisted.slice(0, 5).join(', ')}`,
    );
  } finally {
    await web.close();
  }
}
