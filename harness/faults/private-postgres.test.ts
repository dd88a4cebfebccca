// A real private PostgreSQL: started, crashed with `pg_ctl stop -m immediate`, started again with its data. Skipped
// with the reason when the server's binaries are not installed (CI installs the postgresql package).
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { findPostgresBin, type PrivatePostgres, startPrivatePostgres } from './private-postgres.ts';

const bin = findPostgresBin();
let server: PrivatePostgres | undefined;
afterAll(async () => {
  await server?.close();
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(!bin)(`private PostgreSQL (${bin ?? 'no binaries under /usr/lib/postgresql/*/bin'})`, () => {
  it(
    'keeps committed data through a crash and a restart on the same port, and refuses connections meanwhile',
    async () => {
      server = await startPrivatePostgres();
      expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      await query(server.url, 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
      await server.crash();
      expect(server.running).toBe(false);
      await expect(query(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED|connect/);
      await server.start();
      expect(await query(server.url, 'SELECT v FROM kept')).toEqual([{ v: 42 }]);
      // ANALYZE gives the planner the table's statistics (its row count); the deadlock count starts at none.
      await server.analyze();
      expect(await query(server.url, "SELECT reltuples FROM pg_class WHERE relname = 'kept'")).toEqual([
        { reltuples: 1 },
      ]);
      expect(await server.deadlocks()).toBe(0);
      const dataDir = server.dataDir;
      await server.close();
      await expect(query(server.url, 'SELECT 1')).rejects.toThrow();
      const { existsSync } = await import('node:fs');
      expect(existsSync(dataDir)).toBe(false);
    },
    timeLimit(90_000),
  );
});
