// Mutants that live in the stores (the match history, the profiles, the Redis board and its client), written as subclasses so that
// the stores' own code stays as the blind bugs' patches (fixtures/blind-bugs/26-gaming-leaderboard/) were written
// against. main.ts picks one when MUTANT names it.
import type { Redis } from 'ioredis';
import { BoardLost, type Standing, type TieBreak } from './board.ts';
import { RedisBoard } from './board-redis.ts';
import type { Db } from './db.ts';
import { type HistoryCut, MatchHistory } from './history.ts';
import { Leaderboard } from './leaderboard.ts';
import { mutantLeaderboardFor } from './mutant-leaderboards.ts';
import type { MutantName } from './mutants.ts';
import { Profiles } from './profiles.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function group(rows: readonly { month: string; user_id: string; score: number }[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const m = out.get(r.month) ?? new Map<string, number>();
    out.set(r.month, m);
    m.set(r.user_id, (m.get(r.user_id) ?? 0) + Number(r.score));
  }
  return out;
}

/**
 * MUTANT included-total-all-months, MUTANT included-answers-current-total, MUTANT history-failure-acknowledged, MUTANT
 * rebuild-skips-uncommitted.
 */
class MutantHistory extends MatchHistory {
  constructor(
    private readonly store: Db,
    private readonly which: MutantName,
  ) {
    super(store, which);
  }

  /** history-failure-acknowledged: a win the history could not record is added to the board only (a 200). */
  override async record(month: string, user: string, points: number): Promise<number> {
    if (this.which !== 'history-failure-acknowledged') return super.record(month, user, points);
    return super.record(month, user, points).catch(() => Number.MAX_SAFE_INTEGER);
  }

  /** included-total-all-months: the player's total over every month, not the update's month's. */
  override async totalAt(month: string, user: string, id: number): Promise<number> {
    // included-answers-current-total: the player's total as it is now (as the rebuilt board's score would be), with
    // the rows recorded after the update's own.
    if (this.which === 'included-answers-current-total') return super.totalAt(month, user, Number.MAX_SAFE_INTEGER);
    if (this.which !== 'included-total-all-months') return super.totalAt(month, user, id);
    const [r] = await this.store.all<{ score: number | null }>(
      'SELECT SUM(points) AS score FROM match_wins WHERE user_id = ? AND id <= ?',
      [user, id],
    );
    return Number(r?.score ?? 0);
  }

  /**
   * rebuild-skips-uncommitted: the last id counts every row, but the totals leave out the rows recorded in the 100 ms
   * before the cut, as a snapshot read leaves out rows whose ids PostgreSQL handed out before they committed (the cut
   * without its SHARE lock): those updates are taken as in the board, and are not.
   */
  override async cut(): Promise<HistoryCut> {
    if (this.which === 'cut-snapshot-without-lock') return this.snapshotCut();
    if (this.which !== 'rebuild-skips-uncommitted') return super.cut();
    return this.store.tx(async (sql) => {
      const [last] = await sql.all<{ upto: number | null }>('SELECT MAX(id) AS upto FROM match_wins');
      const upTo = Number(last?.upto ?? 0);
      const rows = await sql.all<{ month: string; user_id: string; score: number }>(
        'SELECT month, user_id, SUM(points) AS score FROM match_wins WHERE id <= ? AND at < ? GROUP BY month, user_id',
        [upTo, Date.now() - 100],
      );
      return { upTo, totals: group(rows) };
    });
  }

  /**
   * cut-snapshot-without-lock: on PostgreSQL the cut is one REPEATABLE READ snapshot instead of the SHARE lock: a row
   * whose id was handed out before the snapshot but committed after it is left out of the totals, while the last id
   * read (a higher one, committed) says it is in (blind bug pg-cut-snapshot-no-lock).
   */
  private snapshotCut(): Promise<HistoryCut> {
    return this.store.tx(async (sql) => {
      if (this.store.kind === 'postgres') await sql.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const [last] = await sql.all<{ upto: number | null }>('SELECT MAX(id) AS upto FROM match_wins');
      const upTo = Number(last?.upto ?? 0);
      const rows = await sql.all<{ month: string; user_id: string; score: number }>(
        'SELECT month, user_id, SUM(points) AS score FROM match_wins WHERE id <= ? GROUP BY month, user_id',
        [upTo],
      );
      return { upTo, totals: group(rows) };
    });
  }
}

/** MUTANT profile-id-any-case, MUTANT profile-names-by-position, MUTANT profile-cache-dropped-early. */
class MutantProfiles extends Profiles {
  /** profile-cache-dropped-early's own cache of names (the parent's is private). */
  private readonly cachedNames = new Map<string, string | null>();
  private setsSeen = 0;

  constructor(
    private readonly store: Db,
    private readonly which: MutantName,
  ) {
    super(store, which);
  }

  /** profile-id-any-case: profiles kept under the lower-cased ID, so Mary1934 and mary1934 share one. */
  private id(user: string): string {
    return this.which === 'profile-id-any-case' ? user.toLowerCase() : user;
  }

