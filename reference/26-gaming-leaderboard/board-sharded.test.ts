// The score-range sharded boards (SHARDING=score-range) against brute force, in process: after random increments
// whose totals cross the shards' bounds, every standing, every window and the top of the board (shared ranks, board
// order, total) are what sorting one board gives; a rebuild puts every player in the shard of their total. The Redis
// board runs when TEST_REDIS_URL is set (scripts/services.sh; CI sets it).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { Board } from './board.ts';
import { ShardedMemoryBoard } from './board-memory-sharded.ts';
import { applyOps, lastHistoryId, opsOf } from './board-model.test-kit.ts';
import { ShardedRedisBoard } from './board-redis-sharded.ts';
import { type ShardBounds, shardingFromEnv, shardOf } from './shards.ts';

/** Six shards whose edges 1-3 points an update cross often. */
const BOUNDS: ShardBounds = { lower: [2, 4, 6, 9, 13] };

const opsArb = opsOf(40);

async function agreesWithBruteForce(board: Board, month: string, ops: { user: string; points: number }[]) {
  const { scores, all } = await applyOps(board, month, ops);
  // Every window of nine (the around-me read), clipped at both ends.
  for (let p = 0; p < all.length; p++)
    expect(await board.range(month, p - 4, p + 4)).toEqual({
      entries: all.slice(Math.max(0, p - 4), p + 5),
      total: all.length,
    });
  expect(await board.range(month, 0, 9)).toEqual({ entries: all.slice(0, 10), total: all.length });
  expect(await board.standing(month, 'nobody')).toBeNull();
  // A rebuild from the totals gives the same board.
  await board.replaceAll(new Map([[month, scores]]), lastHistoryId());
  expect(await board.range(month, 0, all.length)).toEqual({ entries: all, total: all.length });
}

describe('shards.ts', () => {
  it('maps scores to shards and reads SHARDING / SHARD_BOUNDS', () => {
    expect([1, 2, 3, 4, 12, 13, 10 ** 9].map((s) => shardOf(BOUNDS, s))).toEqual([0, 1, 1, 2, 4, 5, 5]);
    expect(shardingFromEnv({})).toBeNull();
    expect(shardingFromEnv({ SHARDING: 'score-range', SHARD_BOUNDS: '3, 5,100' })).toEqual({ lower: [3, 5, 100] });
    for (const bad of ['', '5,3', '3,3', '0,4', '2.5', 'x'])
      expect(() => shardingFromEnv({ SHARDING: 'score-range', SHARD_BOUNDS: bad }), bad).toThrow(/SHARD_BOUNDS/);
    expect(() => shardingFromEnv({ SHARDING: 'hash' })).toThrow(/SHARDING/);
  });
});

describe('ShardedMemoryBoard', () => {
  it('agrees with one board by brute force: standings, windows across shard edges, the top, the rebuild', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (ops) => {
        await agreesWithBruteForce(new ShardedMemoryBoard(BOUNDS), '2021-02', ops);
      }),
      { numRuns: 150, seed: 26 },
    );
  });
});

describe.runIf(process.env.TEST_REDIS_URL)('ShardedRedisBoard', () => {
  it('agrees with brute force on real Redis sorted sets, one per shard', async () => {
    const prefix = `sdgrade:26:test:${randomBytes(6).toString('hex')}:`;
    const board = new ShardedRedisBoard(process.env.TEST_REDIS_URL!, prefix, BOUNDS);
    await board.connect();
    const redis = new Redis(process.env.TEST_REDIS_URL!);
    try {
      await board.replaceAll(new Map(), 0);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(opsArb, async (ops) => {
          await agreesWithBruteForce(board, `2021-${String(1 + (n++ % 12)).padStart(2, '0')}-${n}`, ops);
        }),
        { numRuns: 30, seed: 26 },
      );
      // A player in exactly one shard after moving up through all of them; totals past 2^32 stay exact.
      await board.replaceAll(new Map([['2021-05', new Map([['big', 2 ** 40]])]]), 0);
      expect(await board.increment('2021-05', 'm', 1, 1)).toBe(1);
      for (let i = 0; i < 6; i++) await board.increment('2021-05', 'm', 3, 2 + i);
      const holding = [];
      for (let k = 0; k < 6; k++) if ((await redis.zscore(`${prefix}2021-05:shard${k}`, 'm')) !== null) holding.push(k);
      expect(holding).toEqual([5]);
      expect(await board.increment('2021-05', 'big', 3, 9)).toBe(2 ** 40 + 3);
      expect(await board.standing('2021-05', 'm')).toEqual({ user_id: 'm', score: 19, rank: 2, position: 1 });
    } finally {
      await board.replaceAll(new Map(), 0);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await board.close();
    }
  });
});
