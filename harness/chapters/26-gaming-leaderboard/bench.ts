// The chapter's micro-benchmark: the reference's embedded board (board-memory.ts, the order-statistic tree behind the
// default store) beside the named peer, a real Redis sorted set (ZINCRBY, ZREVRANK, ZREVRANGE through ioredis, the
// client the reference's Redis board uses), on seeded boards of a few sizes both were first seen to answer
// identically (bench-flow.ts). tinybench times one operation per call, so each gives operations per second and its
// latency percentiles; rounds alternate which side goes first and the figures are their medians. A Redis call is a
// round trip and the embedded call is not, so the ratios are information; what is graded is fair to grade in one
// process: the embedded rank query's growth with the board's size (the book's O(log n)).
import { loadavg } from 'node:os';
import { Bench, type Task } from 'tinybench';
import type { Board } from '../../../reference/26-gaming-leaderboard/board.ts';
import { MemoryBoard } from '../../../reference/26-gaming-leaderboard/board-memory.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { collector, medianHeapBytesOf } from '../../core/heap-bytes.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import type { TargetResult } from '../../results/types.ts';
import {
  asTotals,
  BruteForceSortedSet,
  buildFlow,
  type Flow,
  firstDifference,
  MONTH,
  RedisSortedSet,
  type SortedSetPeer,
} from './bench-flow.ts';

const settings = {
  smoke: { sizes: [10_000, 100_000], rounds: 3, time: 100, warmup: 30, verify: 1000, every: 250 },
  full: { sizes: [10_000, 100_000, 1_000_000], rounds: 3, time: 1000, warmup: 200, verify: 5000, every: 1000 },
};
export const FLOW_SEED = 26;
export const BENCH_TARGETS = ['RGL-T5', 'RGL-T6', 'RGL-T7', 'RGL-T8', 'RGL-T9', 'RGL-T10', 'RGL-T11'];
/** The book's monthly players and its raw bytes per entry (a 24-character ID and a 16-bit score). */
const BOOK_PLAYERS = 25_000_000;
const BOOK_BYTES = 26;

const OPS = ['update', 'rank', 'top10'] as const;
type Op = (typeof OPS)[number];

interface Measured {
  opsPerSecond: number;
  /** Latency percentiles, microseconds. */
  p50: number;
  p99: number;
}

