// The micro-benchmark's boards and flow, verified side by side: a seeded board of N players (scores drawn from a
// narrow range, so ties are many, as with the book's 16-bit scores) loaded into the reference's embedded board and
// into the named peer, a Redis sorted set, then a seeded stream of updates applied to both. Every update's new total,
// and at checkpoints the top 10 (players, scores, shared ranks) and a sample of players' scores, positions and shared
// ranks must be the same: a board that answers differently is not timed.
import { Redis } from 'ioredis';
import type { Board } from '../../../reference/26-gaming-leaderboard/board.ts';
import { type Random, seededRandom } from '../../fakes/prng.ts';

/** The one month the benchmark's boards live in. */
export const MONTH = '2026-01';
/** Initial scores are 0..SCORE_RANGE-1: at 1M players about 200 share each score. */
const SCORE_RANGE = 5000;
/** Points an update gives: 1 to 10 (a match won). */
const MAX_POINTS = 10;
const SAMPLE = 40;

/** The sorted-set operations of the book's design, as the peer answers them. */
export interface SortedSetPeer {
  readonly name: string;
  /** ZADD of every player (in batches). */
  load(players: readonly Player[]): Promise<void>;
  /** ZINCRBY: the new total. */
  zincrby(user: string, points: number): Promise<number>;
  /** ZREVRANK: the 0-based position in board order, or null. */
  zrevrank(user: string): Promise<number | null>;
  zscore(user: string): Promise<number | null>;
  /** ZCOUNT key (score +inf: players scoring strictly more. */
  zcountAbove(score: number): Promise<number>;
  /** ZREVRANGE key 0 n-1 WITHSCORES. */
  top(n: number): Promise<{ user_id: string; score: number }[]>;
  /** Bytes the set takes in the peer (MEMORY USAGE), or null where it cannot say. */
  bytes(): Promise<number | null>;
  close(): Promise<void>;
}

export interface Player {
  user_id: string;
  score: number;
}

/** A Redis sorted set through ioredis, the client the reference's Redis board uses; one key per board size. */
export class RedisSortedSet implements SortedSetPeer {
  readonly name = 'Redis sorted set';
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly key: string,
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  }

  async connect(): Promise<string> {
    await this.redis.connect();
    await this.redis.del(this.key);
    const info = await this.redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  }

  async load(players: readonly Player[]): Promise<void> {
    const pipe = this.redis.pipeline();
    for (let i = 0; i < players.length; i += 1000) {
      const args: (string | number)[] = [];
      for (const p of players.slice(i, i + 1000)) args.push(p.score, p.user_id);
      pipe.zadd(this.key, ...args);
    }
    const r = await pipe.exec();
    const failed = r?.find(([e]) => e);
    if (failed) throw failed[0];
  }

  async zincrby(user: string, points: number): Promise<number> {
    return Number(await this.redis.zincrby(this.key, points, user));
  }

  zrevrank(user: string): Promise<number | null> {
    return this.redis.zrevrank(this.key, user);
  }

  async zscore(user: string): Promise<number | null> {
    const s = await this.redis.zscore(this.key, user);
    return s === null ? null : Number(s);
  }

  zcountAbove(score: number): Promise<number> {
    return this.redis.zcount(this.key, `(${score}`, '+inf');
  }

  async top(n: number): Promise<Player[]> {
    const flat = await this.redis.zrevrange(this.key, 0, n - 1, 'WITHSCORES');
    const out: Player[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ user_id: flat[i]!, score: Number(flat[i + 1]) });
    return out;
  }

  async bytes(): Promise<number | null> {
    // SAMPLES 0: every member counted, not an estimate from a sample.
    return (await this.redis.call('MEMORY', 'USAGE', this.key, 'SAMPLES', '0')) as number | null;
  }

  async close(): Promise<void> {
    await this.redis.del(this.key).catch(() => undefined);
    this.redis.disconnect();
  }
}

/**
 * Brute force over a map (every rank a scan): the sorted-set semantics written the plain way, the peer the flow is
 * verified against where no Redis is given. Never timed.
 */
export class BruteForceSortedSet implements SortedSetPeer {
  readonly name = 'brute force';
  private readonly scores = new Map<string, number>();