  override async set(user: string, displayName: string): Promise<void> {
    if (this.which === 'profile-cache-dropped-early') {
      // The cached name dropped before the write, which lands 50 ms later (a write slow to commit): a read in
      // between caches the old name from the store.
      this.setsSeen++;
      this.cachedNames.delete(user);
      await pause(50);
    }
    return super.set(this.id(user), displayName);
  }

  override get(user: string): Promise<string | null> {
    return super.get(this.id(user));
  }

  override async namesOf(users: readonly string[]): Promise<Map<string, string | null>> {
    if (this.which === 'profile-id-any-case') {
      const found = await super.namesOf(users.map((u) => this.id(u)));
      return new Map(users.map((u) => [u, found.get(this.id(u)) ?? null]));
    }
    if (this.which === 'profile-names-by-position') {
      // The n-th row found is taken as the n-th player's, though players without a profile have no row.
      const rows = await this.store.all<{ display_name: string }>(
        `SELECT display_name FROM users WHERE user_id IN (${users.map(() => '?').join(', ')})`,
        [...users],
      );
      return new Map(users.map((u, i) => [u, rows[i]?.display_name ?? null]));
    }
    const out = new Map<string, string | null>();
    const missing = users.filter((u) => {
      if (!this.cachedNames.has(u)) return true;
      out.set(u, this.cachedNames.get(u)!);
      return false;
    });
    if (missing.length === 0) return out;
    const seen = this.setsSeen;
    const rows = await this.store.all<{ user_id: string; display_name: string }>(
      `SELECT user_id, display_name FROM users WHERE user_id IN (${missing.map(() => '?').join(', ')})`,
      missing,
    );
    const found = new Map(rows.map((r) => [r.user_id, r.display_name]));
    for (const u of missing) {
      out.set(u, found.get(u) ?? null);
      if (seen === this.setsSeen) this.cachedNames.set(u, found.get(u) ?? null);
    }
    return out;
  }
}

/** MUTANT rebuild-batch-drops: the rebuild writes a month in batches of 1,000 players and drops each batch's last. */
class BatchDroppingRedisBoard extends RedisBoard {
  override replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>, upTo: number): Promise<void> {
    const kept = new Map(
      [...totals].map(([month, users]) => [month, new Map([...users].filter((_, i) => i % 1000 !== 999))]),
    );
    return super.replaceAll(kept, upTo);
  }
}

/** MUTANT rebuild-forgets-arrival: the rebuild drops when each player reached their score (time tie-break). */
class ArrivalForgettingRedisBoard extends RedisBoard {
  override replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>, upTo: number): Promise<void> {
    return super.replaceAll(totals, upTo, undefined);
  }
}

/** MUTANT lost-board-read-unranked: a player's standing on a lost board answers "not on the board". */
class LostUnrankedRedisBoard extends RedisBoard {
  override async standing(month: string, user: string): Promise<Standing | null> {
    if (await this.lost()) return null;
    return super.standing(month, user);
  }
}

/** The board's ioredis client, for the mutants that change how it waits (ioredis reads its options when it uses them). */
function clientOf(board: RedisBoard): Redis {
  return (board as unknown as { redis: Redis }).redis;
}

/** MUTANT redis-reconnect-gives-up: the client stops reconnecting after 10 quick attempts (under 3 s). */
class ReconnectGivingUpRedisBoard extends RedisBoard {
  constructor(url: string, prefix: string, tieBreak: TieBreak) {
    super(url, prefix, undefined, tieBreak);
    clientOf(this).options.retryStrategy = (times) => (times > 10 ? null : Math.min(times * 50, 500));
  }
}

/** MUTANT redis-reconnect-backoff-unbounded: reconnection backs off exponentially (50 ms x 2^attempt), no cap. */
class ReconnectBackoffUnboundedRedisBoard extends RedisBoard {
  constructor(url: string, prefix: string, tieBreak: TieBreak) {
    super(url, prefix, undefined, tieBreak);
    clientOf(this).options.retryStrategy = (times) => 50 * 2 ** times;
  }
}

/** MUTANT redis-resends-unanswered: commands in flight when the connection dropped are sent again (ioredis's default). */
class ResendingRedisBoard extends RedisBoard {
  constructor(url: string, prefix: string, tieBreak: TieBreak) {
    super(url, prefix, undefined, tieBreak);
    clientOf(this).options.autoResendUnfulfilledCommands = true;
  }
}

/**
 * MUTANT unsent-replayed-on-reconnect: an update whose script failed (the link dropped, the command timed out) is kept
 * and added when the connection is ready again: one Redis had run before its answer was lost counts twice (blind bug
 * unsent-updates-added-on-reconnect).
 */
class UnsentReplayingRedisBoard extends RedisBoard {
  private unsent: Parameters<RedisBoard['increment']>[] = [];

  constructor(url: string, prefix: string, tieBreak: TieBreak) {
    super(url, prefix, undefined, tieBreak);
    clientOf(this).on('ready', () => void this.replay());
  }

