// The PostgreSQL-protocol proxy against a real server (TEST_DATABASE_URL from scripts/services.sh, else a private
// cluster; skipped with the reason when neither is there), driven by `pg` clients as the references drive it: a
// statement in a transaction block is cut where asked (it never reaches the server, the block rolls back), queries
// outside a block and the statements that end one pass, and the cuts are counted, one per transaction.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { type PgWireProxy, startPgWireProxy } from './pg-wire-proxy.ts';
import { findPostgresBin, type PrivatePostgres, startPrivatePostgres } from './private-postgres.ts';

const given = process.env['TEST_DATABASE_URL'];
const bin = findPostgresBin();
let server: PrivatePostgres | undefined;
let upstream = '';
let proxy: PgWireProxy;
const table = `pgwire_${process.pid}`;

beforeAll(async () => {
  if (!given && !bin) return;
  if (!given) server = await startPrivatePostgres({ bin: bin! });
  upstream = given ?? server!.url;
  proxy = await startPgWireProxy(upstream);
  await direct(`CREATE TABLE IF NOT EXISTS ${table} (v text PRIMARY KEY)`);
}, timeLimit(60_000));

afterAll(async () => {
  if (upstream) await direct(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await proxy?.close();
  await server?.close();
});

/** A query on a connection of its own straight to the server (not through the proxy). */
async function direct(sql: string, values: unknown[] = []): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: upstream });
  await c.connect();
  try {
    return (await c.query(sql, values)).rows;
  } finally {
    await c.end();
  }
}

async function viaProxy(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: proxy.url });
  c.on('error', () => {}); // a cut connection emits 'error' too; the query's rejection is what the tests read
  await c.connect();
  return c;
}

async function stored(v: string): Promise<boolean> {
  return (await direct(`SELECT 1 FROM ${table} WHERE v = $1`, [v])).length === 1;
}

