// One crawl job: the book's loop (frontier -> robots check -> download -> content seen -> link extraction -> URL
// filter -> URL seen -> frontier), persisted through CrawlStore after every fetch so that a restart resumes it.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import BloomFilters from 'bloom-filters';
import robotsParserModule from 'robots-parser';
import { fetchUrl } from './fetcher.ts';
import { Frontier, type Robot } from './frontier.ts';
import { normalise, pageLinks } from './links.ts';
import type { MutantName } from './mutants.ts';
import type { CrawlStore, JobRow, PageRecord, QueuedUrl } from './store.ts';

const { BloomFilter } = BloomFilters;
// robots-parser is CommonJS (module.exports = function); its typings do not say so, so they are restated here.
const robotsParser = robotsParserModule as unknown as (url: string, contents: string) => Robot;

/** Fetches in flight per job, across hosts. */
const MAX_IN_FLIGHT = 32;
/** The Bloom filter's false-positive rate; a positive is confirmed against the stored seen set. */
const BLOOM_ERROR_RATE = 0.01;
const BLOOM_CAPACITY = 1_000_000;

export class CrawlJob {
  readonly frontier: Frontier;
  private readonly seen = BloomFilter.create(BLOOM_CAPACITY, BLOOM_ERROR_RATE);
  private inFlight = 0;
  private launched: number;
  private stopped = false;
  private wake: (() => void) | null = null;
  counts: { fetched: number; stored: number; duplicates: number; skipped: number; failed: number };

  constructor(
    readonly row: JobRow,
    private readonly store: CrawlStore,
    private readonly mutant: MutantName | undefined,
    private readonly log: (msg: string) => void,
  ) {
    this.frontier = new Frontier(mutant === 'two-per-host' ? 2 : 1); // MUTANT two-per-host
    this.counts = store.counts(row.id);
    // MUTANT counters-reset-on-resume: a resumed job counts (and spends its budget) from 0 again.
    if (mutant === 'counters-reset-on-resume')
      this.counts = { fetched: 0, stored: 0, duplicates: 0, skipped: 0, failed: 0 };
    this.launched = this.counts.fetched;
    // MUTANT resume-refetches: the seen set is forgotten at start, and the crawl starts again from the seeds.
    if (mutant === 'resume-refetches' && this.counts.fetched > 0) {
      store.forgetSeen(row.id);
      for (const s of row.config.seeds) this.frontier.push({ url: s, depth: 0 });
    }
    for (const u of store.seenUrls(row.id)) this.seen.add(u);
    for (const u of store.frontier(row.id)) this.frontier.push(u);
  }

