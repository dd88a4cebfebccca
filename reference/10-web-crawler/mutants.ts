// Deliberately broken variants of the reference, one check each (IDs from specs/10-web-crawler/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
export const MUTANTS = [
  { name: 'health-plain-text', breaks: 'WC-C1', description: 'readiness answers text/plain "ok", not the Health body' },
  {
    name: 'limit-ignored',
    breaks: 'WC-C2',
    description: 'listing pages ignores limit: every page at once, next always null',
  },
  {
    name: 'unvalidated-input',
    breaks: 'WC-I1',
    description: "startCrawl reaches its handler without the spec's validation",
  },
  { name: 'robots-ignored', breaks: 'WC-I2', description: 'robots.txt is never fetched nor obeyed' },
  {
    name: 'two-per-host',
    breaks: 'WC-I3',
    description: 'a host back queue hands out two URLs at a time: two requests in flight to one host',
  },
  {
    name: 'no-delay-after-timeout',
    breaks: 'WC-I3',
    description: 'a fetch the crawler gave up on (timed out) frees its host at once: no politeness delay after it',
  },
  {
    name: 'url-seen-off',
    breaks: 'WC-I4',
    description: 'URL seen is not consulted: a URL linked from several pages is fetched again each time',
  },
  {
    name: 'no-content-dedup',
    breaks: 'WC-I5',
    description: 'content seen is not consulted: the same content under another URL is stored again',
  },
  { name: 'no-trap-limit', breaks: 'WC-I6', description: 'maxDepth is not applied: links of every depth are followed' },
  {
    name: 'wrong-base',
    breaks: 'WC-I7',
    description: 'relative links are resolved against the site root, not the page URL or its <base href>',
  },
  {
    name: 'no-fetch-timeout',
    breaks: 'WC-I7',
    description: 'fetches have no short timeout: a hanging host holds the crawl so it never ends',
  },
  {
    name: 'content-hash-normalised',
    breaks: 'WC-I5',
    description: 'the content hash is taken over the body with whitespace collapsed, not over the body as served',
  },
  {
    name: 'depth-limit-inclusive',
    breaks: 'WC-I6',
    description: 'links of a page at maxDepth are followed too, so a trap gets one request more than maxDepth allows',
  },
  {
    name: 'content-hash-decoded',
    breaks: 'WC-I5',
    description:
      'the content hash is taken over the body decoded as UTF-8 (invalid bytes become U+FFFD), not over its bytes as served',
  },
  {
    name: 'content-seen-decoded',
    breaks: 'WC-I5',
    description:
      'content seen is asked by the hash of the body decoded as UTF-8 (the page still reports the hash of its bytes): the two pages that differ only in an invalid byte are one content',
  },
  {
    name: 'empty-content-unrecorded',
    breaks: 'WC-I5',
    description:
      'the content of an empty HTML body is not recorded (only a non-empty one is), so a second empty page is stored again, not a duplicate',
  },
  {
    name: 'links-decoded-latin1',
    breaks: 'WC-I7',
    description:
      'links are read from the body decoded as latin1, not UTF-8, so a link with a non-ASCII character is followed as another URL',
  },
  {
    name: 'content-as-text',
    breaks: 'WC-I7',
    description:
      'page contents are stored as text decoded from UTF-8: PostgreSQL refuses a page with a NUL byte, its record is tried again forever and the job never ends',
  },
  { name: 'seeds-at-depth-one', breaks: 'WC-I6', description: 'seeds are queued at depth 1, not 0' },
  {
    name: 'text-types-as-html',
    breaks: 'WC-I7',
    description: 'every text/* response (text/plain included) is parsed and stored as HTML',
  },
  {
    name: 'redirect-unfiltered',
    breaks: 'WC-I7',
    description: "a redirect's Location is resolved but not filtered, so a redirect leads outside the allowed domains",
  },
  {
    name: 'counters-reset-on-resume',
    breaks: 'WC-F1',
    description: "after a restart a resumed job's progress counters (and page budget) start again from 0",
  },
  {
    name: 'max-depth-zero-default',
    breaks: 'WC-C2',
    description: 'maxDepth 0 (seeds only) is read as not given and replaced by the default 16',
  },
  {
    name: 'allowed-domains-first-seed',
    breaks: 'WC-C2',
    description: "without allowedDomains only the first seed's host is allowed (422 for a second seed's host)",
  },
  {
    name: 'bloom-positives-trusted',
    breaks: 'WC-I9',
    description:
      'the URL-seen filter is sized for maxPages and its positives are not confirmed: once a job has found more URLs than that, new pages are taken as seen',
  },
  {
    name: 'robots-no-delay',
    breaks: 'WC-I3',
    description: "the host's first page is requested right after its robots.txt answer, without the politeness delay",
  },
  {
    name: 'robots-5xx-allowed',
    breaks: 'WC-I2',
    description: 'a robots.txt answered 5xx is read as no robots.txt (no rules), so the host is crawled in full',
  },
  {
    name: 'url-length-exclusive',
    breaks: 'WC-I7',
    description: 'the URL filter drops a URL of exactly 2048 characters (< instead of <=)',
  },
  {
    name: 'url-length-unchecked',
    breaks: 'WC-I7',
    description: 'the URL filter has no length limit: a linked URL longer than 2048 characters is fetched',
  },
  {
    name: 'budget-off-by-one',
    breaks: 'WC-I9',
    description: 'the job makes maxPages + 1 fetches (<= instead of <)',
  },
  {
    name: 'budget-one-short',
    breaks: 'WC-I9',
    description: 'the job ends done one fetch before its maxPages (the budget counted from 1)',
  },
  {
    name: 'resume-refetches',
    breaks: 'WC-F1',
    description: 'on restart the seen set is forgotten and the crawl starts over from the seeds',
  },
  {
    name: 'transition-unchecked',
    breaks: 'WC-C3',
    description: 'stop and resume are accepted from any state: a done job can be resumed, a stopped one stopped again',
  },
  {
    name: 'unknown-as-conflict',
    breaks: 'WC-C3',
    description: 'stop and resume of an unknown job answer 409 (wrong state) instead of 404 crawl_not_found',
  },
  {
    name: 'stop-ignored',
    breaks: 'WC-I8',
    description: 'stopCrawl records the job as stopped but its loop goes on fetching',
  },
  {
    name: 'resume-restarts',
    breaks: 'WC-I8',
    description: 'resumeCrawl forgets the URLs seen and starts again from the seeds, refetching what was stored',
  },
  {
    name: 'store-error-drops-fetch',
    breaks: 'WC-F2',
    description:
      'a fetch whose record the store refuses (PostgreSQL away) is logged and dropped: its URL is left only in the stored frontier, so the running job never fetches it again (and its host stays busy)',
  },
  {
    name: 'db-loss-answers-500',
    breaks: 'WC-F2',
    description: 'a lost PostgreSQL connection escapes startCrawl and listPages as a 500, not as 503 unavailable',
  },
  {
    name: 'stop-stored-after-pause',
    breaks: 'WC-F2',
    description:
      'stopCrawl stops the job in memory before storing it, so a stop answered 503 (PostgreSQL away) leaves the job stopped',
  },
  {
    name: 'stop-answers-early',
    breaks: 'WC-F3',
    description: 'stopCrawl answers without waiting for the fetches in flight to end and be recorded',
  },
  {
    name: 'stop-not-stored',
    breaks: 'WC-F3',
    description: 'stopCrawl stops the job in memory only, so after a restart the stopped job runs again',
  },
  {
    name: 'resume-not-stored',
    breaks: 'WC-F3',
    description: 'resumeCrawl resumes the job in memory only, so after a restart the resumed job is stopped again',
  },
  {
    name: 'stopped-job-runs-after-restart',
    breaks: 'WC-F3',
    description: 'at start every job not done is started, so a stopped job fetches again after a restart',
  },
  {
    name: 'done-jobs-not-reloaded',
    breaks: 'WC-F3',
    description: 'at start done jobs are not loaded, so after a restart a done job is 404',
  },
  {
    name: 'stopped-frontier-not-loaded',
    breaks: 'WC-F3',
    description: "at start a stopped job's frontier is not loaded, so resumed after a restart it ends done at once",
  },
  {
    name: 'frontier-dropped-at-take',
    breaks: 'WC-F1',
    description:
      'a URL leaves the stored frontier when it is handed out, before its fetch is recorded, so a kill -9 mid-fetch loses it',
  },
  {
    name: 'content-seen-in-memory',
    breaks: 'WC-F1',
    description:
      'content seen is answered from the hashes this process stored, never from the store, so after a restart a content stored before is stored again',
  },
  {
    name: 'fetches-while-store-down',
    breaks: 'WC-F2',
    description:
      'while the store does not answer the job keeps starting new fetches (their records wait for it), instead of waiting for it',
  },
  {
    name: 'content-stored-decoded',
    breaks: 'WC-I10',
    description:
      'the content is stored as the body decoded as UTF-8 and encoded again, so bytes that are not UTF-8 come back as EF BF BD (the hash is still of the bytes served)',
  },
  {
    name: 'content-nul-truncated',
    breaks: 'WC-I10',
    description: 'the content is stored up to its first NUL byte, as a C string would keep it',
  },
  {
    name: 'contents-any-crawl',
    breaks: 'WC-I10',
    description:
      'getContent looks a content up by its hash alone, so a content another job stored is served for this one',
  },
  {
    name: 'content-type-essence',
    breaks: 'WC-I10',
    description:
      'getContent serves the recorded media type without its parameters (text/html, the charset dropped), not the Content-Type recorded for the page',
  },
  {
    name: 'content-transcoded',
    breaks: 'WC-I10',
    description:
      'a page served in a charset other than UTF-8 is stored transcoded to UTF-8 (the hash still of the bytes served), so getContent serves other bytes than the web sent',
  },
  {
    name: 'content-bom-dropped',
    breaks: 'WC-I10',
    description: 'the content is stored without a leading UTF-8 byte order mark, 3 bytes fewer than the page served',
  },
  {
    name: 'content-store-error-not-found',
    breaks: 'WC-F2',
    description:
      'getContent takes any store error for "no such content": while PostgreSQL is down a stored content answers 404 content_not_found, not 503 unavailable',
  },
  {
    name: 'error-status-skipped',
    breaks: 'WC-I7',
    description:
      'a 4xx/5xx answer is recorded as skipped (read on like a 2xx of another content type) and counted so, not failed',
  },
  {
    name: 'base-from-any-href',
    breaks: 'WC-I7',
    description:
      "relative links resolve against the href of any element that is not a link (a stylesheet's `<link>`, a second `<base>`), not the first `<base href>`",
  },
  {
    name: 'disallowed-left-queued',
    breaks: 'WC-F3',
    description:
      'a URL robots.txt forbids leaves the frontier in memory only: after a restart the stored frontier holds it again, so a stopped job shows another progress.frontier than its stop answered',
  },
  {
    name: 'location-always-redirect',
    breaks: 'WC-I7',
    description:
      'a 2xx HTML page sent with a Location header is read as a redirect to it (skipped, its Location its one link), not as a page',
  },
  {
    name: 'entities-not-decoded',
    breaks: 'WC-I7',
    description:
      'hrefs are taken as written: a link to /fish&amp;chips.html is followed to that path, not to /fish&chips.html',
  },
  {
    name: 'restart-counts-all-stored',
    breaks: 'WC-F3',
    description:
      'the progress read back at start counts every page as stored (no duplicates, skipped or failed): a stopped job shows other counts after a restart than its stop answered',
  },
  {
    name: 'tx-on-pool',
    breaks: 'WC-F4',
    description:
      "PostgreSQL only: a transaction's BEGIN, statements and COMMIT each go through the pool on whichever connection is free, so with many reads in flight a fetch's record splits over connections (rows seen, then gone; a job that never ends done)",
  },
  {
    name: 'listing-kept-when-stopped',
    breaks: 'WC-I8',
    description:
      'listPages answers of a job that is not running are kept and served again, so once a stopped job is resumed the same listing still answers the pages of the stop (blind bug stopped-listing-kept)',
  },
  {
    name: 'content-after-page-tx',
    breaks: 'WC-F5',
    description:
      "PostgreSQL only: a stored page's content is written after the transaction that records the page, so a record whose COMMIT answer is lost (and the crawler killed before it tries again) leaves a listed page whose content is never stored (blind bug content-stored-after-page)",
  },
  {
    name: 'redirect-same-depth',
    breaks: 'WC-I6',
    description:
      "a redirect's target is queued at the redirecting page's depth, not one link deeper, so a page behind a redirect is listed at a depth no page links it from (blind bug redirect-same-depth)",
  },
  {
    name: 'resume-fresh-frontier',
    breaks: 'WC-I8',
    description:
      "resumeCrawl rebuilds the frontier from the stored one, as after a restart, forgetting each host's robots.txt (asked again after the resume) and the time of its last response (blind bug resume-fresh-frontier)",
  },
  {
    name: 'commit-decisions-retried',
    breaks: 'WC-F5',
    description:
      "PostgreSQL only: a failed commit is tried again as a whole (content seen and URL seen asked again), so after a COMMIT whose answer was lost the retry finds the page's own content and links: the page is counted a duplicate and its links are never queued in memory (blind bug commit-decisions-retried)",
  },
  {
    name: 'done-frontier-kept',
    breaks: 'WC-I9',
    description:
      'a job done with its page budget spent keeps the URLs left queued in memory, so its progress.frontier counts URLs that will never be fetched (until a restart reads the emptied stored frontier)',
  },
  {
    name: 'created-job-left-idle',
    breaks: 'WC-F5',
    description:
      'PostgreSQL only: startCrawl as before the fix, the job read back after its commit outside the store retry and a create that failed never looked at again, so a 503 (a lost COMMIT answer, or a blip after the commit) leaves a stored job that runs only after a restart',
  },
] as const satisfies readonly { name: string; breaks: string; description: string }[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);

/**
 * Mutants that show only when the store is PostgreSQL (the harness marks them `needs`): one it can take away, or one
 * that refuses what SQLite takes (a NUL byte in text).
 */
export const NEEDS_POSTGRES: readonly MutantName[] = [
  'store-error-drops-fetch',
  'db-loss-answers-500',
  'stop-stored-after-pause',
  'content-as-text',
  'fetches-while-store-down',
  'content-store-error-not-found',
  'tx-on-pool',
  'content-after-page-tx',
  'commit-decisions-retried',
  'created-job-left-idle',
];