describe.skipIf(!given && !bin)('PostgreSQL wire proxy (needs TEST_DATABASE_URL or the server binaries)', () => {
  it(
    'cuts the first statement after BEGIN, which never reaches the server; counts the cut',
    async () => {
      proxy.cutInTransaction(1);
      const c = await viaProxy();
      await c.query('BEGIN');
      await expect(c.query(`INSERT INTO ${table} VALUES ($1)`, ['cut-1'])).rejects.toThrow(
        /terminated|ECONNRESET|reset/i,
      );
      await c.end().catch(() => undefined);
      expect(proxy.cuts).toBe(1);
      expect(proxy.armed).toBe(0);
      expect(proxy.cutLog[0]!.statement).toMatch(/^INSERT INTO/);
      expect(await stored('cut-1')).toBe(false);
    },
    timeLimit(30_000),
  );

  it(
    'lets queries outside a transaction block pass while armed, and COMMIT / ROLLBACK end a block uncut',
    async () => {
      const from = proxy.cuts;
      proxy.cutInTransaction(1);
      const c = await viaProxy();
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['outside']); // extended protocol, autocommit
      // A block whose statements ran before the cut was armed: its COMMIT passes, and so does a ROLLBACK.
      proxy.disarm();
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['committed']);
      proxy.cutInTransaction(1);
      await c.query('COMMIT');
      proxy.disarm();
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['rolled-back']);
      proxy.cutInTransaction(1);
      await c.query('ROLLBACK');
      expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      await c.end();
      expect(proxy.cuts - from).toBe(0);
      expect(proxy.armed).toBe(1);
      proxy.disarm();
      expect(await stored('outside')).toBe(true);
      expect(await stored('committed')).toBe(true);
      expect(await stored('rolled-back')).toBe(false);
    },
    timeLimit(30_000),
  );

  it(
    'cuts exactly K transactions of the ones that follow, whatever their protocol (simple, parsed, prepared)',
    async () => {
      const from = proxy.cuts;
      // A named statement is parsed once per connection; in the block only its Bind is sent.
      const prepared = await viaProxy();
      const insert = { name: 'pgwire_insert', text: `INSERT INTO ${table} VALUES ($1)` };
      await prepared.query({ ...insert, values: ['prepared-outside'] });
      proxy.cutInTransaction(3);
      await prepared.query('BEGIN');
      await expect(prepared.query({ ...insert, values: ['prepared-inside'] })).rejects.toThrow();
      await prepared.end().catch(() => undefined);
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await viaProxy();
        try {
          await c.query('START TRANSACTION');
          // The simple protocol (no parameters) for half of them.
          await (i % 2 ? c.query(`INSERT INTO ${table} VALUES ('simple-${i}')`) : c.query(insert.text, [`x-${i}`]));
          await c.query('COMMIT');
          outcomes.push('committed');
        } catch {
          outcomes.push('cut');
        } finally {
          await c.end().catch(() => undefined);
        }
      }
      expect(outcomes).toEqual(['cut', 'cut', 'committed', 'committed']);
      expect(proxy.cuts - from).toBe(3);
      expect(proxy.cutLog[from]!.statement).toBe(insert.text);
      expect(await stored('prepared-inside')).toBe(false);
      expect(await stored('x-0')).toBe(false);
      expect(await stored('simple-1')).toBe(false);
      expect(await stored('x-2')).toBe(true);
      expect(await stored('simple-3')).toBe(true);
    },
    timeLimit(30_000),
  );

  it(
    'follows the server when the SQL text does not show the block (a failed BEGIN), and cuts only what matches',
    async () => {
      const from = proxy.cuts;
      const c = await viaProxy();
      // A BEGIN that fails (a bad isolation level) opens no block: the next statement is outside one.
      await expect(c.query('BEGIN ISOLATION LEVEL NONSENSE')).rejects.toThrow();
      proxy.cutInTransaction(1, /marked/);
      expect((await c.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['unmarked']);
      await expect(c.query(`INSERT INTO ${table} VALUES ($1) /* marked */`, ['marked'])).rejects.toThrow();
      await c.end().catch(() => undefined);
      expect(proxy.cuts - from).toBe(1);
      expect(await stored('unmarked')).toBe(false);
      expect(await stored('marked')).toBe(false);
    },
    timeLimit(30_000),
  );

  it(
    'holds the commit of the next matching statement (autocommit: its Sync; in a block: its COMMIT) until released',
    async () => {
      const c = await viaProxy();
      const d = await viaProxy();
      // Outside a block: the INSERT runs (its row written, uncommitted), its Sync waits.
      proxy.holdCommit(/^INSERT/i);
      const held = c.query(`INSERT INTO ${table} VALUES ($1) RETURNING v`, ['held-auto']);
      for (let i = 0; i < 200 && proxy.held === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(proxy.held).toBe(1);
      // Another connection inserts and commits meanwhile; the held row is not visible to it.
      await d.query(`INSERT INTO ${table} VALUES ($1)`, ['passes']);
      expect(await stored('passes')).toBe(true);
      expect(await stored('held-auto')).toBe(false);
      proxy.releaseHolds();
      expect((await held).rows).toEqual([{ v: 'held-auto' }]);
      expect(await stored('held-auto')).toBe(true);
      expect(proxy.held).toBe(0);
      // In a block: the statement matched, its COMMIT held.
      await c.query('BEGIN');
      proxy.holdCommit(/^INSERT/i);
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['held-block']);
      const commit = c.query('COMMIT');
      for (let i = 0; i < 200 && proxy.held === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(proxy.held).toBe(1);
      expect(await stored('held-block')).toBe(false);
      proxy.releaseHolds();
      await commit;
      expect(await stored('held-block')).toBe(true);
      // A simple-query INSERT outside a block commits in its one message: counted, not held.
      proxy.holdCommit(/^INSERT/i);
      await c.query(`INSERT INTO ${table} VALUES ('simple')`);
      expect(proxy.unholdable).toBe(1);
      expect(proxy.held).toBe(0);
      proxy.releaseHolds();
      await c.end();
      await d.end();
    },
    timeLimit(30_000),
  );

  it(
    'takeDown() takes the database away at once until up(): open and new connections fail, nothing is cut',
    async () => {
      const from = proxy.cuts;
      const idle = await viaProxy();
      proxy.takeDown();
      expect(proxy.down).toBe(true);
      await expect(idle.query(`INSERT INTO ${table} VALUES ($1)`, ['taken-down'])).rejects.toThrow();
      await idle.end().catch(() => undefined);
      await expect(viaProxy()).rejects.toThrow();
      proxy.up();
      const again = await viaProxy();
      await again.query(`INSERT INTO ${table} VALUES ($1)`, ['taken-up']);
      await again.end();
      expect(proxy.cuts - from).toBe(0);
      expect(await stored('taken-down')).toBe(false);
      expect(await stored('taken-up')).toBe(true);
    },
    timeLimit(30_000),
  );

  it(
    'with down, takes the database away at the cut until up(): statements on other connections and new connections fail',
    async () => {
      const from = proxy.cuts;
      const idle = await viaProxy(); // connected before the cut, used after it
      proxy.cutInTransaction(1, undefined, { down: true });
      const c = await viaProxy();
      await c.query('BEGIN');
      await expect(c.query(`INSERT INTO ${table} VALUES ($1)`, ['down-cut'])).rejects.toThrow();
      await c.end().catch(() => undefined);
      expect(proxy.down).toBe(true);
      // Outside a transaction too: the compensating statement a store might send after the cut does not land.
      await expect(idle.query(`INSERT INTO ${table} VALUES ($1)`, ['down-idle'])).rejects.toThrow();
      await idle.end().catch(() => undefined);
      await expect(viaProxy()).rejects.toThrow();
      proxy.up();
      expect(proxy.down).toBe(false);
      const again = await viaProxy();
      await again.query('BEGIN');
      await again.query(`INSERT INTO ${table} VALUES ($1)`, ['up-again']);
      await again.query('COMMIT');
      await again.end();
      expect(proxy.cuts - from).toBe(1);
      expect(await stored('down-cut')).toBe(false);
      expect(await stored('down-idle')).toBe(false);
      expect(await stored('up-again')).toBe(true);
    },
    timeLimit(30_000),
  );

  it(
    'with after: n, spares the first n statements a block executes (parsed or simple) and cuts the next',
    async () => {
      const from = proxy.cuts;
      proxy.cutInTransaction(1, undefined, { after: 2 });
      const c = await viaProxy();
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['after-1']); // Parse + Bind: one statement
      await c.query(`INSERT INTO ${table} VALUES ('after-2')`);
      await expect(c.query(`INSERT INTO ${table} VALUES ($1)`, ['after-3'])).rejects.toThrow();
      await c.end().catch(() => undefined);
      expect(proxy.cuts - from).toBe(1);
      expect(proxy.cutLog.at(-1)!.statement).toMatch(/^INSERT INTO/);
      expect(await stored('after-1')).toBe(false); // rolled back with the block
      expect(await stored('after-3')).toBe(false);
    },
    timeLimit(30_000),
  );

  it(
    "at 'commit' drops the COMMIT (rolled back); at 'commit-answer' the COMMIT lands and its answer is lost",
    async () => {
      const from = proxy.cuts;
      proxy.cutInTransaction(1, undefined, { at: 'commit' });
      const c = await viaProxy();
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['commit-cut']);
      await expect(c.query('COMMIT')).rejects.toThrow();
      await c.end().catch(() => undefined);
      proxy.cutInTransaction(1, undefined, { at: 'commit-answer', down: true });
      const d = await viaProxy();
      await d.query('BEGIN');
      await d.query(`INSERT INTO ${table} VALUES ($1)`, ['commit-lost']);
      await expect(d.query('COMMIT')).rejects.toThrow();
      await d.end().catch(() => undefined);
      expect(proxy.down).toBe(true);
      proxy.up();
      expect(proxy.cuts - from).toBe(2);
      expect(proxy.cutLog.at(-1)!.statement).toBe('COMMIT (answer lost)');
      expect(await stored('commit-cut')).toBe(false);
      expect(await stored('commit-lost')).toBe(true);
    },
    timeLimit(30_000),
  );

  it(
    'holds the answer to a statement outside a block (run at once) until released; statements in a block pass',
    async () => {
      await direct(`INSERT INTO ${table} VALUES ('late-0')`);
      const reader = await viaProxy();
      const writer = await viaProxy();
      const from = proxy.readsHeld;
      proxy.holdReads(true);
      let answered = false;
      const read = reader.query(`SELECT count(*)::int AS n FROM ${table} WHERE v LIKE 'late-%'`).then((r) => {
        answered = true;
        return r.rows[0].n as number;
      });
      while (proxy.heldReads < 1) await new Promise((ok) => setTimeout(ok, 5));
      // The proxy counts the read held when it forwards it; wait until PostgreSQL has run it (its backend idle after
      // it), or on a busy machine the commit below can reach the server first and the read would count it.
      const ran = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle' AND query LIKE 'SELECT count(*)::int AS n FROM ${table}%'`;
      while (((await direct(ran)) as { n: number }[])[0]!.n < 1) await new Promise((ok) => setTimeout(ok, 5));
      // A transaction on another connection passes while the read's answer is held, and commits.
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO ${table} VALUES ($1)`, ['late-1']);
      await writer.query('COMMIT');
      expect(await stored('late-1')).toBe(true);
      await new Promise((ok) => setTimeout(ok, 50));
      expect(answered).toBe(false);
      expect(proxy.releaseRead()).toBe(true);
      // The read ran when it was sent: its answer predates the commit.
      expect(await read).toBe(1);
      expect(proxy.readsHeld - from).toBe(1);
      expect(proxy.releaseRead()).toBe(false);
      // Turned off, the hold takes no more statements but keeps what it holds; releaseReads() lets all go.
      const next = reader.query('SELECT 2 AS two');
      while (proxy.heldReads < 1) await new Promise((ok) => setTimeout(ok, 5));
      proxy.holdReads(false);
      expect((await writer.query('SELECT 4 AS four')).rows).toEqual([{ four: 4 }]);
      expect(proxy.heldReads).toBe(1);
      proxy.releaseReads();
      expect((await next).rows).toEqual([{ two: 2 }]);
      expect((await reader.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
      expect(proxy.heldReads).toBe(0);
      await reader.end();
      await writer.end();
    },
    timeLimit(30_000),
  );
  it(
    'letGo() lets every fault go at once: armed cuts, the outage, a held commit and held answers',
    async () => {
      const c = await viaProxy();
      proxy.holdCommit(/^INSERT/i);
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${table} VALUES ($1)`, ['let-go']);
      const commit = c.query('COMMIT');
      while (proxy.held < 1) await new Promise((ok) => setTimeout(ok, 5));
      const r = await viaProxy();
      proxy.holdReads(true);
      const read = r.query('SELECT 5 AS five');
      while (proxy.heldReads < 1) await new Promise((ok) => setTimeout(ok, 5));
      proxy.cutInTransaction(3);
      proxy.takeDown();
      proxy.letGo();
      await commit;
      expect((await read).rows).toEqual([{ five: 5 }]);
      expect([proxy.armed, proxy.held, proxy.heldReads, proxy.down]).toEqual([0, 0, 0, false]);
      expect(await stored('let-go')).toBe(true);
      // Nothing is held or cut after it: a new block on a new connection commits.
      const d = await viaProxy();
      await d.query('BEGIN');
      await d.query(`INSERT INTO ${table} VALUES ($1)`, ['after-let-go']);
      await d.query('COMMIT');
      expect(await stored('after-let-go')).toBe(true);
      await Promise.all([c.end(), r.end(), d.end()]);
    },
    timeLimit(30_000),
  );
});
