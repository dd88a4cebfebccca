// The crawl state's relational store behind the kit's small interface (reference/kit/sql-db.ts): SQLite
// (better-sqlite3, a file in DATA_DIR) by default, PostgreSQL when DATABASE_URL is given. SQL is written once with
// `?` placeholders; the PostgreSQL side numbers them.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DependencyState } from '../kit/health.ts';
import { type Db, openPgPool, PgPoolDb, type Sql, sqliteTransaction } from '../kit/sql-db.ts';

export type { Db, Sql } from '../kit/sql-db.ts';

const tables = (serial: string) => [
  'CREATE TABLE IF NOT EXISTS jobs (id text PRIMARY KEY, config text NOT NULL, state text NOT NULL, created_at text NOT NULL)',
  `CREATE TABLE IF NOT EXISTS pages (seq ${serial}, job text NOT NULL, url text NOT NULL, outcome text NOT NULL, body text NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS pages_job ON pages (job, seq)',
  'CREATE TABLE IF NOT EXISTS frontier (job text NOT NULL, url text NOT NULL, depth integer NOT NULL, PRIMARY KEY (job, url))',
  'CREATE TABLE IF NOT EXISTS seen (job text NOT NULL, url text NOT NULL, PRIMARY KEY (job, url))',
  'CREATE TABLE IF NOT EXISTS contents (job text NOT NULL, hash text NOT NULL, url text NOT NULL, html text NOT NULL, PRIMARY KEY (job, hash))',
];

export class SqliteDb implements Db {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  // One connection: statements and transactions take turns.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.db = new Database(file);
    // WAL: a commit is in the OS page cache when better-sqlite3 returns, so it survives kill -9 of this process.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    for (const ddl of tables('integer PRIMARY KEY AUTOINCREMENT')) this.db.exec(ddl);
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

export class PostgresDb extends PgPoolDb {
  static async connect(connectionString: string, schema: string, log: (m: string) => void): Promise<PostgresDb> {
    const pool = await openPgPool({
      connectionString,
      schema,
      applicationName: 'sdgrade-reference/10-web-crawler',
      lockKey: 0x5d9_0010,
      ddl: tables('bigserial PRIMARY KEY'),
      log,
    });
    return new PostgresDb(pool);
  }
}

/**
 * The PostgreSQL schema: DB_SCHEMA, else one made for this data directory on its first start and kept in it, so a
 * restart (kill -9, then start) finds its jobs and every fresh start (a grade, a mutant) gets tables of its own.
 */
export function schemaFor(dataDir: string): string {
  const given = process.env['DB_SCHEMA']?.trim();
  if (given) return given;
  const file = join(dataDir, 'pg-schema');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const schema = `wc10_${randomBytes(6).toString('hex')}`;
  writeFileSync(file, schema);
  return schema;
}
