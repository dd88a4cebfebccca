// Score-range shards on Redis (SHARDING=score-range, shards.ts): per month one sorted set per shard,
// `<prefix><month>:shard<k>` (k = 0 for the lowest scores), and the book's mapping of each player to their shard, a
// hash `<prefix><month>~shard`. A shared rank = the players of the higher shards (ZCARD of each, O(1): the book reads
// the same count from INFO keyspace) + ZCOUNT (score +inf in the own shard + 1; the top 10 reads the highest shards
// down; a window crosses shard edges.
//
// Every operation is one Lua script, so a move to another shard (ZREM from the old set, ZADD to the new, the mapping
// updated, then ZINCRBY) is atomic: no read sees the player in both shards or in neither. That needs a month's shards
// in one Redis (a Redis Cluster would keep them in one slot with a `{month}` hash tag, i.e. on one node); the book's
// shards on separate Redis nodes could not move a player atomically this way (not built).
//
// The lost-board marker is the unsharded board's (board-redis.ts): written last by the rebuild, checked by every
// script, so nothing is answered from, or added to, an emptied Redis.
import type { Redis } from 'ioredis';
import { type Board, BoardLost, type Entry, rankStretch, type Standing } from './board.ts';
import type { MutantName } from './mutants.ts';
import { RedisLink } from './redis-link.ts';
import { type ShardBounds, shardCount, shardOf } from './shards.ts';

/** As board-redis.ts: a Redis kept away is 503 promptly, never a request held. */

/**
 * KEYS: marker, player -> shard hash, shard 0..n-1. ARGV: points, user, history id, lowest score of shards 1..n-1.
 * {0}: lost; {1}: already in the board; {2, total}. The score is carried as Redis's own string (ZADD of the old
 * score's string into the new shard, then ZINCRBY), so no total passes through Lua's numbers; only the choice of
 * shard compares a number (exact for integers up to 2^53).
 */
const INCREMENT = `
local built = redis.call('GET', KEYS[1])
if not built then return {0} end
if tonumber(ARGV[3]) <= tonumber(built) then return {1} end
local user = ARGV[2]
local from = redis.call('HGET', KEYS[2], user)
local old = false
if from then
  from = tonumber(from)
  old = redis.call('ZSCORE', KEYS[3 + from], user)
end
local new = (old and tonumber(old) or 0) + tonumber(ARGV[1])
local to = 0
for i = 4, #ARGV do
  if new >= tonumber(ARGV[i]) then to = i - 3 end
end
if from ~= to then
  if old then
    redis.call('ZREM', KEYS[3 + from], user)
    redis.call('ZADD', KEYS[3 + to], old, user)
  end
  redis.call('HSET', KEYS[2], user, to)
end
return {2, redis.call('ZINCRBY', KEYS[3 + to], ARGV[1], user)}
`;

/** KEYS: marker, hash, shard 0..n-1. ARGV: user. {0}: lost; {1}: not on the board; {2, score, position, higher}. */
const STANDING = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local k = redis.call('HGET', KEYS[2], ARGV[1])
if not k then return {1} end
k = tonumber(k)
local score = redis.call('ZSCORE', KEYS[3 + k], ARGV[1])
if not score then return {1} end
local above = 0
for i = 4 + k, #KEYS do above = above + redis.call('ZCARD', KEYS[i]) end
return {2, score, above + redis.call('ZREVRANK', KEYS[3 + k], ARGV[1]),
  above + redis.call('ZCOUNT', KEYS[3 + k], '(' .. score, '+inf')}
`;

/**
 * KEYS: marker, shard 0..n-1. ARGV: from, stop (board positions). {0}: lost; {1, total, higher than the first,
 * [user, score, ...]}: each shard's part of the stretch, the highest shard first.
 */
const RANGE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local from, stop = tonumber(ARGV[1]), tonumber(ARGV[2])
local cards, total = {}, 0
for i = 2, #KEYS do
  cards[i] = redis.call('ZCARD', KEYS[i])
  total = total + cards[i]
end
local flat, higher, offset = {}, 0, 0
for i = #KEYS, 2, -1 do
  if offset > stop then break end
  local size = cards[i]
  if offset + size > from then
    local part = redis.call('ZREVRANGE', KEYS[i], math.max(from, offset) - offset, math.min(stop, offset + size - 1) - offset, 'WITHSCORES')
    if #flat == 0 and #part > 0 then higher = offset + redis.call('ZCOUNT', KEYS[i], '(' .. part[2], '+inf') end
    for _, v in ipairs(part) do flat[#flat + 1] = v end
  end
  offset = offset + size
end
return {1, total, higher, flat}
`;

/** A mutant's script: the reference's with one piece changed; a piece no longer in the script is an error, not a no-op. */
function mutated(script: string, piece: string, by: string): string {
  if (!script.includes(piece)) throw new Error(`the mutant's piece is not in the script: ${piece}`);
  return script.replace(piece, by);
}

