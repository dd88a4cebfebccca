// The two boards against brute force, in process: after random increments (small points, so ties are common) every
// player's standing and every stretch of the board (ranks shared, board order) are what sorting gives. The Redis
// board runs when TEST_REDIS_URL is set (scripts/services.sh; CI sets it).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type Board, BoardLost } from './board.ts';
import { MemoryBoard } from './board-memory.ts';
import { applyOps, lastHistoryId, nextHistoryId, opsOf } from './board-model.test-kit.ts';
import { RedisBoard } from './board-redis.ts';

const opsArb = opsOf(30);

async function agreesWithBruteForce(board: Board, month: string, ops: { user: string; points: number }[]) {
  const { all } = await applyOps(board, month, ops);
  for (let start = 0; start < all.length; start += 3) {
    const got = await board.range(month, start, start + 4);
    expect(got).toEqual({ entries: all.slice(start, start + 5), total: all.length });
  }
  expect(await board.standing(month, 'nobody')).toBeNull();
}

describe('MemoryBoard', () => {
  it('agrees with brute force: standings, stretches, shared ranks, board order', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (ops) => {
        await agreesWithBruteForce(new MemoryBoard(), '2021-02', ops);
      }),
      { numRuns: 100, seed: 26 },
    );
  });

  it('keeps months apart and rebuilds from totals', async () => {
    const b = new MemoryBoard();
    await b.increment('2021-01', 'a', 5);
    await b.increment('2021-02', 'a', 1);
    expect((await b.standing('2021-01', 'a'))?.score).toBe(5);
    await b.replaceAll(new Map([['2021-03', new Map([['z', 2]])]]));
    expect(await b.standing('2021-01', 'a')).toBeNull();
    expect(await b.range('2021-03', 0, 9)).toEqual({ entries: [{ user_id: 'z', score: 2, rank: 1 }], total: 1 });
  });
});

describe.runIf(process.env.TEST_REDIS_URL)('RedisBoard', () => {
  it('agrees with brute force on real Redis sorted sets', async () => {
    const board = new RedisBoard(process.env.TEST_REDIS_URL!, `sdgrade:26:test:${randomBytes(6).toString('hex')}:`);
    await board.connect();
    try {
      await board.replaceAll(new Map(), 0);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(opsArb, async (ops) => {
          await agreesWithBruteForce(board, `2021-${String(1 + (n++ % 12)).padStart(2, '0')}-${n}`, ops);
        }),
        { numRuns: 30, seed: 26 },
      );
      await board.replaceAll(new Map([['2021-03', new Map([['z', 2]])]]), 0);
      expect(await board.range('2021-03', 0, 9)).toEqual({ entries: [{ user_id: 'z', score: 2, rank: 1 }], total: 1 });
      expect((await board.range('2021-01-1', 0, 9)).total).toBe(0);
    } finally {
      await board.replaceAll(new Map(), 0);
      await board.close();
    }
  });

  it('says when it lost its data, and never adds a history row the rebuilt board already holds', async () => {
    const prefix = `sdgrade:26:test:${randomBytes(6).toString('hex')}:`;
    const board = new RedisBoard(process.env.TEST_REDIS_URL!, prefix);
    await board.connect();
    const redis = new Redis(process.env.TEST_REDIS_URL!);
    try {
      // Never built: lost.
      expect(await board.lost()).toBe(true);
      await expect(board.increment('2021-04', 'a', 1, 1)).rejects.toBeInstanceOf(BoardLost);
      await expect(board.standing('2021-04', 'a')).rejects.toBeInstanceOf(BoardLost);
      await expect(board.range('2021-04', 0, 9)).rejects.toBeInstanceOf(BoardLost);
      // Built from rows up to 5: row 5 is in it, row 6 is added.
      await board.replaceAll(new Map([['2021-04', new Map([['a', 3]])]]), 5);
      expect(await board.lost()).toBe(false);
      expect(await board.increment('2021-04', 'a', 2, 5)).toBe('included');
      expect(await board.increment('2021-04', 'a', 2, 6)).toBe(5);
      // The data goes (as a Redis restarted without persistence loses it; only this board's keys here).
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.length).toBe(2);
      await redis.del(...keys);
      expect(await board.lost()).toBe(true);
      await expect(board.increment('2021-04', 'a', 1, 7)).rejects.toBeInstanceOf(BoardLost);
      expect(await redis.exists(`${prefix}2021-04`)).toBe(0);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await board.close();
    }
  });
});

