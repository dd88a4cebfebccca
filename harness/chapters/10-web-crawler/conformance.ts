// WC-C1, WC-C2: readiness and unknown routes; starting a job (its defaults, 422 for seeds the job may not crawl),
// reading it, listing its pages in pages of `limit`. Every response is also validated against the spec by ctx.http.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { type Crawl, getJob, listAllPages, okBody, type Page, sharedCrawl, waitDone } from './crawl.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/api/v1/crawls' },
    { method: 'GET', path: '/api/v1/crawls' },
    { method: 'PUT', path: '/api/v1/crawls/c-1' },
    { method: 'POST', path: '/api/v1/crawls/c-1/pages' },
  ]);
}

/** A loopback port nobody listens on (a host that refuses connections). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function crawlConformance(ctx: CheckContext): Promise<void> {
  // Defaults: only seeds (and a resolve map to a closed port, so the job touches nothing and ends at once: robots.txt
  // cannot be read, so the host is not crawled).
  const port = await closedPort();
  const seed = 'http://only.c2.test/start';
  const created = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/crawls',
    json: { seeds: [seed], resolve: { 'only.c2.test': `127.0.0.1:${port}` } },
  });
  const job = okBody<Crawl & Record<string, unknown>>(ctx, created, 201, 'starting a crawl with defaults');
  const expected = {
    seeds: [seed],
    allowedDomains: ['only.c2.test'],
    maxPages: 1000,
    maxDepth: 16,
    politenessDelayMs: 1000,
    fetchTimeoutMs: 5000,
    userAgent: 'sdgrade-crawler',
  };
  for (const [k, v] of Object.entries(expected))
    ctx.expect(
      JSON.stringify(job[k]) === JSON.stringify(v),
      `default ${k} is ${JSON.stringify(job[k])}, not ${JSON.stringify(v)}`,
      created,
    );
  const read = await getJob(ctx, job.id);
  ctx.expect(read.id === job.id, `getCrawl answered job ${read.id} for ${job.id}`);
  await waitDone(ctx, job.id, 20_000);
  // Given values at their minimum are kept (0 is not "not given"); the default domains are every seed's host.
  const two = ['http://one.c2.test/', 'http://two.c2.test/'];
  const given = { maxDepth: 0, politenessDelayMs: 0 };
  const resolveTwo = { 'one.c2.test': `127.0.0.1:${port}`, 'two.c2.test': `127.0.0.1:${port}` };
  const x2 = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/crawls',
    json: { seeds: two, resolve: resolveTwo, ...given },
  });
  const job2 = okBody<Crawl & Record<string, unknown>>(ctx, x2, 201, 'starting a crawl of two hosts with maxDepth 0');
  const want2 = { ...given, allowedDomains: ['one.c2.test', 'two.c2.test'] };
  for (const [k, v] of Object.entries(want2))
    ctx.expect(
      JSON.stringify(job2[k]) === JSON.stringify(v),
      `${k} is ${JSON.stringify(job2[k])}, not ${JSON.stringify(v)}`,
      x2,
    );
  await waitDone(ctx, job2.id, 20_000);

  ctx.expectStatus(await ctx.http.send({ method: 'GET', path: '/api/v1/crawls/c-none' }), 404, 'crawl_not_found');
  ctx.expectStatus(await ctx.http.send({ method: 'GET', path: '/api/v1/crawls/c-none/pages' }), 404, 'crawl_not_found');
  for (const bad of [
    { seeds: ['http://a.c2.test/'], allowedDomains: ['b.c2.test'] },
    { seeds: ['ftp://a.c2.test/file'] },
    { seeds: ['http://a.c2.test/', 'http://elsewhere.test/'], allowedDomains: ['c2.test'] },
  ]) {
    const x = await ctx.http.send({ method: 'POST', path: '/api/v1/crawls', json: bad });
    ctx.expectStatus(x, 422, 'invalid_seed');
  }

  // Paging: the shared crawl's pages, 7 at a time, are the full list in the same order.
  const crawled = await sharedCrawl(ctx);
  const all = await listAllPages(ctx, crawled.job.id);
  const paged: Page[] = [];
  let after: number | null = 0;
  while (after !== null) {
    const x = await ctx.http.send({
      method: 'GET',
      path: `/api/v1/crawls/${crawled.job.id}/pages?limit=7${after ? `&after=${after}` : ''}`,
    });
    const r = okBody<{ pages: Page[]; next: number | null }>(ctx, x, 200, 'listing 7 pages');
    ctx.expect(r.pages.length <= 7, `limit=7 answered ${r.pages.length} pages`, x);
    ctx.expect(r.next === null || r.pages.length === 7, `a page of ${r.pages.length} before the end`, x);
    paged.push(...r.pages);
    after = r.next;
    ctx.expect(paged.length <= all.length, 'paging lists more pages than there are');
  }
  ctx.expect(
    JSON.stringify(paged.map((p) => p.url)) === JSON.stringify(all.map((p) => p.url)),
    `paging by 7 listed ${paged.length} pages, not the ${all.length} of one listing in the same order`,
  );
  ctx.expect(
    all.length === crawled.job.progress['fetched'],
    `progress.fetched ${crawled.job.progress['fetched']} but ${all.length} pages listed`,
  );
}
