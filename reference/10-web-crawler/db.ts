// The crawl state's relational store behind the kit's small interface (reference/kit/sql-db.ts): SQLite
// (better-sqlite3, a file in DATA_DIR) by default, PostgreSQL when DATABASE_URL is given. SQL is written once with
// `?` placeholders; the PostgreSQL side numbers them.
import { openPgPool, PgPoolDb, SqliteTurnDb, schemaForDataDir } from '../kit/sql-db.ts';

export type { Db, Sql } from '../kit/sql-db.ts';

// A page's content is its bytes as served (bytea / blob): a page may hold a NUL byte or invalid UTF-8, which a text
// column cannot hold (PostgreSQL refuses both) or would not give back as served.
const tables = (serial: string, bytes: string) => [
  'CREATE TABLE IF NOT EXISTS jobs (id text PRIMARY KEY, config text NOT NULL, state text NOT NULL, created_at text NOT NULL)',
  `CREATE TABLE IF NOT EXISTS pages (seq ${serial}, job text NOT NULL, url text NOT NULL, outcome text NOT NULL, body text NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS pages_job ON pages (job, seq)',
  // A job's page is recorded once (URL seen), and a record tried again after a lost commit is not a second page.
  'CREATE UNIQUE INDEX IF NOT EXISTS pages_job_url ON pages (job, url)',
  'CREATE TABLE IF NOT EXISTS frontier (job text NOT NULL, url text NOT NULL, depth integer NOT NULL, PRIMARY KEY (job, url))',
  'CREATE TABLE IF NOT EXISTS seen (job text NOT NULL, url text NOT NULL, PRIMARY KEY (job, url))',
  `CREATE TABLE IF NOT EXISTS contents (job text NOT NULL, hash text NOT NULL, url text NOT NULL, html ${bytes} NOT NULL, PRIMARY KEY (job, hash))`,
];

/**
 * A schema of the old version (contents.html text) migrated in place, under the DDL's lock: the text becomes its UTF-8
 * bytes, which is what that version stored (the body decoded as UTF-8); only what is stored from now on is exact.
 */
const CONTENTS_TO_BYTEA = `DO $$ BEGIN
  IF (SELECT data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'contents' AND column_name = 'html') = 'text' THEN
    ALTER TABLE contents ALTER COLUMN html TYPE bytea USING convert_to(html, 'UTF8');
  END IF;
END $$`;

/** The embedded default: one SQLite file whose statements take turns (the kit's). */
export class SqliteDb extends SqliteTurnDb {
  constructor(file: string) {
    // A file of the old schema (html declared text) needs no migration: SQLite keeps a blob as a blob in a column of
    // text affinity, and the rows it holds are the UTF-8 of the old decoded text.
    super(file, tables('integer PRIMARY KEY AUTOINCREMENT', 'blob'));
  }
}

export class PostgresDb extends PgPoolDb {
  static async connect(connectionString: string, schema: string, log: (m: string) => void): Promise<PostgresDb> {
    const pool = await openPgPool({
      connectionString,
      schema,
      applicationName: 'sdgrade-reference/10-web-crawler',
      lockKey: 0x5d9_0010,
      ddl: [...tables('bigserial PRIMARY KEY', 'bytea'), CONTENTS_TO_BYTEA],
      log,
    });
    return new PostgresDb(pool);
  }
}

/** The PostgreSQL schema: DB_SCHEMA, else one kept in the data directory (the kit's). */
export function schemaFor(dataDir: string): string {
  return schemaForDataDir(dataDir, 'wc10');
}