function measured(task: Task): Measured {
  const r = task.result;
  if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state === 'errored' ? r.error.message : r.state}`);
  return { opsPerSecond: 1000 / r.period, p50: r.latency.p50 * 1000, p99: r.latency.p99 * 1000 };
}

/** The three operations on one side, each cycling through the flow's updates or queried players. */
function tasks(flow: Flow, side: { board: Board } | { peer: SortedSetPeer }): Record<Op, () => Promise<unknown>> {
  let u = 0;
  let q = 0;
  let id = 1e9;
  const next = () => flow.updates[u++ % flow.updates.length]!;
  const queried = () => flow.players[flow.queries[q++ % flow.queries.length]!]!.user_id;
  if ('board' in side) {
    const b = side.board;
    return {
      update: () => {
        const [who, points] = next();
        return b.increment(MONTH, flow.players[who]!.user_id, points, id++);
      },
      rank: () => b.standing(MONTH, queried()),
      top10: () => b.range(MONTH, 0, 9),
    };
  }
  const p = side.peer;
  return {
    update: () => {
      const [who, points] = next();
      return p.zincrby(flow.players[who]!.user_id, points);
    },
    rank: () => p.zrevrank(queried()),
    top10: () => p.top(10),
  };
}

type SizeResult = { ours: Record<Op, Measured>; theirs: Record<Op, Measured> | null };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Rounds alternating which side goes first; each figure the median over the rounds. */
async function timeSize(flow: Flow, board: Board, peer: SortedSetPeer | null, profile: Profile): Promise<SizeResult> {
  const s = settings[profile];
  const gc = collector();
  const ours = tasks(flow, { board });
  const theirs = peer ? tasks(flow, { peer }) : null;
  const rounds: { ours: Record<string, Measured>; theirs: Record<string, Measured> }[] = [];
  for (let r = 0; r < s.rounds; r++) {
    const bench = new Bench({
      time: s.time,
      warmupTime: s.warmup,
      timestampProvider: 'hrtimeNow',
      subtractTimerOverhead: true,
      throws: true,
      setup: () => gc(),
    });
    const add = (side: string, t: Record<Op, () => Promise<unknown>>) => {
      for (const op of OPS) bench.add(`${side} ${op}`, t[op]);
    };
    if (r % 2 === 0 || !theirs) add('reference', ours);
    if (theirs) add('peer', theirs);
    if (r % 2 === 1 && theirs) add('reference', ours);
    await bench.run();
    const of = (side: string) =>
      Object.fromEntries(OPS.map((op) => [op, measured(bench.tasks.find((t) => t.name === `${side} ${op}`)!)]));
    rounds.push({ ours: of('reference'), theirs: theirs ? of('peer') : {} });
  }
  const mid = (side: 'ours' | 'theirs') =>
    Object.fromEntries(
      OPS.map((op) => [
        op,
        {
          opsPerSecond: median(rounds.map((x) => x[side][op]!.opsPerSecond)),
          p50: median(rounds.map((x) => x[side][op]!.p50)),
          p99: median(rounds.map((x) => x[side][op]!.p99)),
        },
      ]),
    ) as Record<Op, Measured>;
  return { ours: mid('ours'), theirs: theirs ? mid('theirs') : null };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const us = (x: number) => `${x.toFixed(1)} µs`;
const size = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

export interface BenchOptions {
  /** The board under test; a deliberately wrong one shows the verifier refuses to time it. */
  makeBoard?: () => Board;
  /** The Redis to use; null: none (the peer's targets are skipped). Default SDGRADE_REDIS_URL. */
  redisUrl?: string | null;
}

/**
 * Builds, loads and verifies a board of each size, then times both sides; a board that answers differently from the
 * peer (Redis, or brute force where no Redis is given) leaves every target unmeasured, with the first difference.
 */
export async function measureBoards(
  profile: Profile,
  onProgress: (line: string) => void,
  o: BenchOptions = {},
): Promise<TargetResult[]> {
  const t = loadTargets('26-gaming-leaderboard');
  const s = settings[profile];
  const makeBoard = o.makeBoard ?? (() => new MemoryBoard());
  const url = o.redisUrl === undefined ? (process.env['SDGRADE_REDIS_URL'] ?? null) : o.redisUrl;
  const noRedis = 'not measured: no Redis (SDGRADE_REDIS_URL is not set), so the named peer cannot run';
  const bySize = new Map<number, SizeResult>();
  const redisBytes = new Map<number, number>();
  let redisVersion = '';
  for (const n of s.sizes) {
    onProgress(
      `micro-benchmark: a board of ${int(n)} players, embedded and ${url ? 'Redis' : 'brute force (no Redis)'}`,
    );
    const flow = buildFlow(n, FLOW_SEED + n);
    const board = makeBoard();
    await board.replaceAll(asTotals(flow.players), 0);
    let peer: SortedSetPeer;
    if (url) {
      const redis = new RedisSortedSet(url, `sdgrade:26-bench:${process.pid}:${Date.now()}:${n}`);
      redisVersion = await redis.connect();
      peer = redis;
    } else peer = new BruteForceSortedSet();
    try {
      await peer.load(flow.players);
      const diff = await firstDifference(board, peer, flow, { verify: s.verify, every: s.every, seed: FLOW_SEED });
      if (diff !== null) {
        const reason = `not measured: the boards answered differently (${int(n)} players, seed ${FLOW_SEED + n}) - ${diff}`;
        return BENCH_TARGETS.map((id) => gradeTarget(t[id]!, { value: null, reason }, profile));
      }
      const bytes = url ? await peer.bytes() : null;
      if (bytes) redisBytes.set(n, bytes);
      onProgress(`micro-benchmark: ${int(n)} players verified; timing update, rank and top 10`);
      bySize.set(n, await timeSize(flow, board, url ? peer : null, profile));
    } finally {
      await peer.close();
      await board.close();
    }
  }
  const largest = s.sizes[s.sizes.length - 1]!;
  const tenth = largest / 10;
  onProgress(`micro-benchmark: heap bytes per player of the embedded board at ${int(largest)} players`);
  const players = buildFlow(largest, FLOW_SEED + largest, 0).players;
  const heap = await medianHeapBytesOf(async () => {
    const b = makeBoard();
    await b.replaceAll(asTotals(players), 0);
    return b;
  });
  const load = loadavg()[0]!.toFixed(2);
  const how =
    `tinybench, one operation per call, median of ${s.rounds} rounds (${s.time} ms per operation each, alternating ` +
    `which side goes first), load average ${load}; each board first verified against ` +
    `${url ? `Redis ${redisVersion}` : 'brute force'} (every update's total, top 10 and a sample's ranks at checkpoints)`;
  const at = bySize.get(largest)!;
  const peerOps = (op: Op) =>
    url ? `ZINCRBY / ZREVRANK / ZREVRANGE 0 9 WITHSCORES`.split(' / ')[OPS.indexOf(op)] : '';
  const table = (op: Op) =>
    s.sizes
      .map((n) => {
        const r = bySize.get(n)!;
        const ours = `${int(r.ours[op].opsPerSecond)}/s p99 ${us(r.ours[op].p99)}`;
        return `${size(n)}: reference ${ours}${r.theirs ? `, Redis ${int(r.theirs[op].opsPerSecond)}/s p99 ${us(r.theirs[op].p99)}` : ''}`;
      })
      .join('; ');
  const ratioTarget = (id: string, op: Op, what: string) =>
    gradeTarget(
      t[id]!,
      at.theirs
        ? {
            value: round3(at.ours[op].opsPerSecond / at.theirs[op].opsPerSecond),
            yardstick: {
              name: `Redis ${redisVersion} sorted set (${peerOps(op)} through ioredis), ${int(largest)} players, same run`,
              value: Math.round(at.theirs[op].opsPerSecond),
              unit: 'ops/s',
            },
            reason: `${what}: ${table(op)}; ${how}`,
          }
        : { value: null, reason: noRedis },
      profile,
    );
  // The median call, not the mean: on a loaded machine the mean is pulled by the calls the scheduler preempted.
  const below = bySize.get(tenth)!.ours.rank.p50;
  const growth = below > 0 ? at.ours.rank.p50 / below : 0;
  const perPlayer = heap / largest;
  const redisPer = redisBytes.get(largest);
  return [
    ratioTarget('RGL-T5', 'update', 'an update (the reference: Board.increment; Redis: ZINCRBY)'),
    ratioTarget(
      'RGL-T6',
      'rank',
      "a player's rank (the reference: Board.standing, position and shared rank; Redis: ZREVRANK)",
    ),
    ratioTarget(
      'RGL-T7',
      'top10',
      'the top 10 (the reference: Board.range 0..9 with shared ranks; Redis: ZREVRANGE 0 9 WITHSCORES)',
    ),
    gradeTarget(
      t['RGL-T8']!,
      {
        value: round3(growth),
        reason:
          `median time of a rank query at ${int(largest)} players (${us(at.ours.rank.p50)}) / at ${int(tenth)} ` +
          `(${us(below)}): O(log n) grows ${round3(Math.log(largest) / Math.log(tenth))}x, a scan 10x; ` +
          `${table('rank')}; ${how}`,
      },
      profile,
    ),
    gradeTarget(
      t['RGL-T9']!,
      {
        value: round3(at.ours.rank.p99),
        reason: `p50 ${us(at.ours.rank.p50)}; ${int(largest)} players; ${how}`,
      },
      profile,
    ),
    gradeTarget(
      t['RGL-T10']!,
      perPlayer > 0
        ? {
            value: Math.round(perPlayer),
            reason:
              `JS heap growth of a board of ${int(largest)} players (24-character IDs; median of 3 builds) / players: ` +
              `${round3(perPlayer / BOOK_BYTES)}x the book's ${BOOK_BYTES} bytes of raw data, ${round3(perPlayer / (2 * BOOK_BYTES))}x its doubled ` +
              `figure; the book's 25M players would need ${gb(perPlayer * BOOK_PLAYERS)} of heap (in one process, ` +
              `with --max-old-space-size to match), against the book's 650 MB to 1.3 GB`,
          }
        : {
            value: null,
            reason: `not measured: the heap did not grow while a board of ${int(largest)} players was built`,
          },
      profile,
    ),
    gradeTarget(
      t['RGL-T11']!,
      redisPer
        ? {
            value: Math.round(redisPer / largest),
            reason:
              `MEMORY USAGE (SAMPLES 0) of the sorted set of ${int(largest)} players / players` +
              `${s.sizes.length > 1 ? ` (${s.sizes.map((n) => `${size(n)}: ${Math.round(redisBytes.get(n)! / n)}`).join(', ')})` : ''}: ` +
              `${round3(redisPer / largest / BOOK_BYTES)}x the book's ${BOOK_BYTES} bytes; the book's 25M players would need ` +
              `${gb((redisPer / largest) * BOOK_PLAYERS)} in Redis; Redis ${redisVersion}`,
          }
        : { value: null, reason: url ? 'not measured: Redis did not answer MEMORY USAGE' : noRedis },
      profile,
    ),
  ];
}

export const benchLeaderboard: BenchRun = ({ profile, onProgress }) => measureBoards(profile, onProgress);
