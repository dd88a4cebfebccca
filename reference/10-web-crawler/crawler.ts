// One crawl job: the book's loop (frontier -> robots check -> download -> content seen -> link extraction -> URL
// filter -> URL seen -> frontier), persisted through CrawlStore after every fetch (the fetches that ended while the
// previous commit was in flight go together: a group commit) so that a restart resumes it.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import robotsParserModule from 'robots-parser';
import { fetchUrl } from './fetcher.ts';
import { Frontier, type Robot } from './frontier.ts';
import { GroupCommit } from './group-commit.ts';
import { normalise, pageLinks } from './links.ts';
import type { MutantName } from './mutants.ts';
import type { Fetch } from './mutants-crawler.ts';
import * as mutated from './mutants-crawler.ts';
import type { Counts, CrawlStore, FetchRecord, JobRow, PageRecord, QueuedUrl } from './store.ts';
import { BLOOM_CAPACITY, newUrlSeenFilter } from './url-seen.ts';

// robots-parser is CommonJS (module.exports = function); its typings do not say so, so they are restated here.
const robotsParser = robotsParserModule as unknown as (url: string, contents: string) => Robot;

/** Fetches in flight per job, across hosts. */
const MAX_IN_FLIGHT = 32;
/** The first and the longest wait before a store call that failed is tried again. */
const STORE_RETRY_FIRST_MS = 50;
const STORE_RETRY_MAX_MS = 1000;

export class CrawlJob {
  readonly frontier: Frontier;
  private seen = newUrlSeenFilter();
  private loop: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private launched: number;
  private stopped = false;
  /** The process is closing: a store call that fails gives up (the state stays stored for the next start). */
  private closing = false;
  /** A store call failed and is being tried again: no new fetch starts until the store answers. */
  private storeDown = false;
  private wake: (() => void) | null = null;
  /** The content-seen-in-memory mutant's: the content hashes this process stored -> their URL. */
  private readonly storedHere = new Map<string, string>();
  /** The content-seen-decoded mutant's: the hash of a stored body decoded as UTF-8 -> its URL. */
  private readonly decodedSeen = new Map<string, string>();
  /** The fetches waiting for their record; one group is decided and committed at a time (recordGroup). */
  private readonly records = new GroupCommit<Fetch>((group) => this.recordGroup(group));
  counts: Counts;

  private constructor(
    readonly row: JobRow,
    private readonly store: CrawlStore,
    private readonly mutant: MutantName | undefined,
    private readonly log: (msg: string) => void,
    counts: Counts,
  ) {
    this.frontier = new Frontier(mutant === 'two-per-host' ? 2 : 1); // MUTANT two-per-host
    // MUTANT bloom-positives-trusted: the filter sized for maxPages, not for every URL the job finds (see unseen).
    if (mutant === 'bloom-positives-trusted')
      this.seen = newUrlSeenFilter(Math.min(BLOOM_CAPACITY, row.config.maxPages));
    // MUTANT counters-reset-on-resume, restart-counts-all-stored, disallowed-left-queued, commit-decisions-retried,
    // budget-off-by-one, budget-one-short: the job's start broken (mutants-crawler.ts).
    this.counts = mutant ? mutated.startingCounts(mutant, counts) : counts;
    if (mutant === 'disallowed-left-queued') this.store = mutated.frontierKeptStore(store);
    if (mutant === 'commit-decisions-retried')
      [this.stored, this.recordGroup] = mutated.commitRetriedWhole(this.stored.bind(this), this.recordGroup.bind(this));
    this.launched = this.counts.fetched + mutated.budgetSkew(mutant);
  }

  /** The job as its stored state has it: the counts, the seen set (into the Bloom filter) and the frontier. */
  static async open(
    row: JobRow,
    store: CrawlStore,
    mutant: MutantName | undefined,
    log: (msg: string) => void,
  ): Promise<CrawlJob> {
    const job = new CrawlJob(row, store, mutant, log, await store.counts(row.id));
    // MUTANT resume-refetches: the seen set is forgotten at start, and the crawl starts again from the seeds.
    if (mutant === 'resume-refetches' && job.counts.fetched > 0) {
      await store.forgetSeen(row.id);
      for (const s of row.config.seeds) job.frontier.push({ url: s, depth: 0 });
    }
    for (const u of await store.seenUrls(row.id)) job.seen.add(u);
    // MUTANT stopped-frontier-not-loaded: a stopped job's frontier is not loaded (resumed, it ends done at once).
    if (mutant !== 'stopped-frontier-not-loaded' || row.state === 'running')
      for (const u of await store.frontier(row.id)) job.frontier.push(u);
    return job;
  }