  /** URL seen: the Bloom filter answers "new" for sure; its "maybe" is confirmed by the stored set. */
  private isSeen(url: string): boolean {
    if (this.mutant === 'url-seen-off') return false; // MUTANT url-seen-off
    return this.seen.has(url) && this.store.isSeen(this.row.id, url);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  stop(): void {
    this.stopped = true;
    this.notify();
  }

  async run(): Promise<void> {
    const cfg = this.row.config;
    while (!this.stopped) {
      const budgetLeft = this.launched < cfg.maxPages;
      if ((!budgetLeft || this.frontier.size === 0) && this.inFlight === 0) break;
      const next = budgetLeft && this.inFlight < MAX_IN_FLIGHT ? this.frontier.take(performance.now()) : null;
      if (next) {
        this.inFlight++;
        void this.visit(next.host, next.item).finally(() => {
          this.inFlight--;
          this.notify();
        });
        continue;
      }
      // Nothing to start now: wait for a fetch to end or the soonest host to come off its delay.
      const readyIn = this.frontier.nextReadyAt() - performance.now();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (Number.isFinite(readyIn)) setTimeout(() => this.notify(), Math.max(1, Math.ceil(readyIn)));
      });
    }
    if (this.stopped) return;
    this.store.finish(this.row.id);
    this.row.state = 'done';
    this.log(`crawl ${this.row.id} done: ${JSON.stringify(this.counts)}`);
  }

  private async visit(host: string, item: QueuedUrl): Promise<void> {
    const cfg = this.row.config;
    const h = this.frontier.host(host);
    const opts = { userAgent: cfg.userAgent, timeoutMs: cfg.fetchTimeoutMs, resolve: cfg.resolve };
    // robots.txt first, once per host per job, in the host's own slot (it is a request to the host like any other).
    if (h.robots === undefined && this.mutant !== 'robots-ignored') {
      // MUTANT robots-ignored: the line above skips robots.txt altogether.
      const robotsUrl = new URL('/robots.txt', item.url).href;
      try {
        const r = await fetchUrl(robotsUrl, opts);
        // 2xx: the rules; 4xx: no rules; 5xx: the host is not crawled (as Google does while robots.txt fails).
        h.robots =
          r.status >= 200 && r.status < 300
            ? robotsParser(robotsUrl, r.body)
            : r.status >= 500
              ? robotsParser(robotsUrl, 'User-agent: *\nDisallow: /\n')
              : null;
      } catch {
        h.robots = robotsParser(robotsUrl, 'User-agent: *\nDisallow: /\n');
      }
      this.frontier.push(item, true);
      this.frontier.release(host, performance.now(), cfg.politenessDelayMs);
      return;
    }
    if (h.robots?.isDisallowed(item.url, cfg.userAgent)) {
      // A URL robots.txt forbids leaves the frontier unfetched; it is not a page, so it is not listed.
      this.store.dropQueued(this.row.id, item.url);
      this.frontier.release(host, performance.now(), 0);
      return;
    }
    this.launched++;
    const { page, html } = await this.download(item);
    const now = performance.now();
    const added: QueuedUrl[] = [];
    // maxDepth bounds spider traps: a page at maxDepth is kept, its links are not followed.
    if (
      item.depth < cfg.maxDepth ||
      this.mutant === 'no-trap-limit' ||
      (this.mutant === 'depth-limit-inclusive' && item.depth === cfg.maxDepth)
    ) {
      // MUTANT no-trap-limit: the condition above lets every depth through.
      for (const url of page.links) {
        if (this.isSeen(url) || added.some((a) => a.url === url)) continue;
        added.push({ url, depth: item.depth + 1 });
      }
    }
    this.store.recordFetch(this.row.id, page, html, added);
    for (const a of added) {
      this.seen.add(a.url);
      this.frontier.push(a);
    }
    this.counts.fetched++;
    if (page.outcome === 'stored') this.counts.stored++;
    else if (page.outcome === 'duplicate') this.counts.duplicates++;
    else if (page.outcome === 'skipped') this.counts.skipped++;
    else this.counts.failed++;
    this.frontier.release(host, now, cfg.politenessDelayMs);
  }

  private async download(item: QueuedUrl): Promise<{ page: PageRecord; html: string | null }> {
    const cfg = this.row.config;
    const base = { url: item.url, depth: item.depth, fetchedAt: new Date().toISOString() };
    try {
      const r = await fetchUrl(item.url, {
        userAgent: cfg.userAgent,
        timeoutMs: this.mutant === 'no-fetch-timeout' ? 3_600_000 : cfg.fetchTimeoutMs, // MUTANT no-fetch-timeout
        resolve: cfg.resolve,
      });
      const common = { ...base, status: r.status, contentType: r.contentType, contentHash: null, duplicateOf: null };
      if (r.status >= 300 && r.status < 400 && r.location !== null) {
        // MUTANT redirect-unfiltered: the Location is resolved but not filtered.
        const to =
          this.mutant === 'redirect-unfiltered'
            ? new URL(r.location, item.url).href
            : normalise(r.location, item.url, cfg.allowedDomains);
        return { page: { ...common, outcome: 'skipped', links: to ? [to] : [] }, html: null };
      }
      if (r.status < 200 || r.status >= 300) return { page: { ...common, outcome: 'failed', links: [] }, html: null };
      const htmlType = this.mutant === 'text-types-as-html' ? /^text\//i : /^text\/html\b/i; // MUTANT text-types-as-html
      if (!htmlType.test(r.contentType ?? ''))
        return { page: { ...common, outcome: 'skipped', links: [] }, html: null };
      // Content seen: the SHA-256 of the body; a page whose hash is stored is a duplicate, neither stored nor followed.
      const hashed = this.mutant === 'content-hash-normalised' ? r.body.replace(/\s+/g, ' ').trim() : r.body; // MUTANT content-hash-normalised
      const hash = createHash('sha256').update(hashed).digest('hex');
      const owner = this.mutant === 'no-content-dedup' ? null : this.store.contentOwner(this.row.id, hash); // MUTANT no-content-dedup
      if (owner !== null)
        return {
          page: { ...common, contentHash: hash, outcome: 'duplicate', duplicateOf: owner, links: [] },
          html: null,
        };
      const links = pageLinks(r.body, item.url, cfg.allowedDomains, this.mutant === 'wrong-base'); // MUTANT wrong-base
      return { page: { ...common, contentHash: hash, outcome: 'stored', links }, html: r.body };
    } catch {
      return {
        page: {
          ...base,
          status: 0,
          contentType: null,
          outcome: 'failed',
          contentHash: null,
          duplicateOf: null,
          links: [],
        },
        html: null,
      };
    }
  }
}
