// WC-I2..I7: the invariants of a crawl, read from the web under test's request log (and, for content seen, from
// the pages the job lists). One shared crawl of the seeded web; each check reads its own invariant.
import { createHash } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { CRAWL, type Page, sharedCrawl } from './crawl.ts';
import { expectedFetches, isTrap } from './expected.ts';
import { DOMAIN, type Hit, MAX_URL_LENGTH, OUTSIDE_HOST, ROBOTS_5XX_HOST, TRAPS } from './web.ts';

/**
 * Clock tolerance of the politeness check: both times are read on this process's monotonic clock, and the end of a
 * response the crawler gave up on is a time no later than its close (close-bound.ts), not when this process noticed
 * it, so no allowance for this process's lag is needed (there was one, capped at half the delay, and beside
 * stress-ng a close noticed 49.7 ms late still failed a correct crawler).
 */
const POLITENESS_SLACK_MS = 1;

const key = (h: { host: string; path: string }) => `${h.host}${h.path}`;
/** A URL short enough for a failure message (the web has URLs of 2,048 characters). */
const shown = (u: string) => (u.length > 100 ? `${u.slice(0, 60)}...(${u.length} characters)` : u);
const pageRequests = (hits: readonly Hit[]) => hits.filter((h) => h.path !== '/robots.txt');

export async function robotsObeyed(ctx: CheckContext): Promise<void> {
  const { web, hits } = await sharedCrawl(ctx);
  const forbidden = pageRequests(hits).filter((h) => web.model.disallowed(h.host, h.path));
  ctx.evidence['disallowedFetches'] = forbidden.length;
  ctx.expect(
    forbidden.length === 0,
    `fetched ${forbidden.length} URLs robots.txt disallows for the user agent: ${forbidden.slice(0, 5).map(key).join(', ')}`,
  );
  // A robots.txt answered 503 is a complete disallow (RFC 9309 2.3.1.4): the host's robots.txt is asked, no page.
  const behind5xx = pageRequests(hits).filter((h) => h.host === ROBOTS_5XX_HOST);
  ctx.evidence['pagesBehind5xxRobots'] = behind5xx.length;
  ctx.expect(
    behind5xx.length === 0,
    `${ROBOTS_5XX_HOST} answers robots.txt with 503 (a complete disallow) but ${behind5xx.length} of its pages were fetched: ${behind5xx.map(key).join(', ')}`,
  );
  const robots = new Map<string, number>();
  for (const h of hits) if (h.path === '/robots.txt') robots.set(h.host, (robots.get(h.host) ?? 0) + 1);
  ctx.expect(
    robots.has(ROBOTS_5XX_HOST),
    `the robots.txt of ${ROBOTS_5XX_HOST} (linked from the seed) was never asked`,
  );
  const contacted = new Set(pageRequests(hits).map((h) => h.host));
  for (const host of contacted)
    ctx.expect(robots.has(host), `${host} was crawled without its robots.txt being fetched`);
  for (const [host, n] of robots)
    ctx.expect(n === 1, `robots.txt of ${host} was fetched ${n} times in one job, not once`);
}

