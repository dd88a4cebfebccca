// A database of its own for each bug or mutant graded on PostgreSQL: created on the server SDGRADE_DATABASE_URL names,
// dropped after. Graded one after another on one database, a bug that damages what it leaves (a sequence moved back,
// rows in a fixed schema) spoiled the next one's grade: a false catch or a false miss (seen in 09 and 27).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onServer<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'sdgrade-fresh-database' });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The same server and credentials as `url`, in a new empty database. */
export async function freshDatabase(url: string): Promise<FreshDatabase> {
  const name = `sdgrade_graded_${randomBytes(5).toString('hex')}`;
  await onServer(url, (c) => c.query(`CREATE DATABASE ${name}`));
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  return {
    url: fresh.toString(),
    // FORCE: a killed node's connections may still be open (PostgreSQL 13 and later)
    drop: () => onServer(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
