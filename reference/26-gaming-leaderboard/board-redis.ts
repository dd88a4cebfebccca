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
//
// The time tie-break (TIE_BREAK=time) keeps the score exact and puts the time in the member: each player's member is
// `<15 digits: 10^15-1 - the history id that reached the score><user_id>`, so among equal scores ZREVRANGE lists the
// one who reached it first (greater digits) first, and ZREVRANK is the rank in O(log n). A hash `<board>~at` maps
// each player to their current member (the book's hash of player -> timestamp). Time encoded in the score instead
// would leave it fewer bits than the spec's scores (up to 2^53-1) need; a hash alone would make a rank count the
// tied players who came first, a scan of every tie.
import type { Redis } from 'ioredis';
import {
  type Board,
  BoardLost,
  type Entry,
  type Reached,
  rankPositions,
  rankStretch,
  type Standing,
  type TieBreak,
} from './board.ts';
import { RedisLink } from './redis-link.ts';

const MEMBER_TIME_DIGITS = 15;

/** The longest a Redis command may take before the operation answers 503 (the spec: promptly, within 10 s). */

/** The member of a player who reached their score with history row `id` (time tie-break). */
export function timeMember(user: string, id: number): string {
  // 15 digits: 10^15 - 1 is exact in a double (10^16 - 1 is not), and history ids stay far below it.
  return String(Math.max(0, 1e15 - 1 - id)).padStart(MEMBER_TIME_DIGITS, '0') + user;
}

/**
 * Time tie-break. KEYS: board, marker, hash. ARGV: points, user, history id, the new member. {0}: lost; {1}: already
 * in the board; {2, total}: added. The old member's score string is carried over as it is (ZINCRBY does the sum in
 * Redis, as for the shared rule), so no total passes through Lua's numbers.
 */
const INCREMENT_BY_TIME = `
local built = redis.call('GET', KEYS[2])
if not built then return {0} end
if tonumber(ARGV[3]) <= tonumber(built) then return {1} end
local old = redis.call('HGET', KEYS[3], ARGV[2])
if old then
  local s = redis.call('ZSCORE', KEYS[1], old)
  redis.call('ZREM', KEYS[1], old)
  if s then redis.call('ZADD', KEYS[1], s, ARGV[4]) end
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
return {2, redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[4])}
`;

/** Time tie-break. KEYS: board, marker, hash. ARGV: user. {0}: lost; {1}: not on the board; {2, score, position}. */
const STANDING_BY_TIME = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
local member = redis.call('HGET', KEYS[3], ARGV[1])
if not member then return {1} end
local score = redis.call('ZSCORE', KEYS[1], member)
if not score then return {1} end
return {2, score, redis.call('ZREVRANK', KEYS[1], member)}
`;

/** KEYS: board, marker. ARGV: points, user, history id. {0}: lost; {1}: already in the board; {2, total}: added. */
const INCREMENT_IF_BUILT = `
local built = redis.call('GET', KEYS[2])
if not built then return {0} end
if tonumber(ARGV[3]) <= tonumber(built) then return {1} end
return {2, redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])}
`;

// A rank is read in the same script as the score it ranks: read apart (a MULTI, then ZCOUNT), an update landing in
// between ranks a score by a later board (a top 10 whose first player is ranked 2, seen under k6 load).
/** KEYS: board, marker. ARGV: from, stop. {0}: lost; {1, total, higher than the first, [user, score, ...]}. */
const RANGE_WITH_RANK = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
local flat = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local higher = 0
if #flat > 0 then higher = redis.call('ZCOUNT', KEYS[1], '(' .. flat[2], '+inf') end
return {1, redis.call('ZCARD', KEYS[1]), higher, flat}
`;