export async function politeness(ctx: CheckContext): Promise<void> {
  const { hits } = await sharedCrawl(ctx);
  const byHost = new Map<string, Hit[]>();
  for (const h of hits) byHost.set(h.host, [...(byHost.get(h.host) ?? []), h]);
  let worstGap = Number.POSITIVE_INFINITY;
  // The gap after each response the crawler gave up on (its timeout), the delay a crawler may forget there.
  const afterCloses: number[] = [];
  for (const [host, hs] of byHost) {
    hs.sort((a, b) => a.start - b.start);
    for (let i = 1; i < hs.length; i++) {
      const prev = hs[i - 1]!;
      const cur = hs[i]!;
      ctx.expect(
        prev.end !== null && prev.end <= cur.start,
        `two requests in flight to ${host}: ${cur.path} started while ${prev.path} was unanswered`,
      );
      const gap = cur.start - prev.end!;
      worstGap = Math.min(worstGap, gap);
      if (prev.closedByCrawler) afterCloses.push(Number(gap.toFixed(1)));
      ctx.expect(
        gap >= CRAWL.politenessDelayMs - POLITENESS_SLACK_MS,
        `${host}: ${cur.path} started ${gap.toFixed(1)} ms after the response to ${prev.path}${prev.closedByCrawler ? ' (closed by the crawler, the close bounded from below)' : ''}, less than the ${CRAWL.politenessDelayMs} ms delay`,
      );
    }
  }
  ctx.evidence['hosts'] = byHost.size;
  ctx.evidence['smallestGapMs'] = Number.isFinite(worstGap) ? Number(worstGap.toFixed(1)) : null;
  ctx.evidence['gapsAfterClosesMs'] = afterCloses;
  // How much later than its bound this process noticed each close the crawler made (the bound's give, in ms).
  ctx.evidence['closesNoticedLateMs'] = hits
    .filter((h) => h.closedByCrawler)
    .map((h) => Number((h.closeNoticedLateMs ?? 0).toFixed(1)));
}

export async function fetchedAtMostOnce(ctx: CheckContext): Promise<void> {
  const { hits } = await sharedCrawl(ctx);
  const counts = new Map<string, number>();
  for (const h of pageRequests(hits)) counts.set(key(h), (counts.get(key(h)) ?? 0) + 1);
  const again = [...counts].filter(([, n]) => n > 1);
  ctx.evidence['urlsFetchedTwice'] = again.length;
  ctx.expect(
    again.length === 0,
    `${again.length} URLs fetched more than once: ${again
      .slice(0, 5)
      .map(([u, n]) => `${u} x${n}`)
      .join(', ')}`,
  );
}

export async function contentStoredOnce(ctx: CheckContext): Promise<void> {
  const { pages, web } = await sharedCrawl(ctx);
  const byHash = new Map<string, typeof pages>();
  for (const p of pages)
    if (p.contentHash !== null && (p.outcome === 'stored' || p.outcome === 'duplicate'))
      byHash.set(p.contentHash, [...(byHash.get(p.contentHash) ?? []), p]);
  // The web serves one body under three URLs (two hosts); all three must have been fetched and listed.
  const copies = pages.filter((p) => /\/copy-[abc]\.html$/.test(p.url));
  ctx.expect(copies.length === 3, `the three copies of one page were listed ${copies.length} times, not 3`);
  for (const [hash, ps] of byHash) {
    const stored = ps.filter((p) => p.outcome === 'stored');
    ctx.expect(
      stored.length === 1,
      `content ${hash.slice(0, 12)} is stored ${stored.length} times (${ps.map((p) => p.url).join(', ')}), not once`,
    );
    for (const d of ps.filter((p) => p.outcome === 'duplicate'))
      ctx.expect(
        // No stored page of this hash (a duplicate of a page with another hash): a failure, not a TypeError.
        stored.length > 0 && d.duplicateOf === stored[0]!.url,
        `${d.url} is a duplicate of ${d.duplicateOf}, not of ${stored[0]?.url ?? 'a stored page of its own hash (none is)'}`,
      );
  }
  // Every content hash is the SHA-256 of the body's bytes as served, and pages with different bytes are not
  // duplicates of each other (a hash of nothing, of the URL, or of the body decoded as UTF-8 would say so: the web's
  // two pages in invalid UTF-8 differ only in one byte that decodes to U+FFFD).
  const bodies = new Map<string, Buffer>();
  for (const p of pages) {
    const u = new URL(p.url);
    const r = web.model.respond(u.hostname, u.pathname);
    if (r.kind !== 'html') continue;
    const bytes = Buffer.from(r.body);
    // A page that is not text (a NUL byte, invalid UTF-8) is an HTML page like any other: stored, hashed as served.
    if (typeof r.body !== 'string')
      ctx.expect(
        p.outcome === 'stored' && p.contentHash !== null,
        `${p.url} (a NUL byte or invalid UTF-8 in its body) is listed ${p.outcome}, not stored`,
      );
    if (!p.contentHash) continue;
    const sha = createHash('sha256').update(bytes).digest('hex');
    ctx.expect(
      p.contentHash === sha,
      `${p.url}: contentHash ${p.contentHash.slice(0, 12)} is not the SHA-256 of its body's bytes as served`,
    );
    const other = bodies.get(p.contentHash);
    ctx.expect(
      other === undefined || other.equals(bytes),
      `${p.url} has the content hash of a page with other content`,
    );
    bodies.set(p.contentHash, bytes);
  }
  const notText = pages.filter((p) => {
    const u = new URL(p.url);
    const r = web.model.respond(u.hostname, u.pathname);
    return r.kind === 'html' && typeof r.body !== 'string';
  });
  ctx.evidence['pagesNotText'] = notText.length;
  ctx.expect(
    notText.length === 5,
    `the web's 5 pages whose bytes are not plain UTF-8 text (a NUL byte, invalid UTF-8, Latin-1, a byte order mark) were listed ${notText.length} times`,
  );
}

