// Deliberately broken variants of the reference, one check each (IDs from specs/09-url-shortener/catalog.yaml).
// MUTANT=<name> selects one; the code that breaks sits at the place the broken thing lives, in an
// `if (mutant === '<name>')` marked `MUTANT <name>`. The harness self-test must catch every one of them.
export interface Mutant {
  name: string;
  /** The catalog check that must fail against this mutant. */
  breaks: string;
  description: string;
}

export const MUTANTS = [
  {
    name: 'normalised-location',
    breaks: 'URL-I1',
    description:
      'Location is new URL(longUrl).href: lower-cases the scheme and host, adds a trailing slash, re-encodes',
  },
  { name: 'no-dedup', breaks: 'URL-I2', description: 'every shorten creates a new code, even for a known long URL' },
  {
    name: 'racy-dedup',
    breaks: 'URL-F2',
    description: 'check-then-insert with an await between and no unique index: concurrent retries create two codes',
  },
  {
    name: 'truncated-hash',
    breaks: 'URL-I3',
    description:
      'code = 2 base62 chars of a hash of the URL, overwriting on collision (hash without collision resolution)',
  },
  {
    name: 'snowflake-codes',
    breaks: 'URL-I4',
    description: 'code = base62 of a Snowflake-style 64-bit ID: 11 characters instead of at most 7',
  },
  {
    name: 'case-insensitive-codes',
    breaks: 'URL-I5',
    description: 'codes are looked up ignoring case: "aB" finds the link of "Ab" (a case-insensitive collation)',
  },
  {
    name: 'codes-by-decoded-id',
    breaks: 'URL-I5',
    description:
      'SQLite looks a code up by its decoded base62 ID, so a never-issued code with leading zeros ("0b") redirects like "b" (blind bug lookup-by-decoded-id, b09)',
  },
  { name: 'unknown-redirects-home', breaks: 'URL-I5', description: 'an unknown code gets a 302 to the home page' },
  {
    name: 'unvalidated-url',
    breaks: 'URL-I6',
    description: 'trusts the schema pattern; new URL() throws on e.g. "https://[1:2]/" or "http://example.999/" -> 500',
  },
  { name: 'clicks-not-counted', breaks: 'URL-I7', description: 'redirects are served but never counted' },
  {
    name: 'clicks-overwritten',
    breaks: 'URL-I7',
    description: 'a redirect sets the pending count to 1 instead of adding 1: at most one click per flush interval',
  },
  {
    name: 'ack-before-write',
    breaks: 'URL-F1',
    description: 'acknowledges creates before they are committed: one open transaction, committed every 2 s',
  },
  {
    name: 'id-counter-restarts',
    breaks: 'URL-F1',
    description:
      'IDs come from a counter in memory that starts again at 1 after a restart, stored with INSERT OR REPLACE: ' +
      'links created after a crash take the codes of old ones',
  },
  { name: 'cache-required', breaks: 'URL-F3', description: 'when the cache errors, the redirect fails with 503' },
  // Found by a blind bug (fixtures/blind-bugs/09-url-shortener/redis-keys-not-namespaced.patch).
  {
    name: 'redis-waits-forever',
    breaks: 'URL-F3',
    description:
      'the Redis client has no command timeout: a Redis that is connected but answers nothing holds every redirect',
  },
  {
    name: 'cache-health-inverted',
    breaks: 'URL-F3',
    description: "readiness says the cache (Redis) is down while it answers: the breaker's test turned round",
  },
  {
    name: 'cache-keys-without-instance',
    breaks: 'URL-F6',
    description:
      "the Redis keys leave out the database's instance ID: on a new, empty database that issues the same codes " +
      'again, a Redis that outlived the old one redirects them to the old URLs',
  },
  {
    name: 'memory-only-store',
    breaks: 'URL-F4',
    description: 'ignores DATA_DIR and DATABASE_URL: an in-memory SQLite',
  },
  {
    name: 'create-before-validate',
    breaks: 'URL-C1',
    description: 'stores the link before the request is validated: a rejected request (an unknown property) leaves it',
  },
  { name: 'status-200-on-create', breaks: 'URL-C1', description: 'a new link is answered 200 instead of 201' },
  {
    name: 'dedup-key-normalised',
    breaks: 'URL-I3',
    description:
      'the dedup key drops trailing slashes: https://h/a/ gets the code (and URL) of https://h/a (blind bug)',
  },
  {
    name: 'clicks-lost-on-stop',
    breaks: 'URL-F4',
    description:
      "a graceful stop closes the store before the click counter's last flush: the last second of clicks is lost (blind bug)",
  },
  {
    name: 'click-counted-twice-on-miss',
    breaks: 'URL-F4',
    description:
      'a redirect answered from the database (a cache miss, as every first redirect after a restart is with the in-process cache) records its click twice (blind bug, b09)',
  },
  {
    name: 'clicks-flushed-only-on-stop',
    breaks: 'URL-F1',
    description:
      'pending clicks are written only on a graceful stop, never every second: a kill -9 loses every click since the start (StrykerJS survivor)',
  },
  {
    name: 'clicks-cleared-after-flush',
    breaks: 'URL-I7',
    description:
      'the click flush clears the pending map after a (slow) write, losing clicks recorded meanwhile (blind bug)',
  },
  {
    name: 'location-names-short-url',
    breaks: 'URL-C1',
    description: "the 201's Location is the short URL (/api/v1/{code}), not the link's metadata resource (blind bug)",
  },
  {
    name: 'short-url-from-host',
    breaks: 'URL-C1',
    description: "shortUrl is built from the client's Host header instead of the public base (blind bug)",
  },
  {
    name: 'db-errors-500',
    breaks: 'URL-F5',
    description:
      'PostgreSQL connection failures are rethrown as they are: with the database unreachable every request that needs it answers 500, not 503 (StrykerJS survivor: the SQLite guard, store-sqlite.ts:177)',
  },
  {
    name: 'unavailable-without-retry-after',
    breaks: 'URL-F5',
    description:
      'the 503 for an unreachable database has no Retry-After (StrykerJS survivor: store.ts:38, the options of StoreUnavailableError emptied)',
  },
  {
    name: 'clicks-dropped-on-db-error',
    breaks: 'URL-F5',
    description:
      'a click flush the database refuses is dropped instead of put back and retried: clicks served just before an outage are never counted (StrykerJS survivor: clicks.ts:48, the flush catch emptied)',
  },
  {
    name: 'clicks-read-during-flush',
    breaks: 'URL-F5',
    description:
      "link metadata answers a read at once, without settling a click batch in doubt or reading again when a flush started during it: after a failed write (PostgreSQL away) the batch's clicks (older than the one-second lag) vanish until the retry lands (StrykerJS survivor: clicks.ts:84, readExact's test made true)",
  },
  {
    name: 'click-batch-readded',
    breaks: 'URL-F5',
    description:
      "a click batch whose write failed is put back into pending and written later as a new batch: when the write landed but its answer was lost (PostgreSQL gone mid-flush) its clicks are counted twice (the reference's behaviour until CI run ci41)",
  },
  {
    name: 'click-retry-carries-newer',
    breaks: 'URL-F5',
    description:
      'a click batch in doubt is retried under its id with the clicks counted since merged into it: when its first write had landed the retry changes nothing and the newer clicks are lost (blind bug clicks-retry-merges-new, b09)',
  },
  {
    name: 'userinfo-refused',
    breaks: 'URL-I1',
    description:
      'a long URL with userinfo (https://user@example.com/) is refused 400 invalid_url as a phishing risk, though the schema allows it (blind bug userinfo-rejected, b09r8)',
  },
  {
    name: 'dedup-key-prefix',
    breaks: 'URL-I3',
    description:
      'the dedup key hashes only the first 255 characters of the long URL: two URLs that share them get one code (blind bug dedup-key-prefix, b09r8)',
  },
  {
    name: 'click-before-lookup',
    breaks: 'URL-I7',
    description:
      'a click is recorded before the code is looked up: a 404 for a code not issued yet lands on the link that takes it next, which starts with clicks (blind bug click-recorded-before-lookup, b09r8)',
  },
  {
    name: 'clicks-flushed-in-tens',
    breaks: 'URL-F4',
    description:
      'pending clicks are written only once 10 have piled up, at a graceful stop too: a few clicks counted in a quiet process are lost by the stop (blind bug click-flush-min-batch, b09r8)',
  },
  {
    name: 'db-terminated-500',
    breaks: 'URL-F5',
    description:
      'PostgreSQL errors classified by code only: a connection closed under a query in flight (no code, only a message) answers 500, not 503 (blind bug pg-terminated-is-500, b09r8)',
  },
  {
    name: 'click-batch-split',
    breaks: 'URL-F5',
    description:
      'PostgreSQL: a click batch applied as three statements (seen? / add the counts / record its id), not one: a connection lost between the counts and the id leaves the batch unrecorded and its retry counts the clicks twice (blind bug pg-click-batch-two-statements, b09r8)',
  },
  { name: 'redirect-301', breaks: 'URL-C2', description: 'redirects with 301 instead of 302' },
  { name: 'stats-without-clicks', breaks: 'URL-C3', description: 'link metadata omits the required clicks field' },
  {
    name: 'health-plain-text',
    breaks: 'URL-C4',
    description: 'readiness answers text/plain "ok", not the Health body',
  },
] as const satisfies readonly Mutant[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);

/** Mutants that live in the SQLite store (the embedded default the harness runs); refused with DATABASE_URL. */
export const SQLITE_ONLY_MUTANTS: readonly MutantName[] = [
  'no-dedup',
  'racy-dedup',
  'truncated-hash',
  'ack-before-write',
  'id-counter-restarts',
  'case-insensitive-codes',
  'codes-by-decoded-id',
  'dedup-key-prefix',
];

const TWITTER_EPOCH = 1288834974657n;
let lastMs = 0n;
let sequence = 0n;
/**
 * MUTANT snowflake-codes only: a Snowflake-style ID (timestamp | machine | sequence). It lives here, with the
 * mutants, because the reference never uses it otherwise (so `sdgrade mutate` does not count it as core code).
 */
export function snowflakeId(): bigint {
  let now = BigInt(Date.now());
  if (now === lastMs) {
    sequence = (sequence + 1n) & 0xfffn;
    if (sequence === 0n) now = lastMs + 1n; // 4,096 IDs in this millisecond: borrow the next one
  } else sequence = 0n;
  lastMs = now;
  return ((now - TWITTER_EPOCH) << 22n) | (1n << 17n) | (1n << 12n) | sequence;
}