  async load(players: readonly Player[]): Promise<void> {
    for (const p of players) this.scores.set(p.user_id, p.score);
  }
  async zincrby(user: string, points: number): Promise<number> {
    const s = (this.scores.get(user) ?? 0) + points;
    this.scores.set(user, s);
    return s;
  }
  async zrevrank(user: string): Promise<number | null> {
    const s = this.scores.get(user);
    if (s === undefined) return null;
    let n = 0;
    for (const [u, v] of this.scores) if (v > s || (v === s && u > user)) n++;
    return n;
  }
  async zscore(user: string): Promise<number | null> {
    return this.scores.get(user) ?? null;
  }
  async zcountAbove(score: number): Promise<number> {
    let n = 0;
    for (const v of this.scores.values()) if (v > score) n++;
    return n;
  }
  async top(n: number): Promise<Player[]> {
    const all = [...this.scores].map(([user_id, score]) => ({ user_id, score }));
    all.sort((a, b) => b.score - a.score || (a.user_id < b.user_id ? 1 : a.user_id > b.user_id ? -1 : 0));
    return all.slice(0, n);
  }
  async bytes(): Promise<null> {
    return null;
  }
  async close(): Promise<void> {}
}

export interface Flow {
  players: Player[];
  /** Updates as [player index, points]; the timed update task cycles through them. */
  updates: [number, number][];
  /** Players whose rank the timed rank task asks, in turn. */
  queries: number[];
}

/** User IDs of 24 characters, the book's sizing (a 24-character ID and a score). */
const userId = (rnd: Random) => {
  let s = 'p';
  for (let i = 0; i < 23; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rnd() * 36)];
  return s;
};

export function buildFlow(size: number, seed: number, updates = 20_000): Flow {
  const rnd = seededRandom(seed);
  const ids = new Set<string>();
  while (ids.size < size) ids.add(userId(rnd));
  const players = [...ids].map((user_id) => ({ user_id, score: Math.floor(rnd() * SCORE_RANGE) }));
  const pick = () => Math.floor(rnd() * size);
  return {
    players,
    updates: Array.from({ length: updates }, () => [pick(), 1 + Math.floor(rnd() * MAX_POINTS)] as [number, number]),
    queries: Array.from({ length: 10_000 }, pick),
  };
}

/** The totals each month's rebuild gets: the flow's players on the benchmark's month. */
export const asTotals = (players: readonly Player[]) =>
  new Map([[MONTH, new Map(players.map((p) => [p.user_id, p.score]))]]);

const show = (xs: readonly unknown[]) => JSON.stringify(xs);

/** Shared ranks of a top stretch from the peer: 1 + players scoring strictly more, as the spec defines a rank. */
async function peerTop(peer: SortedSetPeer) {
  const top = await peer.top(10);
  return Promise.all(top.map(async (p) => ({ ...p, rank: (await peer.zcountAbove(p.score)) + 1 })));
}

/**
 * Applies the flow's first `verify` updates to both boards (already loaded with its players), comparing each new
 * total, and every `every` updates and at the end the top 10 and a seeded sample of players. Resolves to the first
 * difference, or null when the boards answered the same throughout.
 */
export async function firstDifference(
  board: Board,
  peer: SortedSetPeer,
  flow: Flow,
  o: { verify: number; every: number; seed: number },
): Promise<string | null> {
  const rnd = seededRandom(o.seed ^ 0x5eed);
  const checkpoint = async (where: string): Promise<string | null> => {
    const ours = (await board.range(MONTH, 0, 9)).entries;
    const theirs = await peerTop(peer);
    if (show(ours) !== show(theirs))
      return `${where}: the top 10 differs: reference ${show(ours)}, ${peer.name} ${show(theirs)}`;
    for (let k = 0; k < SAMPLE; k++) {
      const p = flow.players[Math.floor(rnd() * flow.players.length)]!;
      const s = await board.standing(MONTH, p.user_id);
      const score = await peer.zscore(p.user_id);
      const position = await peer.zrevrank(p.user_id);
      const rank = score === null ? null : (await peer.zcountAbove(score)) + 1;
      const a = s && [s.score, s.position, s.rank];
      const b = score !== null && [score, position, rank];
      if (show([a]) !== show([b]))
        return `${where}: player ${p.user_id}: [score, position, rank] reference ${show([a])}, ${peer.name} ${show([b])}`;
    }
    return null;
  };
  const first = await checkpoint('after loading');
  if (first) return first;
  const n = Math.min(o.verify, flow.updates.length);
  for (let i = 0; i < n; i++) {
    const [who, points] = flow.updates[i]!;
    const user = flow.players[who]!.user_id;
    const ours = await board.increment(MONTH, user, points, i + 1);
    const theirs = await peer.zincrby(user, points);
    if (ours !== theirs)
      return `update ${i + 1} (${points} points to ${user}): total ${ours} in the reference, ${theirs} in ${peer.name}`;
    if ((i + 1) % o.every === 0 || i === n - 1) {
      const d = await checkpoint(`after update ${i + 1}`);
      if (d) return d;
    }
  }
  return null;
}