  /** A job just created, as createJob stores it: nothing is read back, so no store call follows its commit. */
  static created(row: JobRow, seeds: readonly QueuedUrl[], ...wiring: Wiring): CrawlJob {
    const job = new CrawlJob(row, ...wiring, { fetched: 0, stored: 0, duplicates: 0, skipped: 0, failed: 0 });
    for (const s of seeds) job.seen.add(s.url);
    for (const s of seeds) job.frontier.push(s);
    return job;
  }

  /** Whether the store holds this job, asked until it answers (a create unanswered may have committed). */
  isStored(): Promise<boolean> {
    return this.stored(() => this.store.hasJob(this.row.id));
  }

  /**
   * URL seen: the Bloom filter answers "new" for sure; its "maybe" is confirmed by the stored set (asked once for the
   * group, view.seen), and a URL an earlier fetch of the group queues is seen too (view.seen, not yet in the filter).
   */
  private unseen(urls: readonly string[], view: GroupView): string[] {
    if (this.mutant === 'url-seen-off') return [...urls]; // MUTANT url-seen-off
    // MUTANT bloom-positives-trusted: a "maybe" is taken as seen without asking the stored set.
    if (this.mutant === 'bloom-positives-trusted') return urls.filter((u) => !this.seen.has(u) && !view.seen.has(u));
    return urls.filter((u) => !view.seen.has(u));
  }

