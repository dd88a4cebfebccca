// The relational store behind one small interface: SQLite (better-sqlite3, a file in DATA_DIR) by default, PostgreSQL
// when DATABASE_URL is given (the book: a relational database for its ACID transactions). SQL is written once with
// `?` placeholders; the PostgreSQL side numbers them.
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { DependencyState } from '../kit/health.ts';
import { ProblemError } from '../kit/problem.ts';
import {
  type Db,
  openPgPool,
  PgPoolDb,
  pgTransaction,
  retryingDeadlocks,
  type Sql,
  sqliteTransaction,
} from '../kit/sql-db.ts';
import type { MutantName } from './mutants.ts';
import type { Strategy } from './room-taker.ts';

export type { Db, Sql } from '../kit/sql-db.ts';

/** Runs of a transaction aborted as a deadlock before its error is answered (retryingDeadlocks' own default). */
const DEADLOCK_ATTEMPTS = 5;

/**
 * A lock wait this long is ended (55P03) and its transaction run again, like a deadlock: PostgreSQL breaks a deadlock
 * after deadlock_timeout (1 s), but on a starved machine two crossed transactions were seen to wait out the 5 s
 * statement_timeout instead (and were answered 503). Far above any wait of a healthy run.
 */
const LOCK_TIMEOUT_MS = 2000;

/** How the tables are made: which guards the schema itself carries. */
export interface SchemaOptions {
  /** The book's option 3: CHECK (reserved within 110% of the inventory) on room_type_inventory. */
  checkConstraint: boolean;
  /** The book's unique constraint on reservation_id (false only for MUTANT idempotency-key-not-unique). */
  uniqueReservationId: boolean;
}

/** The tables a strategy needs (the CHECK is the constraint strategy's), as a mutant may break them. */
export function schemaOptionsFor(strategy: Strategy, mutant: MutantName | undefined): SchemaOptions {
  return {
    checkConstraint: strategy === 'constraint' && mutant !== 'constraint-missing',
    uniqueReservationId: mutant !== 'idempotency-key-not-unique',
  };
}