/** Brute force under the time tie-break: score descending, then the earlier last update; ranks are positions. */
function bruteForceByTime(scores: Map<string, number>, reached: Map<string, number>) {
  const all = [...scores].map(([user_id, score]) => ({ user_id, score }));
  all.sort((x, y) => y.score - x.score || reached.get(x.user_id)! - reached.get(y.user_id)!);
  return all.map((e, i) => ({ ...e, rank: i + 1 }));
}

async function agreesByTime(board: Board, month: string, ops: { user: string; points: number }[]) {
  const scores = new Map<string, number>();
  const reached = new Map<string, number>();
  for (const op of ops) {
    const want = (scores.get(op.user) ?? 0) + op.points;
    scores.set(op.user, want);
    const id = nextHistoryId();
    reached.set(op.user, id);
    expect(await board.increment(month, op.user, op.points, id)).toBe(want);
  }
  const all = bruteForceByTime(scores, reached);
  for (const [position, e] of all.entries()) expect(await board.standing(month, e.user_id)).toEqual({ ...e, position });
  for (let start = 0; start < all.length; start += 3)
    expect(await board.range(month, start, start + 4)).toEqual({
      entries: all.slice(start, start + 5),
      total: all.length,
    });
  // A rebuild from the totals and the rows that reached them orders the ties the same way.
  await board.replaceAll(new Map([[month, scores]]), lastHistoryId(), new Map([[month, reached]]));
  expect(await board.range(month, 0, all.length)).toEqual({ entries: all, total: all.length });
}

describe('the time tie-break (TIE_BREAK=time)', () => {
  it('MemoryBoard: equal scores rank by who reached them first, ranks are positions, a rebuild keeps the order', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (ops) => {
        await agreesByTime(new MemoryBoard({ tieBreak: 'time' }), '2021-02', ops);
      }),
      { numRuns: 100, seed: 26 },
    );
  });

  it('MemoryBoard (mutant tie-break-later-first): the later arrival ranks first', async () => {
    const b = new MemoryBoard({ tieBreak: 'time', laterFirst: true });
    await b.increment('2021-02', 'a', 2, 1);
    await b.increment('2021-02', 'z', 2, 2);
    expect((await b.range('2021-02', 0, 9)).entries.map((e) => e.user_id)).toEqual(['z', 'a']);
  });

  it.runIf(process.env.TEST_REDIS_URL)('RedisBoard: the same on real Redis sorted sets', async () => {
    const board = new RedisBoard(
      process.env.TEST_REDIS_URL!,
      `sdgrade:26:test:${randomBytes(6).toString('hex')}:`,
      undefined,
      'time',
    );
    await board.connect();
    try {
      await board.replaceAll(new Map(), 0);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(opsArb, async (ops) => {
          await agreesByTime(board, `2021-${String(1 + (n++ % 12)).padStart(2, '0')}-${n}`, ops);
        }),
        { numRuns: 30, seed: 26 },
      );
      // Totals past 2^32 stay exact (the time is in the member, not in the score).
      await board.replaceAll(new Map([['2021-05', new Map([['big', 2 ** 40]])]]), 0, new Map());
      expect(await board.increment('2021-05', 'big', 3, 1)).toBe(2 ** 40 + 3);
      expect(await board.standing('2021-05', 'big')).toEqual({
        user_id: 'big',
        score: 2 ** 40 + 3,
        rank: 1,
        position: 0,
      });
    } finally {
      await board.replaceAll(new Map(), 0);
      await board.close();
    }
  });
});
