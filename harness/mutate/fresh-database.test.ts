// A database of its own per graded bug or mutant: created empty on the given server, gone after drop, even with a
// connection still open (a node killed mid-grade leaves its connections to PostgreSQL's timeout).
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from './fresh-database.ts';

const given = process.env['TEST_DATABASE_URL'];

async function databases(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ datname: string }>('SELECT datname FROM pg_database')).rows.map((r) => r.datname);
  } finally {
    await c.end();
  }
}

describe.skipIf(!given)('freshDatabase (needs TEST_DATABASE_URL)', () => {
  it('creates an empty database on the same server and drops it with a connection still open', async () => {
    const url = given!;
    const db = await freshDatabase(url);
    const name = new URL(db.url).pathname.slice(1);
    expect(new URL(db.url).host).toBe(new URL(url).host);
    expect(await databases(url)).toContain(name);
    const left = new pg.Client({ connectionString: db.url });
    await left.connect();
    left.on('error', () => {});
    const tables = await left.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    expect(tables.rows[0].n).toBe(0);
    await db.drop();
    expect(await databases(url)).not.toContain(name);
    await left.end().catch(() => {});
  });
});
