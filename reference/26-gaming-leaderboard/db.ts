// The match history's relational store behind the kit's small interface (reference/kit/sql-db.ts): SQLite
// (better-sqlite3, a file in DATA_DIR) by default, PostgreSQL when DATABASE_URL is given (the book's MySQL table of
// wins). SQL is written once with `?` placeholders; the PostgreSQL side numbers them.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DependencyState } from '../kit/health.ts';
import { type Db, openPgPool, PgPoolDb, type Sql, sqliteTransaction } from '../kit/sql-db.ts';

export type { Db, Sql } from '../kit/sql-db.ts';

// One row per win a game server posted: `id` orders them, and a rebuilt board records the last id it holds. One row
// per player with a profile.
const tables = (big: string, serial: string) => [
  `CREATE TABLE IF NOT EXISTS match_wins (
     id ${serial}, month text NOT NULL, user_id text NOT NULL, points integer NOT NULL, at ${big} NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS match_wins_player ON match_wins (month, user_id, id)',
  // The book's user table: the profile shown with the top 10.
  `CREATE TABLE IF NOT EXISTS users (user_id text PRIMARY KEY, display_name text NOT NULL, updated_at ${big} NOT NULL)`,
];

export class SqliteDb implements Db {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  // One connection: statements and transactions take turns, so ids are committed in the order they are given.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.db = new Database(file);
    // WAL: a committed insert is in the file (the OS page cache) before the answer, so a kill -9 loses nothing.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    for (const ddl of tables('integer', 'integer PRIMARY KEY AUTOINCREMENT')) this.db.exec(ddl);
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

export class PostgresDb extends PgPoolDb {
  static async connect(connectionString: string, schema: string, log: (m: string) => void): Promise<PostgresDb> {
    const pool = await openPgPool({
      connectionString,
      schema,
      applicationName: 'sdgrade-reference/26-gaming-leaderboard',
      lockKey: 0x5d9_0026,
      ddl: tables('bigint', 'bigserial PRIMARY KEY'),
      log,
    });
    return new PostgresDb(pool);
  }
}

/**
 * The PostgreSQL schema: DB_SCHEMA, else one made for this data directory on its first start and kept in it, so a
 * restart finds its history and every fresh start (a grade, a mutant) gets tables of its own.
 */
export function schemaFor(dataDir: string): string {
  const given = process.env['DB_SCHEMA']?.trim();
  if (given) return given;
  const file = join(dataDir, 'pg-schema');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const schema = `rgl26_${randomBytes(6).toString('hex')}`;
  writeFileSync(file, schema);
  return schema;
}
