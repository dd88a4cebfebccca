// The relational store under the payment service, behind one small interface: SQLite (better-sqlite3, a file in
// DATA_DIR) by default, PostgreSQL when DATABASE_URL is given. SQL is written once with `?` placeholders; the
// PostgreSQL side numbers them. Amounts are integers of minor units in both (bigint in PostgreSQL).
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { DependencyState } from '../kit/health.ts';
import {
  type Db,
  isConnectionError,
  openPgPool,
  pgHealth,
  pgTransaction,
  type Sql,
  sqliteTransaction,
  unavailable,
  unavailableFor,
} from '../kit/sql-db.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

export type { Db, Sql } from '../kit/sql-db.ts';

const TABLES = (big: string, serial: string) => [
  `CREATE TABLE IF NOT EXISTS payment_events (
     checkout_id text PRIMARY KEY, buyer_id text NOT NULL, buyer_info text NOT NULL, fingerprint text NOT NULL,
     psp_token text, payment_page_url text, is_payment_done integer NOT NULL DEFAULT 0,
     created_at ${big} NOT NULL, polled_at ${big} NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS payment_orders (
     payment_order_id text PRIMARY KEY, checkout_id text NOT NULL, buyer_account text NOT NULL,
     seller_account text NOT NULL, amount_minor ${big} NOT NULL, currency text NOT NULL,
     payment_order_status text NOT NULL, ledger_updated integer NOT NULL DEFAULT 0,
     wallet_updated integer NOT NULL DEFAULT 0, psp_charge_id text, attempts integer NOT NULL DEFAULT 0,
     next_attempt_at ${big} NOT NULL DEFAULT 0, executing_since ${big}, created_at ${big} NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS payment_orders_due ON payment_orders (payment_order_status, next_attempt_at)',
  'CREATE INDEX IF NOT EXISTS payment_orders_checkout ON payment_orders (checkout_id)',
  'CREATE INDEX IF NOT EXISTS payment_orders_created ON payment_orders (created_at)',
  `CREATE TABLE IF NOT EXISTS ledger_entries (
     id ${serial}, transaction_id text NOT NULL, payment_order_id text NOT NULL, account text NOT NULL,
     currency text NOT NULL, debit ${big} NOT NULL, credit ${big} NOT NULL, created_at ${big} NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS ledger_entries_order ON ledger_entries (payment_order_id)',
  `CREATE TABLE IF NOT EXISTS wallets (
     seller_account text NOT NULL, currency text NOT NULL, balance ${big} NOT NULL,
     PRIMARY KEY (seller_account, currency))`,
  `CREATE TABLE IF NOT EXISTS idempotency_keys (
     key text PRIMARY KEY, fingerprint text NOT NULL, state text NOT NULL, status integer,
     body text, created_at ${big} NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS payouts (
     payout_id text PRIMARY KEY, seller_account text NOT NULL, amount_minor ${big} NOT NULL, currency text NOT NULL,
     status text NOT NULL, fingerprint text NOT NULL, attempts integer NOT NULL DEFAULT 0,
     next_attempt_at ${big} NOT NULL DEFAULT 0, provider_transfer_id text, created_at ${big} NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS payouts_due ON payouts (status, next_attempt_at)',
  `CREATE TABLE IF NOT EXISTS dead_letters (
     payment_order_id text PRIMARY KEY, reason text NOT NULL, at ${big} NOT NULL)`,
];

export class SqliteDb implements Db {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  // One connection: every statement and transaction takes its turn, so a transaction never sees another's writes.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.db = new Database(file);
    // WAL: a commit is in the OS page cache when better-sqlite3 returns, so it survives kill -9 of this process.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    for (const ddl of TABLES('integer', 'integer PRIMARY KEY AUTOINCREMENT')) this.db.exec(ddl);
    this.checkpointer = new WalCheckpointer(this.db, file);
  }
  private readonly checkpointer: WalCheckpointer;

  private prepared(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private readonly direct: Sql = {
    all: async <T>(sql: string, params: unknown[] = []) => this.prepared(sql).all(...params.map(sqliteValue)) as T[],
    run: async (sql: string, params: unknown[] = []) => this.prepared(sql).run(...params.map(sqliteValue)).changes,
  };

  private turn<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  all<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.turn(() => this.direct.all<T>(sql, params));
  }
  run(sql: string, params?: unknown[]): Promise<number> {
    return this.turn(() => this.direct.run(sql, params));
  }
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.turn(() => sqliteTransaction(this.db, this.direct, fn));
  }
  async health(): Promise<DependencyState> {
    return 'embedded';
  }
  async close(): Promise<void> {
    await this.queue;
    await this.checkpointer.stop();
    this.db.close();
  }
}

/**
 * For the mutant tx-client-leaked-on-error only: release(error) of a client checked out for a transaction (the
 * promise form of connect, which pgTransaction uses; pool.query's own callback form is left as it is) does nothing.
 */
function leakBrokenClients(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as (cb?: unknown) => Promise<pg.PoolClient> | undefined;
  (pool as { connect: (cb?: unknown) => unknown }).connect = (cb?: unknown) => {
    if (cb) return connect(cb);
    return connect()!.then((client) => {
      const release = client.release.bind(client);
      client.release = (broken?: Error | boolean) => {
        if (!broken) release();
        // Still heard, as a client kept by its caller is: the leak, not a crash on its connection's late errors.
        else client.on('error', () => undefined);
      };
      return client;
    });
  };
}

function sqliteValue(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

export class PostgresDb implements Db {
  readonly kind = 'postgres';
  /** MUTANT db-never-reconnects: set at the first lost connection; from then on every call fails as unavailable. */
  private gaveUp = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** MUTANT db-outage-500: connection errors escape as they are (a 500), not as 503 unavailable. */
    private readonly rawErrors: boolean,
    /** MUTANT db-never-reconnects: the pool is written off after a lost connection, as if it never reconnected. */
    private readonly neverReconnects: boolean,
  ) {}

  static async connect(
    connectionString: string,
    schema: string,
    log: (m: string) => void,
    mutant: { rawErrors?: boolean; neverReconnects?: boolean; leaksBrokenClients?: boolean } = {},
  ): Promise<PostgresDb> {
    const pool = await openPgPool({
      connectionString,
      schema,
      applicationName: 'sdgrade-reference/27-payment-system',
      lockKey: 0x5d9_0027,
      ddl: TABLES('bigint', 'bigserial PRIMARY KEY'),
      log,
      // A checkout holds a connection only for its statements, never across a PSP call.
      pool: { idleTimeoutMillis: 30_000 },
    });
    // MUTANT tx-client-leaked-on-error: a client released as broken (its connection lost mid-transaction) is
    // neither destroyed nor given back: it stays checked out, and after a pool of such breaks none is left.
    if (mutant.leaksBrokenClients) leakBrokenClients(pool);
    return new PostgresDb(pool, mutant.rawErrors ?? false, mutant.neverReconnects ?? false);
  }

  /**
   * The statement as PostgreSQL takes it: `?` numbered `$1, $2...`, and named, so each connection parses and plans
   * it once (a prepared statement) instead of on every call.
   */
  private readonly prepared = new Map<string, { name: string; text: string }>();
  private statement(sql: string, values: unknown[]): pg.QueryConfig {
    if (values.length === 0) return { text: sql };
    let s = this.prepared.get(sql);
    if (!s) {
      let n = 0;
      s = { name: `pay27_${this.prepared.size + 1}`, text: sql.replace(/\?/g, () => `$${++n}`) };
      this.prepared.set(sql, s);
    }
    return { ...s, values };
  }

  private on(q: pg.Pool | pg.PoolClient): Sql {
    const unavailable = this.rawErrors ? (e: unknown) => e : unavailableFor;
    const query = async (sql: string, params: unknown[]) => {
      if (this.gaveUp) throw unavailable(new Error('the connection was lost and never made again'));
      try {
        return await q.query(this.statement(sql, params));
      } catch (e) {
        if (this.neverReconnects && isConnectionError(e)) this.gaveUp = true;
        throw unavailable(e);
      }
    };
    return {
      all: async <T>(sql: string, params: unknown[] = []) => (await query(sql, params)).rows as T[],
      run: async (sql: string, params: unknown[] = []) => (await query(sql, params)).rowCount ?? 0,
    };
  }

  all<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.on(this.pool).all<T>(sql, params);
  }
  run(sql: string, params?: unknown[]): Promise<number> {
    return this.on(this.pool).run(sql, params);
  }
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return pgTransaction(this.pool, (client) => this.on(client), fn, this.rawErrors ? (e) => e : unavailable);
  }
  health(): Promise<DependencyState> {
    return pgHealth(this.pool);
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
}
