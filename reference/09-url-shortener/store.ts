// The link store: the book's url table (id, shortURL, longURL) plus created_at and clicks. Two implementations:
// store-sqlite.ts (embedded default) and store-postgres.ts (DATABASE_URL).
import { createHash } from 'node:crypto';
import type { DependencyState } from '../kit/health.ts';
import { ProblemError } from '../kit/problem.ts';

export interface LinkRecord {
  id: bigint;
  code: string;
  /** Byte for byte as submitted. */
  longUrl: string;
  createdAt: Date;
  /** Clicks flushed to the store (the service adds those still pending in memory). */
  clicks: number;
}

/** Click counts (code -> clicks) flushed together, under an id that makes applying them idempotent. */
export interface ClickBatch {
  id: string;
  counts: ReadonlyMap<string, number>;
}

export interface LinkStore {
  readonly kind: 'sqlite' | 'postgres';
  /** A random ID created with the data and kept with it; namespaces cache keys so that a shared Redis never
   * serves one database's code for another database's link. */
  readonly instanceId: string;
  /**
   * The book's flow: look the long URL up first; if known return its link (created false), else create one with a
   * new unique ID and code = base62(ID). Atomic: a unique index on the long URL and insert-or-select (never
   * check-then-insert), so concurrent calls for one long URL always end with one link.
   */
  shorten(longUrl: string): Promise<{ link: LinkRecord; created: boolean }>;
  findByCode(code: string): Promise<LinkRecord | undefined>;
  /**
   * Add a batch's click counts in one transaction that also records its id (table url_click_batches): a batch
   * whose id is already recorded changes nothing, so a retry of a write that landed but whose answer was lost
   * counts nothing twice. The ids of batches this store has heard land are deleted with its next write (and at a
   * graceful close): their process will never retry them.
   */
  addClicks(batch: ClickBatch): Promise<void>;
  health(): Promise<DependencyState>;
  close(): Promise<void>;
}

/** The database cannot answer now (connection refused, reset, pool exhausted): 503 unavailable, retry later. */
export class StoreUnavailableError extends ProblemError {
  constructor(detail: string, cause?: unknown) {
    super(503, 'unavailable', detail, { cause, headers: { 'retry-after': '1' } });
  }
}

/** The index key for a long URL: 32 bytes, whatever the URL's length (a btree entry in PostgreSQL is limited to
 * about 2.7 kB, and a 2048-character URL with percent-escapes is close to that). */
export function longUrlKey(longUrl: string): Buffer {
  return createHash('sha256').update(longUrl, 'utf8').digest();
}