const tables = (big: string, serial: string, o: SchemaOptions) => [
  `CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS hotel (hotel_id text PRIMARY KEY, name text NOT NULL, address text NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS room_type (
     hotel_id text NOT NULL, room_type_id text NOT NULL, name text NOT NULL, total_inventory integer NOT NULL,
     rate_minor ${big} NOT NULL, currency text NOT NULL, PRIMARY KEY (hotel_id, room_type_id))`,
  `CREATE TABLE IF NOT EXISTS room_type_rate (
     hotel_id text NOT NULL, room_type_id text NOT NULL, date text NOT NULL, rate_minor ${big} NOT NULL,
     PRIMARY KEY (hotel_id, room_type_id, date))`,
  // One row per (hotel, room type, night), as the book's table; version is the optimistic-locking column.
  `CREATE TABLE IF NOT EXISTS room_type_inventory (
     hotel_id text NOT NULL, room_type_id text NOT NULL, date text NOT NULL, total_inventory integer NOT NULL,
     total_reserved integer NOT NULL, version integer NOT NULL DEFAULT 0,
     PRIMARY KEY (hotel_id, room_type_id, date)
     ${o.checkConstraint ? ', CONSTRAINT check_room_count CHECK (total_reserved * 10 <= total_inventory * 11)' : ''})`,
  `CREATE TABLE IF NOT EXISTS reservation (
     id ${serial}, reservation_id text NOT NULL ${o.uniqueReservationId ? 'UNIQUE' : ''},
     hotel_id text NOT NULL, room_type_id text NOT NULL, guest_id text NOT NULL, start_date text NOT NULL,
     end_date text NOT NULL, room_count integer NOT NULL, status text NOT NULL, total_minor ${big} NOT NULL,
     currency text NOT NULL, created_at text NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS reservation_guest ON reservation (guest_id, id)',
  // The unique constraint's own index serves the lookup by reservation_id; without it (the mutant) an index is made
  // (a second one beside the unique one was one more index written by every reservation).
  ...(o.uniqueReservationId ? [] : ['CREATE INDEX IF NOT EXISTS reservation_key ON reservation (reservation_id)']),
];

export class SqliteDb implements Db {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  // One connection: statements and transactions take turns. Work split over several turns (a read, then a write)
  // interleaves with other requests' turns, which is where the unlocked check-then-update races.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string, o: SchemaOptions) {
    this.db = new Database(file);
    // WAL: a commit is in the OS page cache when better-sqlite3 returns, so it survives kill -9 of this process.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    for (const ddl of tables('integer', 'integer PRIMARY KEY AUTOINCREMENT', o)) this.db.exec(ddl);
  }

  private prepared(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private readonly direct: Sql = {
    all: async <T>(sql: string, params: unknown[] = []) => this.prepared(sql).all(...params) as T[],
    run: async (sql: string, params: unknown[] = []) => this.prepared(sql).run(...params).changes,
  };

  private turn<T>(fn: () => Promise<T>): Promise<T> {
    // Each turn first yields to the event loop, as a client talking to a database server over a socket does: other
    // requests get in between one request's statements, as they would on PostgreSQL, so the embedded store is
    // graded under the same interleavings (better-sqlite3 alone would run a whole request without a pause).
    const run = () => new Promise<void>((ok) => setImmediate(ok)).then(fn);
    const next = this.queue.then(run, run);
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

export class PostgresDb extends PgPoolDb {
  private constructor(
    pool: pg.Pool,
    /** MUTANT db-loss-answers-500: a lost connection escapes as it is (a 500), not as 503 unavailable. */
    private readonly rawErrors: boolean,
  ) {
    super(pool);
  }

  static async connect(
    connectionString: string,
    schema: string,
    o: SchemaOptions,
    log: (m: string) => void,
    rawErrors = false,
  ): Promise<PostgresDb> {
    const pool = await openPgPool({
      connectionString,
      schema,
      applicationName: 'sdgrade-reference/23-hotel-reservation',
      lockKey: 0x5d9_0023,
      ddl: tables('bigint', 'bigserial PRIMARY KEY', o),
      log,
      pool: { lock_timeout: LOCK_TIMEOUT_MS },
    });
    return new PostgresDb(pool, rawErrors);
  }

  protected override on(q: pg.Pool | pg.PoolClient): Sql {
    const sql = super.on(q);
    if (!this.rawErrors) return sql;
    const raw = (e: unknown) => (e instanceof ProblemError && e.status === 503 ? (e.cause ?? e) : e);
    return {
      all: <T>(text: string, params?: unknown[]) => sql.all<T>(text, params).catch((e) => Promise.reject(raw(e))),
      run: (text: string, params?: unknown[]) => sql.run(text, params).catch((e) => Promise.reject(raw(e))),
    };
  }

  /** Attempts of a transaction PostgreSQL aborts as a deadlock (1 only for MUTANT deadlock-not-retried). */
  deadlockAttempts = DEADLOCK_ATTEMPTS;

  override tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    // An inventory change locks a room type's nights in date order; the constraint strategy's one range UPDATE locks
    // them in the order it scans them, so the two can deadlock: the aborted one runs again (its body is SQL only).
    if (!this.rawErrors) return retryingDeadlocks(() => super.tx(fn), this.deadlockAttempts);
    return retryingDeadlocks(
      () =>
        pgTransaction(
          this.pool,
          (client) => this.on(client),
          fn,
          (e) => e,
        ),
      this.deadlockAttempts,
    );
  }
}

/** A unique-constraint violation (a concurrent insert of the same reservation_id won). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string };
  return err.code === '23505' || err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A CHECK-constraint violation (the book's option 3 refusing an overbooking). */
export function isCheckViolation(e: unknown): boolean {
  const err = e as { code?: string };
  return err.code === '23514' || err.code === 'SQLITE_CONSTRAINT_CHECK';
}