export async function trapsBounded(ctx: CheckContext): Promise<void> {
  const { hits, pages, seed } = await sharedCrawl(ctx);
  const seedPage = pages.find((p) => p.url === seed);
  ctx.expect(seedPage?.depth === 0, `the seed is listed at depth ${seedPage?.depth}, not 0`);
  const counts: Record<string, number> = {};
  for (const t of TRAPS) {
    const n = pageRequests(hits).filter((h) => h.host === t.host && h.path.startsWith(t.prefix)).length;
    counts[t.name] = n;
    // Its entry is linked only from its host's root, which only the seed (depth 0) links first: the entry is at
    // depth 2, so exactly its pages at depths 2..maxDepth are fetched (maxDepth - 1), none deeper and none fewer.
    ctx.expect(
      n === CRAWL.maxDepth - 1,
      `${t.name}: ${n} requests, not the ${CRAWL.maxDepth - 1} its depths 2..maxDepth ${CRAWL.maxDepth} allow`,
    );
  }
  ctx.evidence['trapRequests'] = counts;
  // A page's depth is the number of links followed from a seed to it (a redirect's Location is a link of the
  // redirecting page): a page listed at depth k > 0 was queued by a listed page at depth k - 1 that links to it.
  const linkedAt = new Map<string, Set<number>>();
  for (const p of pages)
    for (const l of p.links) {
      const at = linkedAt.get(l) ?? new Set<number>();
      at.add(p.depth);
      linkedAt.set(l, at);
    }
  const unlinked = pages.filter((p) => p.depth > 0 && !linkedAt.get(p.url)?.has(p.depth - 1));
  ctx.expect(
    unlinked.length === 0,
    `${unlinked.length} pages listed at a depth no listed page links them from (depth - 1): ${unlinked
      .slice(0, 4)
      .map(
        (p) =>
          `${shown(p.url)} at depth ${p.depth}, linked from depths ${JSON.stringify([...(linkedAt.get(p.url) ?? [])])}`,
      )
      .join('; ')}`,
  );
}

