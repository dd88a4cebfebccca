// The micro-benchmark's verifier and its smoke run: the seeded boards answer identically in the embedded board and in
// the peer (brute force here; Redis too where SDGRADE_REDIS_URL is set), a deliberately wrong board is refused with
// every target unmeasured and the first difference named, and a smoke run without Redis measures the embedded
// board's targets and skips the peer's with the reason (the ratios are graded by the main job, never by a test).
import { describe, expect, it } from 'vitest';
import type { Board, Entry, Standing } from '../../../reference/26-gaming-leaderboard/board.ts';
import { MemoryBoard } from '../../../reference/26-gaming-leaderboard/board-memory.ts';
import { timeLimit } from '../grade-test-kit.ts';
import { BENCH_TARGETS, FLOW_SEED, measureBoards } from './bench.ts';
import {
  asTotals,
  BruteForceSortedSet,
  buildFlow,
  firstDifference,
  RedisSortedSet,
  type SortedSetPeer,
} from './bench-flow.ts';

/** Ranks are positions: the second of two tied players is one below the first (the rank-off-by-one-on-ties bug). */
class RanksArePositions extends MemoryBoard {
  override async standing(month: string, user: string): Promise<Standing | null> {
    const s = await super.standing(month, user);
    return s && { ...s, rank: s.position + 1 };
  }
}

/** Ties listed by user ID ascending instead of Redis's descending byte order. */
class TiesAscending extends MemoryBoard {
  override async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    const r = await super.range(month, start, stop + 5);
    const sorted = [...r.entries].sort((a, b) => b.score - a.score || (a.user_id < b.user_id ? -1 : 1));
    return { entries: sorted.slice(0, stop - start + 1), total: r.total };
  }
}

/** Verifies `board` against `peer` on a seeded board of 3,000 players and 600 updates. */
async function verify(board: Board, peer: SortedSetPeer): Promise<string | null> {
  const flow = buildFlow(3000, FLOW_SEED, 600);
  await board.replaceAll(asTotals(flow.players), 0);
  await peer.load(flow.players);
  try {
    return await firstDifference(board, peer, flow, { verify: 600, every: 200, seed: FLOW_SEED });
  } finally {
    await peer.close();
  }
}

const redisUrl = process.env['SDGRADE_REDIS_URL'];
async function redisPeer(): Promise<SortedSetPeer> {
  const r = new RedisSortedSet(redisUrl!, `sdgrade:26-bench-test:${process.pid}:${Date.now()}`);
  await r.connect();
  return r;
}

describe('26-gaming-leaderboard micro-benchmark', () => {
  it('makes a seeded board of 24-character players with many ties, the same for the same seed', () => {
    const flow = buildFlow(3000, FLOW_SEED, 600);
    expect(flow.players).toHaveLength(3000);
    expect(new Set(flow.players.map((p) => p.user_id)).size).toBe(3000);
    for (const p of flow.players) expect(p.user_id).toMatch(/^[a-z0-9]{24}$/);
    expect(new Set(flow.players.map((p) => p.score)).size).toBeLessThan(3000 * 0.9);
    expect(flow.updates).toHaveLength(600);
    expect(buildFlow(3000, FLOW_SEED, 600)).toEqual(flow);
  });

  it('finds the embedded board and brute force answering identically', async () => {
    expect(await verify(new MemoryBoard(), new BruteForceSortedSet())).toBeNull();
  });

  it.skipIf(!redisUrl)('finds the embedded board and a Redis sorted set answering identically', async () => {
    expect(await verify(new MemoryBoard(), await redisPeer())).toBeNull();
  });

  it.each([
    ['ranks are positions', () => new RanksArePositions(), /player p[a-z0-9]+: \[score, position, rank\]/],
    ['ties listed ascending', () => new TiesAscending(), /the top 10 differs/],
  ] as const)('names the first difference of a wrong board (%s)', async (_, make, difference) => {
    expect(await verify(make(), new BruteForceSortedSet())).toMatch(difference);
    if (redisUrl) expect(await verify(make(), await redisPeer())).toMatch(difference);
  });

  it(
    'refuses to time a wrong board: every target unmeasured, with the first difference',
    async () => {
      const targets = await measureBoards('smoke', () => {}, {
        makeBoard: () => new RanksArePositions(),
        redisUrl: null,
      });
      expect(targets.map((t) => `${t.id} ${t.verdict}`)).toEqual(BENCH_TARGETS.map((id) => `${id} skipped`));
      for (const t of targets) expect(t.reason).toMatch(/^not measured: the boards answered differently .*rank/);
    },
    timeLimit(60_000),
  );

  it(
    'measures the embedded board on smoke settings without Redis, the peer targets skipped with the reason',
    async () => {
      const targets = await measureBoards('smoke', () => {}, { redisUrl: null });
      expect(targets.map((t) => t.id)).toEqual(BENCH_TARGETS);
      const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
      for (const id of ['RGL-T5', 'RGL-T6', 'RGL-T7', 'RGL-T11']) {
        expect(byId[id]!.verdict, id).toBe('skipped');
        expect(byId[id]!.reason, id).toContain('no Redis (SDGRADE_REDIS_URL is not set)');
      }
      for (const id of ['RGL-T8', 'RGL-T9', 'RGL-T10']) expect(byId[id]!.value, id).toBeGreaterThan(0);
      expect(byId['RGL-T8']!.target).toBe(3.16);
      expect(['pass', 'fail']).toContain(byId['RGL-T8']!.verdict);
      expect(byId['RGL-T10']!.reason).toContain("the book's 26 bytes");
    },
    timeLimit(120_000),
  );
});
