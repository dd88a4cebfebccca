// The crawl state's relational store behind the kit's small interface (reference/kit/sql-db.ts): SQLite
// (better-sqlite3, a file in DATA_DIR) by default, PostgreSQL when DATABASE_URL is given. SQL is written once with
// `?` placeholders; the PostgreSQL side numbers them.
import { openPgPool, PgPoolDb, SqliteTurnDb, schemaForDataDir } from '../kit/sql-db.ts';

export type { Db, Sql } from '../kit/sql-db.ts';

const tables = (serial: string) => [
  'CREATE TABLE IF NOT EXISTS jobs (id text PRIMARY KEY, config text NOT NULL, state text NOT NULL, created_at text NOT NULL)',
  `CREATE TABLE IF NOT EXISTS pages (seq ${serial}, job text NOT NULL, url text NOT NULL, outcome text NOT NULL, body text NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS pages_job ON pages (job, seq)',
  // A job's page is recorded once (URL seen), and a record tried again after a lost commit is not a second page.
  'CREATE UNIQUE INDEX IF NOT EXISTS pages_job_url ON pages (job, url)',
  'CREATE TABLE IF NOT EXISTS frontier (job text NOT NULL, url text NOT NULL, depth integer NOT NULL, PRIMARY KEY (job, url))',
  'CREATE TABLE IF NOT EXISTS seen (job text NOT NULL, url text NOT NULL, PRIMARY KEY (job, url))',
  'CREATE TABLE IF NOT EXISTS contents (job text NOT NULL, hash text NOT NULL, url text NOT NULL, html text NOT NULL, PRIMARY KEY (job, hash))',
];

/** The embedded default: one SQLite file whose statements take turns (the kit's). */
export class SqliteDb extends SqliteTurnDb {
  constructor(file: string) {
    super(file, tables('integer PRIMARY KEY AUTOINCREMENT'));
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

/** The PostgreSQL schema: DB_SCHEMA, else one kept in the data directory (the kit's). */
export function schemaFor(dataDir: string): string {
  return schemaForDataDir(dataDir, 'wc10');
}