/** KEYS: board, marker. ARGV: user. {0}: lost; {1}: not on the board; {2, score, position, higher}. */
const STANDING = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return {1} end
return {2, score, redis.call('ZREVRANK', KEYS[1], ARGV[1]), redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')}
`;

type WithScript = Redis & {
  incrementIfBuilt(board: string, marker: string, points: number, user: string, id: number): Promise<[number, string?]>;
  rangeWithRank(
    board: string,
    marker: string,
    from: number,
    stop: number,
  ): Promise<[number, number?, number?, string[]?]>;
  standingOf(board: string, marker: string, user: string): Promise<[number, string?, number?, number?]>;
  incrementByTime(
    board: string,
    marker: string,
    hash: string,
    points: number,
    user: string,
    id: number,
    member: string,
  ): Promise<[number, string?]>;
  standingByTime(board: string, marker: string, hash: string, user: string): Promise<[number, string?, number?]>;
};

export class RedisBoard extends RedisLink<WithScript> implements Board {
  private readonly marker: string;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly mutant?: string,
    private readonly tieBreak: TieBreak = 'shared',
  ) {
    super(url);
    // EVALSHA, and EVAL when a restarted Redis no longer has the script.
    this.redis.defineCommand('incrementIfBuilt', { numberOfKeys: 2, lua: INCREMENT_IF_BUILT });
    this.redis.defineCommand('rangeWithRank', { numberOfKeys: 2, lua: RANGE_WITH_RANK });
    this.redis.defineCommand('standingOf', { numberOfKeys: 2, lua: STANDING });
    this.redis.defineCommand('incrementByTime', { numberOfKeys: 3, lua: INCREMENT_BY_TIME });
    this.redis.defineCommand('standingByTime', { numberOfKeys: 3, lua: STANDING_BY_TIME });
    this.marker = `${prefix}~built`;
  }

  private key(month: string): string {
    return `${this.prefix}${month}`;
  }

  /** The time tie-break's hash of player -> member. */
  private reachedKey(month: string): string {
    return `${this.key(month)}~at`;
  }

  async increment(month: string, user: string, points: number, id: number): Promise<number | 'included'> {
    const key = this.key(month);
    const [outcome, total] =
      this.tieBreak === 'time'
        ? await this.redis.incrementByTime(
            key,
            this.marker,
            this.reachedKey(month),
            points,
            user,
            id,
            timeMember(user, id),
          )
        : await this.redis.incrementIfBuilt(key, this.marker, points, user, id);
    if (outcome === 0) throw new BoardLost();
    return outcome === 1 ? 'included' : Number(total);
  }

  async set(month: string, user: string, score: number): Promise<void> {
    await this.redis.zadd(this.key(month), score, user);
  }

  async standing(month: string, user: string): Promise<Standing | null> {
    const key = this.key(month);
    if (this.tieBreak === 'time') {
      const [outcome, score, position] = await this.redis.standingByTime(
        key,
        this.marker,
        this.reachedKey(month),
        user,
      );
      if (outcome === 0) throw new BoardLost();
      if (outcome === 1) return null;
      return { user_id: user, score: Number(score), rank: position! + 1, position: position! };
    }
    if (this.mutant !== 'rank-read-apart') {
      const [outcome, score, position, higher] = await this.redis.standingOf(key, this.marker, user);
      if (outcome === 0) throw new BoardLost();
      if (outcome === 1) return null;
      return { user_id: user, score: Number(score), rank: higher! + 1, position: position! };
    }
    // MUTANT rank-read-apart: the score and position in one MULTI, the count of higher scores in a second command.
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
    if (this.mutant !== 'rank-read-apart') {
      const [outcome, total, higher, flat] = await this.redis.rangeWithRank(key, this.marker, from, stop);
      if (outcome === 0) throw new BoardLost();
      const stretch: { user_id: string; score: number }[] = [];
      const time = this.tieBreak === 'time';
      for (let i = 0; i < flat!.length; i += 2)
        stretch.push({
          user_id: time ? flat![i]!.slice(MEMBER_TIME_DIGITS) : flat![i]!,
          score: Number(flat![i + 1]),
        });
      if (time) return { entries: rankPositions(from, stretch), total: total! };
      return { entries: rankStretch(from, higher!, stretch), total: total! };
    }
    // MUTANT rank-read-apart: the stretch in one MULTI, the count above its first score in a second command.
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

  async replaceAll(
    totals: ReadonlyMap<string, ReadonlyMap<string, number>>,
    upTo: number,
    reached?: Reached,
  ): Promise<void> {
    // Every month of this instance is dropped and written again in one transaction, so no reader sees half a board;
    // the marker, last, says which history rows the boards hold.
    const old = await this.redis.keys(`${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    const tx = this.redis.multi();
    if (old.length > 0) tx.del(...old);
    for (const [month, users] of totals) {
      const args: (string | number)[] = [];
      const members: string[] = [];
      for (const [user, score] of users) {
        if (this.tieBreak !== 'time') args.push(score, user);
        else {
          const member = timeMember(user, reached?.get(month)?.get(user) ?? 0);
          args.push(score, member);
          members.push(user, member);
        }
      }
      for (let i = 0; i < args.length; i += 2000) tx.zadd(this.key(month), ...args.slice(i, i + 2000));
      for (let i = 0; i < members.length; i += 2000) tx.hset(this.reachedKey(month), ...members.slice(i, i + 2000));
    }
    tx.set(this.marker, String(upTo));
    const r = await tx.exec();
    const failed = r?.find(([e]) => e);
    if (!r || failed) throw failed?.[0] ?? new Error('the rebuild transaction was discarded');
  }
}
