// PostgreSQL store, used when DATABASE_URL is set. Creates its tables if missing (under an advisory lock, so
// several instances starting at once do not race), takes IDs from a sequence, and dedups with a unique index on
// the SHA-256 of the long URL (a btree entry is limited to about 2.7 kB; a 2048-character URL can come close).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { redact } from '../kit/config.ts';
import type { DependencyState } from '../kit/health.ts';
import { ProblemError } from '../kit/problem.ts';
import { codeFor } from './codes.ts';
import type { MutantName } from './mutants.ts';
import { type ClickBatch, type LinkRecord, type LinkStore, longUrlKey, StoreUnavailableError } from './store.ts';

export interface PostgresStoreOptions {
  connectionString: string;
  /** A schema to create and use (tests use a throwaway one); default: the connection's search_path. */
  schema?: string;
  mutant?: MutantName | undefined;
  /** Pool size; default 10. */
  max?: number;
  log?: (message: string, error?: unknown) => void;
}

interface Row {
  id: string;
  code: string;
  long_url: string;
  created_at: Date;
  clicks: string;
}

const COLUMNS = 'id, code, long_url, created_at, clicks';
const SCHEMA_LOCK = 0x5d9_0009; // pg_advisory_xact_lock key for creating the tables

export class PostgresStore implements LinkStore {
  readonly kind = 'postgres';
  /** Ids of click batches this store has heard land: deleted with the next write (no retry of them can come). */
  private confirmedBatches: string[] = [];
  private constructor(
    private readonly pool: pg.Pool,
    readonly instanceId: string,
    private readonly mutant: MutantName | undefined,
  ) {}

