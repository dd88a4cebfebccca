// What the references on a relational store share (SQLite by default, PostgreSQL when DATABASE_URL is given; today
// chapters 10, 23, 26 and 27): the small interface their stores talk to, a lost database answered 503 instead of a
// 500, the PostgreSQL pool opened with the chapter's schema created once, the transaction bodies of both engines, one
// SQLite connection whose statements take turns, and the schema kept per data directory. Each chapter keeps its own
// tables and its mutants (23 and 27 keep their own SQLite classes: their options and mutants live there).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { redact } from './config.ts';
import type { DependencyState } from './health.ts';
import { ProblemError } from './problem.ts';

/** SQL written once with `?` placeholders; the PostgreSQL side numbers them. */
export interface Sql {
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

export interface Db extends Sql {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs fn in one transaction (READ COMMITTED on PostgreSQL; SQLite's one writer at a time). */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  health(): Promise<DependencyState>;
  close(): Promise<void>;
}

/** The database cannot be reached: 503 `unavailable` with Retry-After, never a 500. */
export function unavailable(cause: unknown): ProblemError {
  return new ProblemError(503, 'unavailable', 'the database cannot be reached; retry later', {
    headers: { 'retry-after': '1' },
    cause,
  });
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

/**
 * SQLSTATEs answered as the database being away or too busy: class 08 (connection exception), the server shutting
 * down or starting (57P01-57P03), a session ended for idling (57P05, 25P03), too many connections (53300), and a
 * statement cancelled by statement_timeout (57014). Any other SQLSTATE is the statement's own error: a lock_timeout (55P03) or a deadlock (40P01) in
 * particular, which a store may run again.
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || ['57P01', '57P02', '57P03', '57P05', '25P03', '53300', '57014'].includes(code);
}

/**
 * An error of the connection (refused, dropped, timed out, the server shutting down or too busy to finish the
 * statement in time), not of the statement. The server's errors carry a SQLSTATE and are told by it; the driver's
 * own (a pool that cannot connect in time, a connection that broke) only by their message.
 */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  if (CONNECTION_ERRORS.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) return isUnavailableSqlState(code);
  return /Connection terminated|timeout|connect|Client has encountered a connection error/i.test(err.message ?? '');
}

/** A connection error as 503 `unavailable`; any other error as it is. */
export function unavailableFor(e: unknown): unknown {
  return isConnectionError(e) ? unavailable(e) : e;
}

// bigint columns come back as numbers: amounts stay far below 2^53 minor units.
pg.types.setTypeParser(20, (text) => Number(text));

export interface OpenPgPoolOptions {
  connectionString: string;
  /** The chapter's schema (search_path), created when missing. */
  schema: string;
  /** Shown in pg_stat_activity, e.g. `sdgrade-reference/23-hotel-reservation`. */
  applicationName: string;
  /** The advisory lock two services starting on one schema take, so they do not race on CREATE TABLE IF NOT EXISTS. */
  lockKey: number;
  /** CREATE TABLE / INDEX IF NOT EXISTS statements, run in one transaction under the lock. */
  ddl: readonly string[];
  log: (message: string) => void;
  /** Further pool settings (e.g. idleTimeoutMillis). */
  pool?: pg.PoolConfig;
}

/** Opens the pool, checks the database answers and creates the schema's tables; throws (password redacted) if not. */
export async function openPgPool(o: OpenPgPoolOptions): Promise<pg.Pool> {
  if (!/^[a-z_][a-z0-9_]*$/.test(o.schema)) throw new Error(`invalid schema name ${o.schema}`);
  const pool = new pg.Pool({
    connectionString: o.connectionString,
    // Enough for the concurrency a 2-core service reaches; PostgreSQL's own default allows 100 for every client.
    max: Number(process.env['DB_POOL_MAX'] ?? 20),
    connectionTimeoutMillis: 2000,
    statement_timeout: 5000,
    query_timeout: 6000,
    application_name: o.applicationName,
    options: `-c search_path=${o.schema}`,
    ...o.pool,
  });
  pool.on('error', (error) => o.log(`PostgreSQL connection lost (the pool reconnects): ${error.message}`));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot connect to PostgreSQL at ${redact(o.connectionString)}: ${(error as Error).message}`);
  }
  try {
    await client.query('BEGIN');
    // A pool's lock_timeout (for its requests' transactions) must not cut short the wait for another starting service.
    await client.query('SET LOCAL lock_timeout = 0');
    await client.query('SELECT pg_advisory_xact_lock($1)', [o.lockKey]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${o.schema}`);
    for (const ddl of o.ddl) await client.query(ddl);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return pool;
}

/**
 * Runs fn in a transaction on one client of the pool: BEGIN, COMMIT, or ROLLBACK on any error. `on` gives the Sql
 * over that client; `connectFailed` maps a pool that cannot hand out a client (normally to 503 `unavailable`).
 */
export async function pgTransaction<T>(
  pool: pg.Pool,
  on: (client: pg.PoolClient) => Sql,
  fn: (sql: Sql) => Promise<T>,
  connectFailed: (e: unknown) => unknown = unavailable,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw connectFailed(e);
  }
  let broken = false;
  // A checked-out client whose connection drops emits 'error'; unheard, that event would crash the process.
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    const sql = on(client);
    await sql.run('BEGIN');
    const result = await fn(sql);
    await sql.run('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.off('error', onError);
    // A broken client is destroyed, not returned to the pool.
    client.release(broken);
  }
}