  /** What the decisions of a group read from the store, asked once for the whole group. */
  private async groupView(fetches: readonly Fetch[]): Promise<GroupView> {
    const hashes = new Set<string>();
    for (const f of fetches)
      if (f.page.outcome === 'stored' && f.page.contentHash !== null) hashes.add(f.page.contentHash);
    const maybe = [...new Set(fetches.flatMap((f) => f.page.links))].filter((u) => this.seen.has(u));
    const owners =
      hashes.size > 0 ? await this.stored(() => this.store.contentOwners(this.row.id, [...hashes])) : new Map();
    const seen = maybe.length > 0 ? await this.stored(() => this.store.seenOf(this.row.id, maybe)) : new Set<string>();
    return { owners, seen };
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Ends the loop without waiting (the process is closing; the state stays stored). */
  stop(): void {
    this.stopped = true;
    this.closing = true;
    this.notify();
  }

  /**
   * A store call, tried again until it answers: a store that cannot be reached (PostgreSQL restarting) holds the job,
   * nothing new starts meanwhile, and no fetch is lost or counted unrecorded. Only a closing process gives up (the
   * URL then stays in the stored frontier for the next start). Each call is safe to repeat: reads, and a record of a
   * fetch whose first try may have committed unacknowledged (its inserts skip what is there).
   */
  private async stored<T>(fn: () => Promise<T>): Promise<T> {
    // MUTANT store-error-drops-fetch: one try; the caller logs the failure and the fetch is dropped.
    if (this.mutant === 'store-error-drops-fetch') return fn();
    for (let wait = STORE_RETRY_FIRST_MS; ; wait = Math.min(2 * wait, STORE_RETRY_MAX_MS)) {
      try {
        const result = await fn();
        if (this.storeDown) {
          this.storeDown = false;
          this.log(`crawl ${this.row.id}: the store answers again; the crawl goes on`);
          this.notify();
        }
        return result;
      } catch (e) {
        if (this.closing) throw e;
        if (!this.storeDown)
          this.log(`crawl ${this.row.id}: the store failed, waiting for it: ${(e as Error).message}`);
        this.storeDown = true;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Starts the loop (a new job, one resumed after a restart, or one resumed by API). */
  start(): Promise<void> {
    this.stopped = false;
    this.loop = this.run();
    return this.loop;
  }

  /** stopCrawl: ends the loop and waits until the fetches in flight have ended and are recorded. */
  async pause(): Promise<void> {
    if (this.mutant === 'stop-ignored') return; // MUTANT stop-ignored: the loop is never told.
    this.stopped = true;
    this.notify();
    // MUTANT resume-fresh-frontier: once the loop has ended, the frontier rebuilt from the stored one.
    if (this.mutant === 'resume-fresh-frontier')
      this.loop = this.loop.then(async () => {
        (this as { frontier: Frontier }).frontier = await mutated.storedFrontier(this.store, this.row.id);
      });
    await this.loop;
  }

  /** resumeCrawl: the loop again from the frontier in memory (the stored one, as after a restart). */
  async resume(): Promise<void> {
    // MUTANT resume-restarts: resuming forgets what was seen and starts again from the seeds.
    if (this.mutant === 'resume-restarts') {
      await this.store.forgetSeen(this.row.id);
      this.seen = newUrlSeenFilter();
      for (const s of this.row.config.seeds) this.frontier.push({ url: s, depth: 0 });
    }
    void this.start();
  }

  private async run(): Promise<void> {
    const cfg = this.row.config;
    while (!this.stopped) {
      const budgetLeft = this.launched < cfg.maxPages;
      if ((!budgetLeft || this.frontier.size === 0) && this.inFlight === 0) break;
      // MUTANT fetches-while-store-down: a store away holds nothing (new fetches start, their records wait).
      const holding = this.storeDown && this.mutant !== 'fetches-while-store-down';
      const next =
        budgetLeft && this.inFlight < MAX_IN_FLIGHT && !holding ? this.frontier.take(performance.now()) : null;
      if (next) {
        this.inFlight++;
        void this.visit(next.host, next.item)
          // Only when closing (a store call gave up): the URL stays in the stored frontier for the next start.
          .catch((e: unknown) =>
            this.log(`crawl ${this.row.id}: ${next.item.url} not recorded: ${(e as Error).message}`),
          )
          .finally(() => {
            this.inFlight--;
            this.notify();
          });
        continue;
      }
      // Nothing to start now: wait for a fetch to end or the soonest host to come off its delay (or, the store
      // away, for it to answer again). With every slot taken only a fetch ending can start another: no timer, which
      // would otherwise fire every millisecond while a host is ready and starve the event loop the store answers on.
      const full = this.inFlight >= MAX_IN_FLIGHT;
      const readyIn = holding || full ? Number.POSITIVE_INFINITY : this.frontier.nextReadyAt() - performance.now();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (Number.isFinite(readyIn)) setTimeout(() => this.notify(), Math.max(1, Math.ceil(readyIn)));
      });
    }
    if (this.stopped) {
      // Stopped: nothing new starts; the fetches in flight end (each within fetchTimeoutMs) and are recorded.
      while (this.inFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
      await this.records.idle();
      return;
    }
    await this.records.idle();
    await this.stored(() => this.store.finish(this.row.id));
    this.row.state = 'done';
    // Done is final, so nothing waits to be fetched: finish() dropped the stored frontier, this drops what a spent
    // budget left queued. MUTANT done-frontier-kept: kept, so progress.frontier counts URLs never to be fetched.
    if (this.mutant !== 'done-frontier-kept') this.frontier.clear();
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
        const answered = await fetchUrl(robotsUrl, opts);
        // MUTANT robots-5xx-allowed: a 5xx answer is read as a 404 (no robots.txt, so no rules).
        const r =
          this.mutant === 'robots-5xx-allowed' && answered.status >= 500 ? { ...answered, status: 404 } : answered;
        // 2xx: the rules; 4xx: no rules; 5xx: the host is not crawled (RFC 9309 2.3.1.4: a complete disallow).
        h.robots =
          r.status >= 200 && r.status < 300
            ? robotsParser(robotsUrl, r.body.toString('utf8'))
            : r.status >= 500
              ? robotsParser(robotsUrl, 'User-agent: *\nDisallow: /\n')
              : null;
      } catch {
        h.robots = robotsParser(robotsUrl, 'User-agent: *\nDisallow: /\n');
      }
      this.frontier.push(item, true);
      // MUTANT robots-no-delay: robots.txt taken as no request, so the host's first page follows it at once.
      this.frontier.release(host, performance.now(), this.mutant === 'robots-no-delay' ? 0 : cfg.politenessDelayMs);
      return;
    }
    if (h.robots?.isDisallowed(item.url, cfg.userAgent)) {
      // A URL robots.txt forbids leaves the frontier unfetched; it is not a page, so it is not listed.
      await this.stored(() => this.store.dropQueued(this.row.id, item.url));
      this.frontier.release(host, performance.now(), 0);
      return;
    }
    this.launched++;
    const fetched = await this.download(item);
    const now = performance.now();
    // Counted, its links queued and its host released once its record's commit is acknowledged.
    await this.records.submit({ item, ...fetched });
    // MUTANT no-delay-after-timeout: a fetch that got no answer (timed out) frees its host at once.
    const gaveUp = this.mutant === 'no-delay-after-timeout' && fetched.page.status === 0;
    this.frontier.release(host, now, gaveUp ? 0 : cfg.politenessDelayMs);
  }

  /**
   * A group of fetches (those that ended while the previous group's commit was in flight): decided one by one in the
   * order they ended, recorded in one transaction, and only then counted and their links queued. The decisions are
   * made once; only the record is tried again (so a retry cannot undo them).
   */
  private async recordGroup(fetches: readonly Fetch[]): Promise<void> {
    // MUTANT error-status-skipped, empty-content-unrecorded, redirect-same-depth, url-length-exclusive,
    // url-length-unchecked, base-from-any-href, entities-not-decoded: the fetch misread (mutants-crawler.ts).
    const mutant = this.mutant;
    const read = mutant ? fetches.map((f) => mutated.misreadFetch(mutant, f, this.row.config)) : fetches;
    const view = await this.groupView(read);
    const decided = read.map((f) => this.commit(f, view));
    await this.stored(() => this.store.recordFetches(this.row.id, decided));
    for (const { page, added } of decided) {
      for (const a of added) {
        this.seen.add(a.url);
        this.frontier.push(a);
      }
      this.counts.fetched++;
      if (page.outcome === 'stored') this.counts.stored++;
      else if (page.outcome === 'duplicate') this.counts.duplicates++;
      else if (page.outcome === 'skipped') this.counts.skipped++;
      else this.counts.failed++;
    }
  }

  /** Content seen, URL filter and URL seen of one fetch of a group: what it records and the URLs it adds. */
  private commit({ item, page: fetchedPage, html: fetchedHtml }: Fetch, view: GroupView): FetchRecord {
    const cfg = this.row.config;
    let page = fetchedPage;
    let html = fetchedHtml;
    // Content seen: a page whose SHA-256 is stored is a duplicate, neither stored nor followed.
    if (page.outcome === 'stored' && page.contentHash !== null && this.mutant !== 'no-content-dedup') {
      // MUTANT no-content-dedup: the condition above never asks the stored contents.
      const hash = page.contentHash;
      // MUTANT content-seen-decoded: content seen asked by the hash of the body decoded as UTF-8 (the pages stored by
      // this run), while the page still reports the hash of its bytes.
      const key =
        this.mutant === 'content-seen-decoded' && html !== null
          ? createHash('sha256').update(html.toString('utf8')).digest('hex')
          : null;
      // MUTANT content-seen-in-memory: content seen asked of the hashes this process stored, never of the store.
      const owner =
        (key !== null ? this.decodedSeen.get(key) : undefined) ??
        (this.mutant === 'content-seen-in-memory'
          ? (this.storedHere.get(hash) ?? null)
          : (view.owners.get(hash) ?? null));
      if (key !== null && owner === null) this.decodedSeen.set(key, page.url);
      if (owner !== null) {
        page = { ...page, outcome: 'duplicate', duplicateOf: owner, links: [] };
        html = null;
      }
    }
    let added: QueuedUrl[] = [];
    // maxDepth bounds spider traps: a page at maxDepth is kept, its links are not followed.
    if (
      item.depth < cfg.maxDepth ||
      this.mutant === 'no-trap-limit' ||
      (this.mutant === 'depth-limit-inclusive' && item.depth === cfg.maxDepth)
    ) {
      // MUTANT no-trap-limit: the condition above lets every depth through.
      const fresh = this.unseen([...new Set(page.links)], view);
      added = fresh.map((url) => ({ url, depth: item.depth + 1 }));
      for (const a of added) view.seen.add(a.url);
    }
    const record = page;
    // A content this page stores is content seen for the group's later fetches.
    if (record.outcome === 'stored' && record.contentHash !== null && !view.owners.has(record.contentHash))
      view.owners.set(record.contentHash, record.url);
    if (this.mutant === 'content-seen-in-memory' && record.outcome === 'stored' && record.contentHash !== null)
      this.storedHere.set(record.contentHash, record.url);
    // MUTANT content-stored-decoded, content-nul-truncated, content-bom-dropped, content-transcoded: other bytes
    // stored than served (mutants-crawler.ts).
    if (html !== null && this.mutant) html = mutated.misstoredContent(this.mutant, html, record.contentType);
    // MUTANT content-as-text: the content handed to the store as text decoded from UTF-8 (as before bytea): PostgreSQL
    // refuses a NUL byte in it, so the record of such a page fails and is tried again forever.
    const content = this.mutant === 'content-as-text' && html !== null ? html.toString('utf8') : html;
    return { page: record, html: content, added };
  }

  private async download(item: QueuedUrl): Promise<{ page: PageRecord; html: Buffer | null }> {
    const cfg = this.row.config;
    // MUTANT frontier-dropped-at-take: the URL leaves the stored frontier when it is handed out, before its record.
    if (this.mutant === 'frontier-dropped-at-take')
      await this.stored(() => this.store.dropQueued(this.row.id, item.url));
    const base = { url: item.url, depth: item.depth, fetchedAt: new Date().toISOString() };
    try {
      const r = await fetchUrl(item.url, {
        userAgent: cfg.userAgent,
        timeoutMs: this.mutant === 'no-fetch-timeout' ? 3_600_000 : cfg.fetchTimeoutMs, // MUTANT no-fetch-timeout
        resolve: cfg.resolve,
      });
      const common = { ...base, status: r.status, contentType: r.contentType, contentHash: null, duplicateOf: null };
      // MUTANT location-always-redirect: a 2xx answer with a Location header read as a redirect to it.
      if (this.mutant === 'location-always-redirect' && r.status < 300 && r.location !== null) {
        const to = normalise(r.location, item.url, cfg.allowedDomains);
        return { page: { ...common, outcome: 'skipped', links: to ? [to] : [] }, html: null };
      }
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
      // The links are read from the body decoded as UTF-8 (an invalid sequence becomes U+FFFD, which no URL needs).
      // MUTANT links-decoded-latin1: the body (so its links) decoded as latin1, not as UTF-8.
      const text = r.body.toString(this.mutant === 'links-decoded-latin1' ? 'latin1' : 'utf8');
      // The content's fingerprint, the SHA-256 of the body's bytes as served; whether it was seen is decided in commit().
      // MUTANT content-hash-normalised: over the text with whitespace collapsed. MUTANT content-hash-decoded: over
      // the decoded text (bytes that are not UTF-8 become U+FFFD, so two such pages may share a hash).
      const hashed =
        this.mutant === 'content-hash-normalised'
          ? text.replace(/\s+/g, ' ').trim()
          : this.mutant === 'content-hash-decoded'
            ? text
            : r.body;
      const hash = createHash('sha256').update(hashed).digest('hex');
      const links = pageLinks(text, item.url, cfg.allowedDomains, this.mutant === 'wrong-base'); // MUTANT wrong-base
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

/**
 * What a group's decisions see: the store's answers for the whole group (content hash -> its stored page; the Bloom
 * filter's "maybe"s the stored set confirms), then what the group's earlier fetches store and queue.
 */
interface GroupView {
  owners: Map<string, string>;
  seen: Set<string>;
}

/** What a job runs with besides its row: its store, the mutant selected (if any) and the log. */
type Wiring = [store: CrawlStore, mutant: MutantName | undefined, log: (msg: string) => void];
