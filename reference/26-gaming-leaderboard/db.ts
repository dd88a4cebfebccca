// The match history's relational store behind the kit's small interface (reference/kit/sql-db.ts): SQLite
// (better-sqlite3, a file in DATA_DIR) by default, PostgreSQL when DATABASE_URL is given (the book's MySQL table of
// wins). SQL is written once with `?` placeholders; the PostgreSQL side numbers them.
import { openPgPool, PgPoolDb, SqliteTurnDb, schemaForDataDir } from '../kit/sql-db.ts';

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

/** The embedded default: one SQLite file whose statements take turns (the kit's). */
export class SqliteDb extends SqliteTurnDb {
  constructor(file: string) {
    super(file, tables('integer', 'integer PRIMARY KEY AUTOINCREMENT'));
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

/** The PostgreSQL schema: DB_SCHEMA, else one kept in the data directory (the kit's). */
export function schemaFor(dataDir: string): string {
  return schemaForDataDir(dataDir, 'rgl26');
}
