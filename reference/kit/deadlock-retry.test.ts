// Two transactions that lock the same two rows in opposite orders deadlock on PostgreSQL, which aborts one of them
// (40P01). Without a retry that request fails; with `retryingDeadlocks` both commit. A lock wait cut at the session's
// lock_timeout (55P03) is run again the same way, and one cancelled at statement_timeout (57014) once. Needs TEST_DATABASE_URL (CI); the error classes need nothing.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isConnectionError, isDeadlock, isLockTimeout, isStatementTimeout, retryingDeadlocks } from './sql-db.ts';

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

describe('what counts as the database being away', () => {
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });

  it("tells the server's errors by SQLSTATE, whatever their message says", () => {
    expect(isConnectionError(pgError('57014', 'canceling statement due to statement timeout'))).toBe(true);
    expect(isConnectionError(pgError('57P03', 'the database system is starting up'))).toBe(true);
    expect(isConnectionError(pgError('08006', 'connection failure'))).toBe(true);
    // A lock wait cut short, or a deadlock, is the statement's: the store may run it again (not 503 at once).
    expect(isConnectionError(pgError('55P03', 'canceling statement due to lock timeout'))).toBe(false);
    expect(isConnectionError(pgError('40P01', 'deadlock detected'))).toBe(false);
    expect(isConnectionError(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
  });

  it("tells the driver's own errors by their message", () => {
    expect(isConnectionError(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(new Error('column "x" does not exist'))).toBe(false);
  });
});

describe.runIf(url)('lock waits cut at lock_timeout on PostgreSQL', () => {
  it('runs a transaction again when its lock wait passed lock_timeout (55P03), and it then commits', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 3, lock_timeout: 200 });
    const table = `lockwait_${process.pid}_${Date.now().toString(36)}`;
    try {
      await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL)`);
      await pool.query(`INSERT INTO ${table} VALUES (1, 0)`);
      const holder = await pool.connect();
      await holder.query('BEGIN');
      await holder.query(`UPDATE ${table} SET v = v + 1 WHERE id = 1`);
      // The row is held for 600 ms: the first attempts wait 200 ms each and are cut; a later one finds it free.
      const released = new Promise<void>((ok) =>
        setTimeout(async () => {
          await holder.query('COMMIT');
          holder.release();
          ok();
        }, 600),
      );
      const errors: unknown[] = [];
      await retryingDeadlocks(async () => {
        try {
          await pool.query(`UPDATE ${table} SET v = v + 10 WHERE id = 1`);
        } catch (e) {
          errors.push(e);
          throw e;
        }
      }, 10);
      await released;
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every(isLockTimeout)).toBe(true);
      const { rows } = await pool.query(`SELECT v FROM ${table}`);
      expect(rows[0].v).toBe(11);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await pool.end();
    }
  });
});

describe.runIf(url)('statements cut at statement_timeout on PostgreSQL', () => {
  /**
   * Runs an UPDATE of a row another transaction holds, under a 300 ms statement_timeout; the holder commits once the
   * UPDATE has been cut `cutsBeforeRelease` times (events, not timers: the same on a starved machine).
   */
  async function behindHolder(cutsBeforeRelease: number) {
    const pool = new pg.Pool({ connectionString: url, max: 3, statement_timeout: 300 });
    const table = `stmtwait_${process.pid}_${Date.now().toString(36)}`;
    try {
      await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL)`);
      await pool.query(`INSERT INTO ${table} VALUES (1, 0)`);
      const holder = await pool.connect();
      let held = true;
      const release = async () => {
        if (!held) return;
        held = false;
        await holder.query('COMMIT');
        holder.release();
      };
      await holder.query('BEGIN');
      await holder.query(`UPDATE ${table} SET v = v + 1 WHERE id = 1`);
      const errors: unknown[] = [];
      const [result] = await Promise.allSettled([
        retryingDeadlocks(async () => {
          try {
            await pool.query(`UPDATE ${table} SET v = v + 10 WHERE id = 1`);
          } catch (e) {
            errors.push(e);
            if (errors.length >= cutsBeforeRelease) await release();
            throw e;
          }
        }, 10),
      ]);
      await release();
      const { rows } = await pool.query(`SELECT v FROM ${table}`);
      return { result: result!, errors, v: rows[0].v as number };
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await pool.end();
    }
  }

  it('runs a transaction again once when a statement passed statement_timeout (57014), and it then commits', async () => {
    const { result, errors, v } = await behindHolder(1);
    expect(result.status).toBe('fulfilled');
    expect(errors).toHaveLength(1);
    expect(isStatementTimeout(errors[0])).toBe(true);
    expect(v).toBe(11);
  });

  it('gives up at the second statement timeout: the database is slow, the client has waited long enough', async () => {
    const { result, errors, v } = await behindHolder(2);
    expect(result.status).toBe('rejected');
    expect(errors).toHaveLength(2);
    expect(isStatementTimeout((result as PromiseRejectedResult).reason)).toBe(true);
    expect(v).toBe(1);
  });
});