  override async increment(...args: Parameters<RedisBoard['increment']>): Promise<number | 'included'> {
    try {
      return await super.increment(...args);
    } catch (e) {
      if (!(e instanceof BoardLost)) this.unsent.push(args);
      throw e;
    }
  }

  private async replay(): Promise<void> {
    const pending = this.unsent;
    this.unsent = [];
    for (const args of pending) await super.increment(...args).catch(() => undefined);
  }
}

/** MUTANT redis-command-unbounded: no command timeout, so a Redis that does not answer holds the request. */
class UnboundedRedisBoard extends RedisBoard {
  constructor(url: string, prefix: string, tieBreak: TieBreak) {
    super(url, prefix, undefined, tieBreak);
    clientOf(this).options.commandTimeout = undefined;
  }
}

/** MUTANT timeout-retried: an update whose script timed out is sent again (three tries) before the error (503). */
class TimeoutRetryingRedisBoard extends RedisBoard {
  override async increment(...args: Parameters<RedisBoard['increment']>): Promise<number | 'included'> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.increment(...args);
      } catch (e) {
        if (attempt >= 3 || !(e instanceof Error && /timed out/i.test(e.message))) throw e;
      }
    }
  }
}

/**
 * MUTANT marker-compared-as-text: the update script compares the update's history id with the rebuild's marker as
 * strings, so after a rebuild marked 3 the rows 10 to 29 read as already in the board and are never added (blind bug
 * redis-marker-compared-as-text).
 */
class TextMarkerRedisBoard extends RedisBoard {
  constructor(url: string, prefix: string, tieBreak: TieBreak) {
    super(url, prefix, undefined, tieBreak);
    clientOf(this).defineCommand('incrementIfBuilt', {
      numberOfKeys: 2,
      lua: `
local built = redis.call('GET', KEYS[2])
if not built then return {0} end
if ARGV[3] <= built then return {1} end
return {2, redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])}
`,
    });
  }
}

const HISTORY_MUTANTS: readonly MutantName[] = [
  'included-total-all-months',
  'included-answers-current-total',
  'history-failure-acknowledged',
  'rebuild-skips-uncommitted',
  'cut-snapshot-without-lock',
];
const PROFILE_MUTANTS: readonly MutantName[] = [
  'profile-id-any-case',
  'profile-names-by-position',
  'profile-cache-dropped-early',
];

export function historyFor(db: Db, mutant: MutantName | undefined): MatchHistory {
  return mutant && HISTORY_MUTANTS.includes(mutant) ? new MutantHistory(db, mutant) : new MatchHistory(db, mutant);
}

export function profilesFor(db: Db, mutant: MutantName | undefined): Profiles {
  return mutant && PROFILE_MUTANTS.includes(mutant) ? new MutantProfiles(db, mutant) : new Profiles(db, mutant);
}

export function redisBoardFor(
  url: string,
  prefix: string,
  mutant: MutantName | undefined,
  tieBreak: TieBreak,
): RedisBoard {
  if (mutant === 'rebuild-batch-drops') return new BatchDroppingRedisBoard(url, prefix);
  if (mutant === 'rebuild-forgets-arrival') return new ArrivalForgettingRedisBoard(url, prefix, mutant, tieBreak);
  if (mutant === 'lost-board-read-unranked') return new LostUnrankedRedisBoard(url, prefix, mutant, tieBreak);
  if (mutant === 'redis-reconnect-gives-up') return new ReconnectGivingUpRedisBoard(url, prefix, tieBreak);
  if (mutant === 'redis-reconnect-backoff-unbounded')
    return new ReconnectBackoffUnboundedRedisBoard(url, prefix, tieBreak);
  if (mutant === 'redis-resends-unanswered') return new ResendingRedisBoard(url, prefix, tieBreak);
  if (mutant === 'redis-command-unbounded') return new UnboundedRedisBoard(url, prefix, tieBreak);
  if (mutant === 'unsent-replayed-on-reconnect') return new UnsentReplayingRedisBoard(url, prefix, tieBreak);
  if (mutant === 'marker-compared-as-text') return new TextMarkerRedisBoard(url, prefix, tieBreak);
  if (mutant === 'timeout-retried') return new TimeoutRetryingRedisBoard(url, prefix, mutant, tieBreak);
  return new RedisBoard(url, prefix, mutant, tieBreak); // the board's own switch: rank-read-apart
}

/**
 * MUTANT rebuild-failure-sticks: a rebuild that failed is kept and handed to every later caller (as a shared rebuild
 * cleared only on success would be): after one failure every board found lost answers 503 for ever.
 */
class FailureKeepingLeaderboard extends Leaderboard {
  private failed: unknown = null;

  override async rebuild(): Promise<void> {
    if (this.failed) throw this.failed;
    try {
      await super.rebuild();
    } catch (e) {
      this.failed = e;
      throw e;
    }
  }
}

export function leaderboardFor(...args: ConstructorParameters<typeof Leaderboard>): Leaderboard {
  if (args[2].mutant === 'rebuild-failure-sticks') return new FailureKeepingLeaderboard(...args);
  return mutantLeaderboardFor(args[2].mutant, ...args) ?? new Leaderboard(...args);
}
