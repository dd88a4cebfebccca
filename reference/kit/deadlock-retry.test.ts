// Two transactions that lock the same two rows in opposite orders deadlock on PostgreSQL, which aborts one of them
// (40P01). Without a retry that request fails; with `retryingDeadlocks` both commit. Needs TEST_DATABASE_URL (CI).
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDeadlock, retryingDeadlocks } from './sql-db.ts';

const url = process.env.TEST_DATABASE_URL;

describe.runIf(url)('deadlocks on PostgreSQL', () => {
  async function crossed(retry: boolean): Promise<PromiseSettledResult<void>[]> {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    const table = `deadlock_${process.pid}_${Date.now().toString(36)}`;
    try {
      await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL)`);
      await pool.query(`INSERT INTO ${table} VALUES (1, 0), (2, 0)`);
      // Each holds its first row before either asks for its second, so exactly one cycle forms every time.
      let arrived = 0;
      let release: () => void = () => {};
      const bothHoldOne = new Promise<void>((ok) => {
        release = ok;
      });
      const lockThen = async (first: number, second: number, attempt: { n: number }) => {
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          await c.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [first]);
          if (attempt.n++ === 0 && ++arrived === 2) release();
          if (attempt.n === 1) await bothHoldOne;
          await c.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [second]);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw e;
        } finally {
          c.release();
        }
      };
      const one = (first: number, second: number) => {
        const attempt = { n: 0 };
        return retry ? retryingDeadlocks(() => lockThen(first, second, attempt)) : lockThen(first, second, attempt);
      };
      const settled = await Promise.allSettled([one(1, 2), one(2, 1)]);
      if (retry) {
        const { rows } = await pool.query(`SELECT v FROM ${table} ORDER BY id`);
        expect(rows.map((r) => r.v)).toEqual([2, 2]);
      }
      return settled;
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await pool.end();
    }
  }

  it('aborts one of two crossed transactions (40P01) when nothing retries', async () => {
    const settled = await crossed(false);
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(isDeadlock((failed[0] as PromiseRejectedResult).reason)).toBe(true);
  });

  it('commits both when the aborted one runs again', async () => {
    const settled = await crossed(true);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
  });
});