/**
 * A Db on a PostgreSQL pool opened by openPgPool: `?` placeholders numbered, a lost database the 503 problem,
 * transactions by pgTransaction. A chapter subclasses it with its own `connect` (its schema, tables and lock key).
 */
export class PgPoolDb implements Db {
  readonly kind = 'postgres';
  constructor(protected readonly pool: pg.Pool) {}

  protected on(q: pg.Pool | pg.PoolClient): Sql {
    const query = async (sql: string, params: unknown[]) => {
      let n = 0;
      try {
        return await q.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
      } catch (e) {
        throw unavailableFor(e);
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
    return pgTransaction(this.pool, (client) => this.on(client), fn);
  }
  health(): Promise<DependencyState> {
    return pgHealth(this.pool);
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** `up` when PostgreSQL answers a trivial query, `down` otherwise (readiness). */
export async function pgHealth(pool: pg.Pool): Promise<DependencyState> {
  try {
    await pool.query('SELECT 1');
    return 'up';
  } catch {
    return 'down';
  }
}

/**
 * Runs fn in one SQLite transaction over `direct` (statements on the same connection). IMMEDIATE takes the write lock
 * at BEGIN (SQLite's form of the pessimistic lock); the caller makes sure no other turn runs meanwhile.
 */
export async function sqliteTransaction<T>(
  db: Database.Database,
  direct: Sql,
  fn: (sql: Sql) => Promise<T>,
): Promise<T> {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = await fn(direct);
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * One SQLite connection (better-sqlite3, a file) whose statements and transactions take turns, so rows are committed
 * in the order they were given. WAL with synchronous NORMAL (the default `pragmas`): a commit is in the file (the OS
 * page cache) when better-sqlite3 returns, so it survives kill -9 of this process.
 */
export class SqliteTurnDb implements Db {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    file: string,
    ddl: readonly string[],
    pragmas: readonly string[] = ['journal_mode = WAL', 'synchronous = NORMAL'],
  ) {
    this.db = new Database(file);
    for (const p of pragmas) this.db.pragma(p);
    for (const statement of ddl) this.db.exec(statement);
  }

  private prepared(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      // Multi-row inserts differ in length; only the statements met again and again are kept.
      if (this.statements.size < 500) this.statements.set(sql, s);
    }
    return s;
  }

  private readonly direct: Sql = {
    all: async <T>(sql: string, params: unknown[] = []) => this.prepared(sql).all(...params) as T[],
    run: async (sql: string, params: unknown[] = []) => this.prepared(sql).run(...params).changes,
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
    this.db.close();
  }
}

/** PostgreSQL ended the transaction to break a deadlock (SQLSTATE 40P01): it was rolled back whole. */
export function isDeadlock(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '40P01';
}

/** A lock waited for longer than the session's lock_timeout (55P03), e.g. a deadlock the server has not broken yet. */
export function isLockTimeout(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '55P03';
}

/**
 * A statement cancelled at the session's statement_timeout (57014), as the driver threw it or already answered as 503
 * (its cause).
 */
export function isStatementTimeout(e: unknown): boolean {
  const code = (x: unknown) => (x as { code?: unknown } | null)?.code;
  return code(e) === '57014' || (e instanceof ProblemError && code(e.cause) === '57014');
}

/**
 * Runs a transaction again when PostgreSQL aborted it to break a deadlock, or cancelled a lock wait at the session's
 * lock_timeout (a pool that sets one), up to `attempts` times with a short random pause between, instead of answering
 * that request with a 500 (a lock wait cut on the last attempt is answered 503 unavailable). A statement cancelled at
 * statement_timeout is run again once: lock_timeout caps each lock wait, not their sum, and a statement that locks
 * many rows one after another behind crossed transactions (each wait short of lock_timeout, some ending in a
 * deadlock abort and a retry of the other side) was seen to pass 5 s on a starved machine. A second one is answered
 * 503 as before: the database is slow then, and the client has waited long enough. Only for transaction bodies that
 * touch nothing but the database: the rolled-back attempt left no trace, so the next one starts afresh.
 */
export async function retryingDeadlocks<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  let statementTimeouts = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (isStatementTimeout(e) && statementTimeouts++ === 0) continue;
      if (!(isDeadlock(e) || isLockTimeout(e))) throw e;
      // Locks still held past every attempt: the database is too busy for this request now (503, retry later).
      if (attempt >= attempts) throw isLockTimeout(e) ? unavailable(e) : e;
      await new Promise((ok) => setTimeout(ok, Math.random() * 10 * attempt));
    }
  }
}

/**
 * The PostgreSQL schema of a reference: DB_SCHEMA, else one made for this data directory on its first start and kept
 * in it (`pg-schema`), so a restart (kill -9, then start) finds its rows and every fresh start (a grade, a mutant) gets
 * tables of its own. `prefix` names the chapter (`wc10`).
 */
export function schemaForDataDir(dataDir: string, prefix: string): string {
  const given = process.env['DB_SCHEMA']?.trim();
  if (given) return given;
  const file = join(dataDir, 'pg-schema');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  writeFileSync(file, schema);
  return schema;
}
