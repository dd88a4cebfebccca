// The crawl job's mutants (mutants.ts lists them all) that take more than a condition where they act: each takes what
// the reference has at that point and gives the broken variant, so crawler.ts keeps one marked line per hook.
import { Frontier } from './frontier.ts';
import { pageLinks } from './links.ts';
import type { MutantName } from './mutants.ts';
import type { Counts, CrawlStore, JobConfig, PageRecord, QueuedUrl } from './store.ts';

/**
 * The counts a job starts from. MUTANT counters-reset-on-resume: a resumed job counts (and spends its budget) from 0
 * again. MUTANT restart-counts-all-stored: the counts read back at start take every page for a stored one.
 */
export function startingCounts(mutant: MutantName, counts: Counts): Counts {
  if (mutant === 'counters-reset-on-resume') return { fetched: 0, stored: 0, duplicates: 0, skipped: 0, failed: 0 };
  if (mutant === 'restart-counts-all-stored')
    return { fetched: counts.fetched, stored: counts.fetched, duplicates: 0, skipped: 0, failed: 0 };
  return counts;
}

/**
 * Fetches counted before the first. MUTANT budget-off-by-one: the budget starts one fetch short of spent, so the job
 * makes maxPages + 1 fetches. MUTANT budget-one-short: it starts one fetch over, so the job ends done a fetch early.
 */
export function budgetSkew(mutant: MutantName | undefined): number {
  return mutant === 'budget-off-by-one' ? -1 : mutant === 'budget-one-short' ? 1 : 0;
}

/** MUTANT disallowed-left-queued: a URL robots.txt forbids leaves the frontier in memory only, never the stored one. */
export function frontierKeptStore(store: CrawlStore): CrawlStore {
  return Object.assign(Object.create(store) as CrawlStore, { dropQueued: async () => undefined });
}

type Stored = <T>(fn: () => Promise<T>) => Promise<T>;
type Commit = (group: readonly Fetch[]) => Promise<void>;

/**
 * MUTANT commit-decisions-retried: a failed commit tried again as a whole (content seen and URL seen asked again): the
 * store calls inside a commit fail through to it, and the whole commit is tried again. The job's stored and commit.
 */
export function commitRetriedWhole(stored: Stored, commit: Commit): [Stored, Commit] {
  let whole = 0;
  return [
    <T>(fn: () => Promise<T>): Promise<T> => (whole > 0 ? fn() : stored(fn)),
    (group) =>
      stored(async () => {
        whole++;
        try {
          return await commit(group);
        } finally {
          whole--;
        }
      }),
  ];
}

/** MUTANT resume-fresh-frontier: the frontier rebuilt from the stored one, each host's robots.txt and delay forgotten. */
export async function storedFrontier(store: CrawlStore, job: string): Promise<Frontier> {
  const frontier = new Frontier(1);
  for (const u of await store.frontier(job)) frontier.push(u);
  return frontier;
}

/** A fetch as commit() decides on it. */
export interface Fetch {
  item: QueuedUrl;
  page: PageRecord;
  html: Buffer | null;
}

/** The fetch read otherwise before commit() decides on it (the mutants below; any other: as it is). */
export function misreadFetch(mutant: MutantName, f: Fetch, cfg: JobConfig): Fetch {
  let { item, page, html } = f;
  // MUTANT error-status-skipped: a 4xx/5xx answer recorded as skipped (read on like a 2xx of another type), not failed.
  if (mutant === 'error-status-skipped' && page.status >= 400) page = { ...page, outcome: 'skipped' };
  // MUTANT empty-content-unrecorded: an empty body's content is not handed to the store (so it is never seen).
  if (mutant === 'empty-content-unrecorded' && html?.length === 0) html = null;
  // MUTANT redirect-same-depth: a redirect's target queued at the redirecting page's depth, not one link deeper.
  if (mutant === 'redirect-same-depth' && page.status >= 300 && page.status < 400)
    item = { ...item, depth: item.depth - 1 };
  // MUTANT url-length-exclusive, url-length-unchecked: the page's links taken again with the length limit moved.
  // MUTANT base-from-any-href, entities-not-decoded: the links taken again with another base rule, entities kept.
  if (
    (mutant === 'url-length-exclusive' ||
      mutant === 'url-length-unchecked' ||
      mutant === 'base-from-any-href' ||
      mutant === 'entities-not-decoded') &&
    html !== null
  )
    page = { ...page, links: pageLinks(html.toString('utf8'), item.url, cfg.allowedDomains, false, mutant) };
  return { item, page, html };
}

/** The content handed to the store, other bytes than served (the mutants below; any other: as it is). */
export function misstoredContent(mutant: MutantName, html: Buffer, contentType: string | null): Buffer {
  // MUTANT content-stored-decoded: the content stored as the body decoded as UTF-8 and encoded again (invalid bytes
  // become EF BF BD).
  if (mutant === 'content-stored-decoded') return Buffer.from(html.toString('utf8'), 'utf8');
  // MUTANT content-nul-truncated: the content stored up to its first NUL byte.
  if (mutant === 'content-nul-truncated' && html.includes(0)) return html.subarray(0, html.indexOf(0));
  // MUTANT content-bom-dropped: the content stored without a leading UTF-8 byte order mark.
  if (mutant === 'content-bom-dropped' && html.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])))
    return html.subarray(3);
  // MUTANT content-transcoded: a page in another charset than UTF-8 stored transcoded to UTF-8.
  const charset = /;\s*charset="?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (mutant === 'content-transcoded' && charset && !/^utf-?8$/.test(charset))
    return Buffer.from(new TextDecoder(charset).decode(html), 'utf8');
  return html;
}
