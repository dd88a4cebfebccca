// The book's design on real Redis: one sorted set per month, `ZINCRBY` for an update, `ZREVRANK` for a position,
// `ZREVRANGE ... WITHSCORES` for a stretch of the board and `ZCOUNT key (score +inf` for a shared rank (ZREVRANK
// alone would give tied players different ranks). Keys are `<prefix><month>`; the prefix names this instance's data
// so that several instances (and test runs) can share one Redis.
//
// Redis may lose the boards (a restart without persistence, a FLUSHALL). A rebuild from the match history writes,
// with the boards, a marker `<prefix>~built` holding the last history id they contain. No marker: the boards are
// lost, and every operation says so (BoardLost) instead of answering from, or adding to, an empty board. An update
// adds its points only if the marker is there and older than its history row, in one script, so a row is never
// both in a rebuilt board and added on top of it.
import { Redis } from 'ioredis';
import { type Board, BoardLost, type Entry, rankStretch, type Standing } from './board.ts';

/** KEYS: board, marker. ARGV: points, user, history id. {0}: lost; {1}: already in the board; {2, total}: added. */
const INCREMENT_IF_BUILT = `
local built = redis.call('GET', KEYS[2])
if not built then return {0} end
if tonumber(ARGV[3]) <= tonumber(built) then return {1} end
return {2, redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])}
`;

type WithScript = Redis & {
  incrementIfBuilt(board: string, marker: string, points: number, user: string, id: number): Promise<[number, string?]>;
};

export class RedisBoard implements Board {
  private readonly redis: WithScript;
  private readonly marker: string;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true }) as WithScript;
    // EVALSHA, and EVAL when a restarted Redis no longer has the script.
    this.redis.defineCommand('incrementIfBuilt', { numberOfKeys: 2, lua: INCREMENT_IF_BUILT });
    this.marker = `${prefix}~built`;
  }

  async connect(): Promise<void> {
    await this.redis.connect();
  }

  /** Whether Redis answers now (readiness reports it). */
  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  private key(month: string): string {
    return `${this.prefix}${month}`;
  }

  async increment(month: string, user: string, points: number, id: number): Promise<number | 'included'> {
    const [outcome, total] = await this.redis.incrementIfBuilt(this.key(month), this.marker, points, user, id);
    if (outcome === 0) throw new BoardLost();
    return outcome === 1 ? 'included' : Number(total);
  }

  async set(month: string, user: string, score: number): Promise<void> {
    await this.redis.zadd(this.key(month), score, user);
  }

  async standing(month: string, user: string): Promise<Standing | null> {
    const key = this.key(month);
    const r = await this.redis.multi().zscore(key, user).zrevrank(key, user).exists(this.marker).exec();
    if (r?.[2]?.[1] !== 1) throw new BoardLost();
    const score = r?.[0]?.[1] as string | null;
    const position = r?.[1]?.[1] as number | null;
    if (score === null || score === undefined || position === null || position === undefined) return null;
    const higher = await this.redis.zcount(key, `(${score}`, '+inf');
    return { user_id: user, score: Number(score), rank: higher + 1, position };
  }

  async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    const key = this.key(month);
    const from = Math.max(0, start);
    const r = await this.redis.multi().zrevrange(key, from, stop, 'WITHSCORES').zcard(key).exists(this.marker).exec();
    if (r?.[2]?.[1] !== 1) throw new BoardLost();
    const flat = (r?.[0]?.[1] ?? []) as string[];
    const total = Number(r?.[1]?.[1] ?? 0);
    const stretch: { user_id: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) stretch.push({ user_id: flat[i]!, score: Number(flat[i + 1]) });
    if (stretch.length === 0) return { entries: [], total };
    const higher = await this.redis.zcount(key, `(${stretch[0]!.score}`, '+inf');
    return { entries: rankStretch(from, higher, stretch), total };
  }

  async lost(): Promise<boolean> {
    return (await this.redis.exists(this.marker)) === 0;
  }

  async replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>, upTo: number): Promise<void> {
    // Every month of this instance is dropped and written again in one transaction, so no reader sees half a board;
    // the marker, last, says which history rows the boards hold.
    const old = await this.redis.keys(`${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    const tx = this.redis.multi();
    if (old.length > 0) tx.del(...old);
    for (const [month, users] of totals) {
      const args: (string | number)[] = [];
      for (const [user, score] of users) args.push(score, user);
      for (let i = 0; i < args.length; i += 2000) tx.zadd(this.key(month), ...args.slice(i, i + 2000));
    }
    tx.set(this.marker, String(upTo));
    const r = await tx.exec();
    const failed = r?.find(([e]) => e);
    if (!r || failed) throw failed?.[0] ?? new Error('the rebuild transaction was discarded');
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