/** The scripts a mutant changes (each a Redis twin of the embedded sharded board's mutant of the same name). */
function scriptsFor(mutant: MutantName | undefined): { increment: string; standing: string; range: string } {
  return {
    // MUTANT redis-shard-move-keeps-old: the move leaves the player's old entry in the old shard.
    increment:
      mutant === 'redis-shard-move-keeps-old'
        ? mutated(INCREMENT, "redis.call('ZREM', KEYS[3 + from], user)", '')
        : INCREMENT,
    // MUTANT redis-shard-rank-skips-higher: a rank counts the higher scores of the player's own shard only.
    // MUTANT redis-shard-rank-skips-top-shard: the higher shards are summed up to the next-to-last key (a Lua index
    // slip), so the top shard's players are left out of the ranks and positions below it.
    standing:
      mutant === 'redis-shard-rank-skips-higher'
        ? mutated(STANDING, "above + redis.call('ZCOUNT'", "redis.call('ZCOUNT'")
        : mutant === 'redis-shard-rank-skips-top-shard'
          ? mutated(STANDING, 'for i = 4 + k, #KEYS do', 'for i = 4 + k, #KEYS - 1 do')
          : STANDING,
    // MUTANT redis-shard-window-stops-at-edge: a stretch not from the top ends at the edge of its first shard.
    range:
      mutant === 'redis-shard-window-stops-at-edge'
        ? mutated(
            RANGE,
            '  offset = offset + size\n',
            '  offset = offset + size\n  if from > 0 and #flat > 0 then break end\n',
          )
        : RANGE,
  };
}

type WithScripts = Redis & {
  shardedIncrement(...args: (string | number)[]): Promise<[number, string?]>;
  shardedStanding(...args: (string | number)[]): Promise<[number, string?, number?, number?]>;
  shardedRange(...args: (string | number)[]): Promise<[number, number?, number?, string[]?]>;
};

export class ShardedRedisBoard extends RedisLink<WithScripts> implements Board {
  private readonly marker: string;
  private readonly n: number;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly bounds: ShardBounds,
    mutant?: MutantName,
  ) {
    super(url);
    this.n = shardCount(bounds);
    const lua = scriptsFor(mutant);
    this.redis.defineCommand('shardedIncrement', { numberOfKeys: 2 + this.n, lua: lua.increment });
    this.redis.defineCommand('shardedStanding', { numberOfKeys: 2 + this.n, lua: lua.standing });
    this.redis.defineCommand('shardedRange', { numberOfKeys: 1 + this.n, lua: lua.range });
    this.marker = `${prefix}~built`;
  }

  /** Month's shard keys, shard 0 (the lowest scores) first. */
  private shards(month: string): string[] {
    return Array.from({ length: this.n }, (_, k) => `${this.prefix}${month}:shard${k}`);
  }

  private shardOfKey(month: string): string {
    return `${this.prefix}${month}~shard`;
  }

  async increment(month: string, user: string, points: number, id: number): Promise<number | 'included'> {
    const keys = [this.marker, this.shardOfKey(month), ...this.shards(month)];
    const [outcome, total] = await this.redis.shardedIncrement(...keys, points, user, id, ...this.bounds.lower);
    if (outcome === 0) throw new BoardLost();
    return outcome === 1 ? 'included' : Number(total);
  }

  /** Only the read-modify-write mutant sets a score outright; on the sharded board it is not offered. */
  async set(): Promise<void> {
    throw new Error('set is not offered by the sharded Redis board');
  }

  async standing(month: string, user: string): Promise<Standing | null> {
    const keys = [this.marker, this.shardOfKey(month), ...this.shards(month)];
    const [outcome, score, position, higher] = await this.redis.shardedStanding(...keys, user);
    if (outcome === 0) throw new BoardLost();
    if (outcome === 1) return null;
    return { user_id: user, score: Number(score), rank: higher! + 1, position: position! };
  }

  async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    const from = Math.max(0, start);
    const [outcome, total, higher, flat] = await this.redis.shardedRange(
      this.marker,
      ...this.shards(month),
      from,
      stop,
    );
    if (outcome === 0) throw new BoardLost();
    const stretch: { user_id: string; score: number }[] = [];
    for (let i = 0; i < flat!.length; i += 2) stretch.push({ user_id: flat![i]!, score: Number(flat![i + 1]) });
    return { entries: rankStretch(from, higher!, stretch), total: total! };
  }

  async lost(): Promise<boolean> {
    return (await this.redis.exists(this.marker)) === 0;
  }

  /** Every month of this instance dropped and written again, shards and mapping, in one MULTI; the marker last. */
  async replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>, upTo: number): Promise<void> {
    const old = await this.redis.keys(`${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    const tx = this.redis.multi();
    if (old.length > 0) tx.del(...old);
    for (const [month, users] of totals) {
      const byShard: (string | number)[][] = Array.from({ length: this.n }, () => []);
      const mapping: (string | number)[] = [];
      for (const [user, score] of users) {
        const k = shardOf(this.bounds, score);
        byShard[k]!.push(score, user);
        mapping.push(user, k);
      }
      const keys = this.shards(month);
      byShard.forEach((args, k) => {
        for (let i = 0; i < args.length; i += 2000) tx.zadd(keys[k]!, ...args.slice(i, i + 2000));
      });
      for (let i = 0; i < mapping.length; i += 2000) tx.hset(this.shardOfKey(month), ...mapping.slice(i, i + 2000));
    }
    tx.set(this.marker, String(upTo));
    const r = await tx.exec();
    const failed = r?.find(([e]) => e);
    if (!r || failed) throw failed?.[0] ?? new Error('the rebuild transaction was discarded');
  }
}
