// The embedded default store: one SQLite file in DATA_DIR, opened with better-sqlite3 (synchronous, so a whole
// shorten runs in one tick with nothing interleaved; the unique index still guards other processes on the file).
//
// Durability: WAL journal with synchronous=NORMAL. A commit appends to the WAL with write(2) before
// better-sqlite3 returns, so once a create is acknowledged its row is in the operating system's page cache and
// survives kill -9 of this process (the harness's crash, URL-F1). NORMAL skips the fsync per commit, so an OS crash
// or power cut may lose the last transactions; FULL would fsync every commit for that, at several times the cost.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { DependencyState } from '../kit/health.ts';
import { decodeBase62 } from './base62.ts';
import { codeFor } from './codes.ts';
import type { MutantName } from './mutants.ts';
import { type ClickBatch, type LinkRecord, type LinkStore, longUrlKey, StoreUnavailableError } from './store.ts';

export interface SqliteStoreOptions {
  /** The database file, or ':memory:'. */
  file: string;
  mutant?: MutantName | undefined;
}

interface Row {
  id: number;
  code: string;
  long_url: string;
  created_at: number;
  clicks: number;
}

const COLUMNS = 'id, code, long_url, created_at, clicks';

export class SqliteStore implements LinkStore {
  readonly kind = 'sqlite';
  readonly instanceId: string;
  private readonly db: Database.Database;
  private readonly mutant: MutantName | undefined;
  private readonly byKey: Database.Statement<[Buffer], Row>;
  private readonly byCode: Database.Statement<[string], Row>;
  /** MUTANT codes-by-decoded-id only. */
  private readonly byId: Database.Statement<[bigint], Row>;
  private readonly nextId: Database.Statement<[], { id: number }>;
  private readonly insert: Database.Statement<[number, string, string, Buffer, number], Row>;
  private readonly addClick: Database.Statement<[number, string]>;
  private readonly pruneBatch: Database.Statement<[string]>;
  private readonly applyBatch: (batch: ClickBatch, confirmed: readonly string[]) => void;
  /** Ids of click batches this store has heard land: deleted with the next write (no retry of them can come). */
  private confirmedBatches: string[] = [];
  private readonly insertOrGet: (longUrl: string, key: Buffer) => { row: Row; created: boolean };
  private commitTimer: NodeJS.Timeout | undefined;
  /** MUTANT id-counter-restarts: the last ID handed out, kept in memory only. */
  private idInMemory = 0;