export async function completeness(ctx: CheckContext): Promise<void> {
  const { web, hits, pages, seed, job } = await sharedCrawl(ctx);
  const expected = expectedFetches(web.model, seed, CRAWL.maxDepth);
  const fetched = new Set(
    pageRequests(hits)
      .filter((h) => !isTrap(h.host, h.path))
      .map(key),
  );
  const missing = [...expected].filter((u) => !fetched.has(u));
  const extra = [...fetched].filter((u) => !expected.has(u));
  ctx.evidence['expected'] = expected.size;
  ctx.evidence['fetched'] = fetched.size;
  // The URL filter's length limit, at its edge: h2's root links to URLs of exactly 2048 and of 2049 characters.
  const long = [...pageRequests(hits)].filter((h) => h.path.startsWith('/long/')).map((h) => `http://${key(h)}`);
  ctx.evidence['longUrlsFetched'] = long.map((u) => u.length);
  ctx.expect(
    long.some((u) => u.length === MAX_URL_LENGTH),
    `the linked URL of exactly ${MAX_URL_LENGTH} characters (the limit, allowed) was never fetched`,
  );
  ctx.expect(
    !long.some((u) => u.length > MAX_URL_LENGTH),
    `a URL longer than ${MAX_URL_LENGTH} characters was fetched (lengths ${long.map((u) => u.length).join(', ')})`,
  );
  ctx.expect(
    missing.length === 0,
    `${missing.length} of ${expected.size} reachable allowed pages never fetched: ${missing.slice(0, 6).map(shown).join(', ')}`,
  );
  ctx.expect(
    extra.length === 0,
    `${extra.length} URLs fetched that no page of the allowed web links to: ${extra.slice(0, 6).map(shown).join(', ')}`,
  );
  ctx.expect(!hits.some((h) => h.host === OUTSIDE_HOST), `fetched from ${OUTSIDE_HOST}, outside the allowed domains`);
  // The job's own report agrees with what the web saw.
  const listed = new Set(pages.map((p) => new URL(p.url)).map((u) => `${u.hostname}${u.pathname}`));
  const unlisted = [...fetched].filter((u) => !listed.has(u));
  ctx.expect(unlisted.length === 0, `fetched but not listed as pages: ${unlisted.slice(0, 5).map(shown).join(', ')}`);
  for (const p of pages) {
    const u = new URL(p.url);
    const r = web.model.respond(u.hostname, u.pathname);
    if (r.kind === 'other')
      ctx.expect(
        p.outcome === 'skipped' && p.contentHash === null && p.links.length === 0,
        `${p.url} (${r.type}) is not HTML but is listed ${p.outcome} with links ${JSON.stringify(p.links)}`,
      );
    // The outcomes as the spec's progress counts them: a 4xx/5xx answer failed, a redirect skipped (its Location a
    // link when the filter keeps it), an HTML page stored or a duplicate.
    if (r.kind === 'status')
      ctx.expect(
        p.outcome === 'failed' && p.status === r.status && p.contentHash === null && p.links.length === 0,
        `${p.url} answered ${r.status} but is listed ${p.outcome} (status ${p.status}, links ${JSON.stringify(p.links)})`,
      );
    if (r.kind === 'redirect') {
      const to = new URL(r.location, p.url).href;
      const kept = new URL(to).hostname.endsWith(`.${DOMAIN}`);
      ctx.expect(
        p.outcome === 'skipped' && p.status === r.status && p.contentHash === null,
        `${p.url} redirected (${r.status}) but is listed ${p.outcome} (status ${p.status})`,
      );
      ctx.expect(
        JSON.stringify(p.links) === JSON.stringify(kept ? [to] : []),
        `${p.url} redirects to ${to} but lists the links ${JSON.stringify(p.links)}`,
      );
    }
    if (r.kind === 'html')
      ctx.expect(
        p.status === 200 && (p.outcome === 'stored' || p.outcome === 'duplicate'),
        `${p.url} is an HTML page but is listed ${p.outcome} (status ${p.status})`,
      );
  }
  // The job's progress counts the pages it lists, by outcome.
  const listedAs = (o: Page['outcome']) => pages.filter((p) => p.outcome === o).length;
  const counted = {
    fetched: pages.length,
    stored: listedAs('stored'),
    duplicates: listedAs('duplicate'),
    skipped: listedAs('skipped'),
    failed: listedAs('failed'),
  };
  for (const [k, n] of Object.entries(counted))
    ctx.expect(job.progress[k] === n, `progress.${k} is ${job.progress[k]}, but the job lists ${n} such pages`);
  const slow = pages.find((p) => p.url.endsWith('/slow.html'));
  ctx.expect(slow?.status === 0 && slow.outcome === 'failed', `the hanging page is listed as ${JSON.stringify(slow)}`);
  ctx.expect(job.state === 'done', `the job ended ${job.state}`);
}