  /** Connect, create the tables if missing; a clear error if PostgreSQL cannot be reached. */
  static async connect(options: PostgresStoreOptions): Promise<PostgresStore> {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
      throw new Error(`invalid schema name ${options.schema}`);
    }
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 5000,
      query_timeout: 6000,
      application_name: 'sdgrade-reference/09-url-shortener',
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client losing its connection emits here; without a listener it would crash the process.
    pool.on('error', (error) => options.log?.('PostgreSQL connection lost (the pool reconnects)', error));
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(
        `cannot connect to PostgreSQL at ${redact(options.connectionString)}: ${(error as Error).message || String(error)}`,
        { cause: error },
      );
    }
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      if (options.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      await client.query('CREATE SEQUENCE IF NOT EXISTS url_links_id_seq AS bigint');
      await client.query(`
        CREATE TABLE IF NOT EXISTS url_links (
          id bigint PRIMARY KEY,              -- from url_links_id_seq; code = base62(id)
          code text NOT NULL UNIQUE,          -- the book's shortURL (= on text is case-sensitive)
          long_url text NOT NULL,             -- the book's longURL, byte for byte as submitted
          long_url_sha256 bytea NOT NULL,     -- 32-byte key of long_url, for the unique index
          created_at timestamptz NOT NULL DEFAULT now(),
          clicks bigint NOT NULL DEFAULT 0
        )`);
      await client.query('CREATE UNIQUE INDEX IF NOT EXISTS url_links_long_url_sha256 ON url_links (long_url_sha256)');
      // The ids of click batches applied and not yet known to be final (see addClicks).
      await client.query(`
        CREATE TABLE IF NOT EXISTS url_click_batches (
          id text PRIMARY KEY,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      await client.query('CREATE TABLE IF NOT EXISTS url_meta (key text PRIMARY KEY, value text NOT NULL)');
      await client.query(`INSERT INTO url_meta VALUES ('instance_id', $1) ON CONFLICT DO NOTHING`, [randomUUID()]);
      const { rows } = await client.query<{ value: string }>(`SELECT value FROM url_meta WHERE key = 'instance_id'`);
      await client.query('COMMIT');
      client.release();
      return new PostgresStore(pool, rows[0]!.value, options.mutant);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      await pool.end().catch(() => undefined);
      throw new Error(`cannot create the PostgreSQL tables: ${(error as Error).message}`, { cause: error });
    }
  }

  async shorten(longUrl: string): Promise<{ link: LinkRecord; created: boolean }> {
    // MUTANT dedup-key-normalised: "https://h/a and https://h/a/ are the same page", so they share one link.
    const key = longUrlKey(this.mutant === 'dedup-key-normalised' ? longUrl.replace(/\/+$/, '') : longUrl);
    const existing = await this.byKey(key);
    if (existing) return { link: existing, created: false };
    const { rows } = await this.query<{ id: string }>('url-next-id', "SELECT nextval('url_links_id_seq') AS id", []);
    const id = BigInt(rows[0]!.id);
    // Insert-or-select: if a concurrent call for the same long URL won, ours does nothing and we read its row.
    const inserted = await this.query<Row>(
      'url-insert',
      `INSERT INTO url_links (id, code, long_url, long_url_sha256) VALUES ($1, $2, $3, $4)
       ON CONFLICT (long_url_sha256) DO NOTHING RETURNING ${COLUMNS}`,
      [id.toString(), codeFor(id, longUrl, this.mutant), longUrl, key],
    );
    if (inserted.rows[0]) return { link: toRecord(inserted.rows[0]), created: true };
    const winner = await this.byKey(key);
    if (!winner) throw new Error('insert conflicted on the long URL but no row has it');
    return { link: winner, created: false };
  }

  async findByCode(code: string): Promise<LinkRecord | undefined> {
    const { rows } = await this.query<Row>('url-by-code', `SELECT ${COLUMNS} FROM url_links WHERE code = $1`, [code]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async addClicks(batch: ClickBatch): Promise<void> {
    if (batch.counts.size === 0) return;
    if (this.mutant === 'click-batch-split') return this.addClicksSplit(batch);
    // (Never this batch's own id: a retry of it after it was heard to land must still find it.)
    const confirmed = this.confirmedBatches.filter((id) => id !== batch.id);
    // One statement, so one transaction: delete the ids already confirmed, record this batch's id, and add its counts
    // only if the id was new (the UPDATE joins the inserted row; a retry of a batch that landed inserts none).
    await this.query(
      'url-add-click-batch',
      `WITH pruned AS (DELETE FROM url_click_batches WHERE id = ANY($4::text[])),
         applied AS (INSERT INTO url_click_batches (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id)
       UPDATE url_links AS l SET clicks = l.clicks + c.n
       FROM unnest($2::text[], $3::bigint[]) AS c(code, n), applied WHERE l.code = c.code`,
      [batch.id, [...batch.counts.keys()], [...batch.counts.values()], confirmed],
    );
    this.confirmedBatches = [batch.id];
  }

  async health(): Promise<DependencyState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'down'>((resolve) => {
      timer = setTimeout(() => resolve('down'), 1000);
    });
    const ping = this.pool.query('SELECT 1').then(
      () => 'up' as const,
      () => 'down' as const,
    );
    const state = await Promise.race([ping, timeout]);
    clearTimeout(timer);
    return state;
  }

  async close(): Promise<void> {
    if (this.pool.ended) return;
    // The last batch's id is final too; a crash leaves it (one row, never retried: harmless).
    await this.pool
      .query('DELETE FROM url_click_batches WHERE id = ANY($1::text[])', [this.confirmedBatches])
      .catch(() => undefined);
    await this.pool.end();
  }

  private async byKey(key: Buffer): Promise<LinkRecord | undefined> {
    const { rows } = await this.query<Row>(
      'url-by-key',
      `SELECT ${COLUMNS} FROM url_links WHERE long_url_sha256 = $1`,
      [key],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Named (prepared once per connection) queries; connection failures become 503 unavailable. */
  private async query<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) {
    try {
      return await this.pool.query<R>({ name, text, values });
    } catch (error) {
      // MUTANT db-errors-500: connection failures are not told from bugs, so a lost database answers 500.
      if (isConnectionError(error, this.mutant) && this.mutant !== 'db-errors-500') {
        if (this.mutant === 'unavailable-without-retry-after') {
          // MUTANT unavailable-without-retry-after: the 503 says nothing about when to retry.
          throw new ProblemError(503, 'unavailable', `PostgreSQL cannot answer now: ${(error as Error).message}`);
        }
        throw new StoreUnavailableError(`PostgreSQL cannot answer now: ${(error as Error).message}`, error);
      }
      throw error;
    }
  }

  /** MUTANT click-batch-split: the batch applied as three statements, not one: "seen?", add the counts, record the id.
   * A connection lost after the counts landed but before the id was recorded leaves the batch unrecorded, so its
   * retry adds the counts again (blind bug pg-click-batch-two-statements, b09r8). */
  private async addClicksSplit(batch: ClickBatch): Promise<void> {
    const confirmed = this.confirmedBatches.filter((id) => id !== batch.id);
    const seen = await this.query('url-click-batch-seen', 'SELECT 1 FROM url_click_batches WHERE id = $1', [batch.id]);
    if (seen.rowCount === 0) {
      await this.query(
        'url-add-clicks',
        `UPDATE url_links AS l SET clicks = l.clicks + c.n
         FROM unnest($1::text[], $2::bigint[]) AS c(code, n) WHERE l.code = c.code`,
        [[...batch.counts.keys()], [...batch.counts.values()]],
      );
      await this.query(
        'url-record-click-batch',
        `WITH pruned AS (DELETE FROM url_click_batches WHERE id = ANY($2::text[]))
         INSERT INTO url_click_batches (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`,
        [batch.id, confirmed],
      );
    }
    this.confirmedBatches = [batch.id];
  }
}

/** Network errors, pool timeouts, SQLSTATE class 08 (connection), 57P0x (shutdown), 53300 (too many clients). */
function isConnectionError(error: unknown, mutant?: MutantName): boolean {
  const code = String((error as { code?: unknown }).code ?? '');
  // MUTANT db-terminated-500: classified by code only, so a connection closed under a query (a message, no code) is a 500.
  const message = mutant === 'db-terminated-500' ? '' : ((error as Error).message ?? '');
  return (
    /^(ECONN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)/.test(code) ||
    /^08|^57P0|^53300$|^57014$/.test(code) ||
    /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error/i.test(
      message,
    )
  );
}

function toRecord(row: Row): LinkRecord {
  return {
    id: BigInt(row.id),
    code: row.code,
    longUrl: row.long_url,
    createdAt: row.created_at,
    clicks: Number(row.clicks),
  };
}
