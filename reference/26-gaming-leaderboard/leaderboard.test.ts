// The recovery protocol in process: a board that loses its data mid-run (as Redis restarted without persistence)
// is rebuilt from the match history, once, and answers as if nothing happened; updates racing the rebuild are neither
// lost nor counted twice. The history runs on SQLite here, and on PostgreSQL too when TEST_DATABASE_URL is set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Board, BoardLost, type Entry, type Standing } from './board.ts';
import { MemoryBoard } from './board-memory.ts';
import { type Db, PostgresDb, SqliteDb } from './db.ts';
import { MatchHistory } from './history.ts';
import { Leaderboard } from './leaderboard.ts';

/** The embedded board with Redis's marker protocol: it can lose its data, and it knows the history rows it holds. */
class LosableBoard implements Board {
  private inner = new MemoryBoard();
  builtUpTo: number | null = null;

  lose(): void {
    this.builtUpTo = null;
    this.inner = new MemoryBoard();
  }

  private built(): MemoryBoard {
    if (this.builtUpTo === null) throw new BoardLost();
    return this.inner;
  }

  async increment(month: string, user: string, points: number, id: number): Promise<number | 'included'> {
    const b = this.built();
    return id <= this.builtUpTo! ? 'included' : b.increment(month, user, points);
  }
  async set(month: string, user: string, score: number): Promise<void> {
    await this.built().set(month, user, score);
  }
  async standing(month: string, user: string): Promise<Standing | null> {
    return this.built().standing(month, user);
  }
  async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    return this.built().range(month, start, stop);
  }
  async lost(): Promise<boolean> {
    return this.builtUpTo === null;
  }
  async replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>, upTo: number): Promise<void> {
    // Slow enough that updates sent meanwhile race it.
    await new Promise((r) => setTimeout(r, 20));
    const fresh = new MemoryBoard();
    await fresh.replaceAll(totals);
    this.inner = fresh;
    this.builtUpTo = upTo;
  }
  async close(): Promise<void> {}
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sqlite(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-26-lb-'));
  dirs.push(dir);
  return new SqliteDb(join(dir, 'history.sqlite'));
}

async function recovers(db: Db): Promise<void> {
  const board = new LosableBoard();
  const lb = new Leaderboard(board, new MatchHistory(db), { log: () => {} });
  await lb.rebuild();
  const want = new Map<string, number>();
  const add = (user: string, points: number) => want.set(user, (want.get(user) ?? 0) + points);
  for (let i = 0; i < 20; i++) {
    const user = `p${i % 5}`;
    add(user, 1 + (i % 3));
    expect(await lb.update('2100-01', user, 1 + (i % 3))).toBe(want.get(user));
  }
  await lb.update('2100-02', 'p0', 7);

  // Lost, then read first: rebuilt once, every month as it was.
  board.lose();
  const { entries, total } = await lb.range('2100-01', 0, 9);
  expect(total).toBe(5);
  expect(Object.fromEntries(entries.map((e) => [e.user_id, e.score]))).toEqual(Object.fromEntries(want));
  expect((await lb.standing('2100-02', 'p0'))?.score).toBe(7);
  expect(lb.rebuilds).toBe(1);

  // Lost, then many updates at once (some recorded before the rebuild's cut, some after): each answers its own
  // distinct total, and the board holds every one exactly once.
  board.lose();
  const answers = await Promise.all(Array.from({ length: 12 }, () => lb.update('2100-01', 'p1', 1)));
  const before = want.get('p1')!;
  expect(answers.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => before + i + 1));
  add('p1', 12);
  expect((await lb.standing('2100-01', 'p1'))?.score).toBe(want.get('p1'));
  expect(lb.rebuilds).toBe(2);

  // A rebuild from the history alone (a restart) gives the same board.
  const fresh = new LosableBoard();
  await new Leaderboard(fresh, new MatchHistory(db), { log: () => {} }).rebuild();
  expect(await fresh.range('2100-01', 0, 9)).toEqual(await lb.range('2100-01', 0, 9));
}

describe('Leaderboard recovery', () => {
  it('rebuilds a lost board from the history on SQLite', async () => {
    const db = sqlite();
    try {
      await recovers(db);
    } finally {
      await db.close();
    }
  });

  it('shares one rebuild among the requests that found the board lost at once', async () => {
    const db = sqlite();
    try {
      const board = new LosableBoard();
      const lb = new Leaderboard(board, new MatchHistory(db), { log: () => {} });
      await lb.rebuild();
      await lb.update('2100-03', 'a', 1);
      board.lose();
      await Promise.all([lb.standing('2100-03', 'a'), lb.standing('2100-03', 'a'), lb.update('2100-03', 'a', 2)]);
      expect(lb.rebuilds).toBe(1);
      expect((await lb.standing('2100-03', 'a'))?.score).toBe(3);
    } finally {
      await db.close();
    }
  });

  it('answers 503 unavailable, not a 500, when the board stays lost', async () => {
    const db = sqlite();
    try {
      const board = new LosableBoard();
      const lb = new Leaderboard(board, new MatchHistory(db), { log: () => {} });
      board.lose();
      board.replaceAll = async () => {
        throw new Error('connection refused');
      };
      await expect(lb.standing('2100-04', 'a')).rejects.toMatchObject({ status: 503, code: 'unavailable' });
    } finally {
      await db.close();
    }
  });

  it.runIf(process.env.TEST_DATABASE_URL)('rebuilds a lost board from the history on PostgreSQL', async () => {
    const schema = `rgl26_test_${Date.now().toString(36)}`;
    const db = await PostgresDb.connect(process.env.TEST_DATABASE_URL!, schema, () => {});
    try {
      await recovers(db);
    } finally {
      await db.run(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await db.close();
    }
  });
});