  constructor(options: SqliteStoreOptions) {
    this.mutant = options.mutant;
    const mutant = options.mutant;
    this.db = new Database(options.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // No dedup index for the mutants that create duplicates on purpose (and no leftover one from a reference run).
    const duplicates = mutant === 'no-dedup' || mutant === 'racy-dedup';
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS url_links (
        id INTEGER PRIMARY KEY,         -- the unique ID; code = base62(id)
        code TEXT NOT NULL UNIQUE,      -- the book's shortURL (case-sensitive: SQLite compares TEXT as bytes)
        long_url TEXT NOT NULL,         -- the book's longURL, byte for byte as submitted
        long_url_sha256 BLOB NOT NULL,  -- 32-byte key of long_url for "is this long URL known?"
        created_at INTEGER NOT NULL,    -- ms since the epoch
        clicks INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      ${
        duplicates
          ? `DROP INDEX IF EXISTS url_links_long_url;
             CREATE INDEX IF NOT EXISTS url_links_long_url_nonunique ON url_links (long_url_sha256);`
          : 'CREATE UNIQUE INDEX IF NOT EXISTS url_links_long_url ON url_links (long_url_sha256);'
      }
      CREATE TABLE IF NOT EXISTS url_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      -- The ids of click batches applied and not yet known to be final (see addClicks).
      CREATE TABLE IF NOT EXISTS url_click_batches (
        id TEXT PRIMARY KEY,
        applied_at INTEGER NOT NULL     -- ms since the epoch
      ) STRICT;
    `);
    this.db
      .prepare(`INSERT INTO url_meta (key, value) VALUES ('instance_id', ?) ON CONFLICT DO NOTHING`)
      .run(randomUUID());
    this.instanceId = this.db.prepare(`SELECT value FROM url_meta WHERE key = 'instance_id'`).pluck().get() as string;

    this.byKey = this.db.prepare<[Buffer], Row>(`SELECT ${COLUMNS} FROM url_links WHERE long_url_sha256 = ? LIMIT 1`);
    this.byCode = this.db.prepare<[string], Row>(
      // MUTANT case-insensitive-codes: looks codes up ignoring case (a case-insensitive collation, MySQL's default).
      `SELECT ${COLUMNS} FROM url_links WHERE code = ?${mutant === 'case-insensitive-codes' ? ' COLLATE NOCASE' : ''}`,
    );
    this.byId = this.db.prepare<[bigint], Row>(`SELECT ${COLUMNS} FROM url_links WHERE id = ?`);
    this.nextId = this.db.prepare<[], { id: number }>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM url_links');
    const values = 'INSERT INTO url_links (id, code, long_url, long_url_sha256, created_at) VALUES (?, ?, ?, ?, ?)';
    this.insert = this.db.prepare<[number, string, string, Buffer, number], Row>(
      duplicates
        ? `${values} RETURNING ${COLUMNS}`
        : mutant === 'id-counter-restarts'
          ? // MUTANT id-counter-restarts: INSERT OR REPLACE, so a reused ID silently replaces the old link.
            `${values.replace('INSERT', 'INSERT OR REPLACE')} RETURNING ${COLUMNS}`
          : mutant === 'truncated-hash'
            ? // MUTANT truncated-hash: a code collision overwrites the other URL's link instead of resolving it.
              `${values} ON CONFLICT (code) DO UPDATE SET long_url = excluded.long_url,
               long_url_sha256 = excluded.long_url_sha256, created_at = excluded.created_at RETURNING ${COLUMNS}`
            : `${values} ON CONFLICT (long_url_sha256) DO NOTHING RETURNING ${COLUMNS}`,
    );
    this.addClick = this.db.prepare<[number, string]>('UPDATE url_links SET clicks = clicks + ? WHERE code = ?');
    this.pruneBatch = this.db.prepare<[string]>('DELETE FROM url_click_batches WHERE id = ?');
    const record = this.db.prepare<[string, number]>(
      'INSERT INTO url_click_batches (id, applied_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
    );
    // One transaction: the confirmed ids deleted, this batch's id recorded, its counts added only if the id was new.
    this.applyBatch = this.db.transaction((batch: ClickBatch, confirmed: readonly string[]) => {
      for (const id of confirmed) this.pruneBatch.run(id);
      if (record.run(batch.id, Date.now()).changes === 0) return;
      for (const [code, n] of batch.counts) this.addClick.run(n, code);
    });
    // IMMEDIATE takes the write lock first, so MAX(id)+1 is not raced by another process on the same file.
    const insertOrGet = this.db.transaction((longUrl: string, key: Buffer) => {
      const existing = this.byKey.get(key);
      if (existing) return { row: existing, created: false };
      return { row: this.insertRow(longUrl, key), created: true };
    });
    this.insertOrGet = (longUrl, key) => insertOrGet.immediate(longUrl, key);

    if (mutant === 'ack-before-write') {
      // MUTANT ack-before-write: "batch commits for throughput". Everything runs inside one open transaction that
      // is committed every 2 s; this process reads its own writes, so all looks fine until a kill -9.
      this.db.exec('BEGIN');
      this.commitTimer = setInterval(() => this.db.exec('COMMIT; BEGIN'), 2000);
      this.commitTimer.unref();
    }
  }

  async shorten(longUrl: string): Promise<{ link: LinkRecord; created: boolean }> {
    return this.guard(async () => {
      // MUTANT dedup-key-normalised: "https://h/a and https://h/a/ are the same page", so they share one link.
      // MUTANT dedup-key-prefix: only the first 255 characters are keyed (an index prefix), so URLs sharing them merge.
      const key = longUrlKey(
        this.mutant === 'dedup-key-normalised'
          ? longUrl.replace(/\/+$/, '')
          : this.mutant === 'dedup-key-prefix'
            ? longUrl.slice(0, 255)
            : longUrl,
      );
      if (this.mutant === 'no-dedup') {
        // MUTANT no-dedup: never looks the long URL up; every call creates a link.
        return { link: toRecord(this.insertRow(longUrl, key)), created: true };
      }
      const existing = this.byKey.get(key);
      if (existing) return { link: toRecord(existing), created: false };
      if (this.mutant === 'racy-dedup') {
        // MUTANT racy-dedup: check-then-insert with an await in between (a round trip to a remote database, say)
        // and no unique index: two concurrent shortens of one URL both miss and both insert.
        await delay(25);
        return { link: toRecord(this.insertRow(longUrl, key)), created: true };
      }
      const { row, created } = this.insertOrGet(longUrl, key);
      return { link: toRecord(row), created };
    });
  }

  async findByCode(code: string): Promise<LinkRecord | undefined> {
    return this.guard(async () => {
      if (this.mutant === 'codes-by-decoded-id') {
        // MUTANT codes-by-decoded-id: the primary key decoded from the code, so "0b" finds the link of "b".
        const id = decodeBase62(code);
        const row = id > 0x7fff_ffff_ffff_ffffn ? undefined : this.byId.get(id);
        return row ? toRecord(row) : undefined;
      }
      const row = this.byCode.get(code);
      return row ? toRecord(row) : undefined;
    });
  }

  async addClicks(batch: ClickBatch): Promise<void> {
    if (batch.counts.size === 0) return;
    return this.guard(async () => {
      // (Never this batch's own id: a retry of it after it was heard to land must still find it.)
      this.applyBatch(
        batch,
        this.confirmedBatches.filter((id) => id !== batch.id),
      );
      this.confirmedBatches = [batch.id];
    });
  }

  async health(): Promise<DependencyState> {
    return 'embedded';
  }

  async close(): Promise<void> {
    if (this.commitTimer) clearInterval(this.commitTimer);
    if (this.db.inTransaction) this.db.exec('COMMIT');
    if (!this.db.open) return;
    // The last batch's id is final too; a crash leaves it (one row, never retried: harmless), and so may this.
    try {
      for (const id of this.confirmedBatches) this.pruneBatch.run(id);
    } catch {
      // best effort: the row stays
    }
    this.db.close();
  }

  private insertRow(longUrl: string, key: Buffer): Row {
    // MUTANT id-counter-restarts: "a counter in memory saves a MAX(id) query per create", started from 0 at every
    // process start: after a restart new links reuse the IDs (and codes) of old ones.
    const id = this.mutant === 'id-counter-restarts' ? ++this.idInMemory : this.nextId.get()!.id;
    const row = this.insert.get(id, codeFor(BigInt(id), longUrl, this.mutant), longUrl, key, Date.now());
    if (!row) throw new Error('insert returned no row inside the write lock');
    return row;
  }

  /** SQLITE_BUSY (another process holds the lock past busy_timeout) and a full disk are 503s, not bugs. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (/^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN)/.test(code)) {
        throw new StoreUnavailableError(`the database cannot answer now (${code})`, error);
      }
      throw error;
    }
  }
}

function toRecord(row: Row): LinkRecord {
  return {
    id: BigInt(row.id),
    code: row.code,
    longUrl: row.long_url,
    createdAt: new Date(row.created_at),
    clicks: row.clicks,
  };
}
