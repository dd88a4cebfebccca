// PostgreSQL with named (prepared) statements: the driver parses each once per connection, and the server keeps it
// parsed (and, once it sees a generic plan serve, planned): a reservation's few statements, sent thousands of times
// a second, cost the server less. The rest is kit/sql-db.ts's PgPoolDb (placeholders numbered, a lost database 503).
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { PgPoolDb, type Sql, unavailableFor } from '../kit/sql-db.ts';

/** Statements longer than this (the nights' multi-row inserts) are not prepared: each text would stay per connection. */
const PREPARED_MAX_CHARS = 2000;
const statementNames = new Map<string, string>();

function preparedOn(q: pg.Pool | pg.PoolClient): Sql {
  const query = async (text: string, params: unknown[]) => {
    let n = 0;
    const numbered = text.replace(/\?/g, () => `$${++n}`);
    let name = statementNames.get(numbered);
    // BEGIN, COMMIT and other statements without parameters go as simple queries, as before.
    if (name === undefined && params.length > 0 && numbered.length <= PREPARED_MAX_CHARS) {
      name = `hr23_${createHash('sha1').update(numbered).digest('hex').slice(0, 16)}`;
      statementNames.set(numbered, name);
    }
    try {
      return await q.query(name ? { text: numbered, values: params, name } : { text: numbered, values: params });
    } catch (e) {
      throw unavailableFor(e);
    }
  };
  return {
    all: async <T>(text: string, params: unknown[] = []) => (await query(text, params)).rows as T[],
    run: async (text: string, params: unknown[] = []) => (await query(text, params)).rowCount ?? 0,
  };
}

export class PreparedPgPoolDb extends PgPoolDb {
  protected override on(q: pg.Pool | pg.PoolClient): Sql {
    return preparedOn(q);
  }
}
