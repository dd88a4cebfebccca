// WC-F2's rule that a job waits for its store (split from db-restart.ts, which runs the check): a "staggered" web
// whose hosts' turns come one by one over the database outage, and the assertion that no request starts, past a
// short allowance, after a response whose record the store could not take, until the database is back.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { type Crawl, okBody } from './crawl.ts';

/** The most scheduling delay a bound of WC-F2 adds (see harness/core/scheduling-slack.ts). */
export const SLACK_CAP_MS = 5000;

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

export async function staggeredSite(): Promise<{ server: Server; port: number; hits: StaggerHit[]; hosts: string[] }> {
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

/** Starts the staggered job and waits until every host of its web has had a page (its turns then come one by one). */
export async function startStaggeredJob(
  ctx: CheckContext,
  stagger: { port: number; hits: StaggerHit[]; hosts: string[] },
): Promise<void> {
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
}

/**
 * A job waits for its store: once a response ended with the database down (its record cannot be stored), the job
 * starts no new request until the database is back. NOTICE_MS (plus this process's scheduling delay) is left for the
 * crawler to find the store away; requests started later than that and before the restart break the rule.
 */
export function expectNoFetchWhileStoreAway(
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
