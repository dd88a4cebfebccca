// The book's design on real Redis: one sorted set per month, `ZINCRBY` for an update, `ZREVRANK` for a position,
// `ZREVRANGE ... WITHSCORES` for a stretch of the board and `ZCOUNT key (score +inf` for a shared rank (ZREVRANK
// alone would give tied players different ranks). Keys are `<prefix><month>`; the prefix names this instance's data
// so that several instances (and test runs) can share one Redis.
import { Redis } from 'ioredis';
import { type Board, type Entry, rankStretch, type Standing } from './board.ts';

export class RedisBoard implements Board {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
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

  async increment(month: string, user: string, points: number): Promise<number> {
    return Number(await this.redis.zincrby(this.key(month), points, user));
  }

  async set(month: string, user: string, score: number): Promise<void> {
    await this.redis.zadd(this.key(month), score, user);
  }

  async standing(month: string, user: string): Promise<Standing | null> {
    const key = this.key(month);
    const r = await this.redis.multi().zscore(key, user).zrevrank(key, user).exec();
    const score = r?.[0]?.[1] as string | null;
    const position = r?.[1]?.[1] as number | null;
    if (score === null || score === undefined || position === null || position === undefined) return null;
    const higher = await this.redis.zcount(key, `(${score}`, '+inf');
    return { user_id: user, score: Number(score), rank: higher + 1, position };
  }

  async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    const key = this.key(month);
    const from = Math.max(0, start);
    const r = await this.redis.multi().zrevrange(key, from, stop, 'WITHSCORES').zcard(key).exec();
    const flat = (r?.[0]?.[1] ?? []) as string[];
    const total = Number(r?.[1]?.[1] ?? 0);
    const stretch: { user_id: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) stretch.push({ user_id: flat[i]!, score: Number(flat[i + 1]) });
    if (stretch.length === 0) return { entries: [], total };
    const higher = await this.redis.zcount(key, `(${stretch[0]!.score}`, '+inf');
    return { entries: rankStretch(from, higher, stretch), total };
  }

  async replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>): Promise<void> {
    // Every month of this instance is dropped and written again in one transaction, so no reader sees half a board.
    const old = await this.redis.keys(`${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    const tx = this.redis.multi();
    if (old.length > 0) tx.del(...old);
    for (const [month, users] of totals) {
      const args: (string | number)[] = [];
      for (const [user, score] of users) args.push(score, user);
      for (let i = 0; i < args.length; i += 2000) tx.zadd(this.key(month), ...args.slice(i, i + 2000));
    }
    await tx.exec();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
