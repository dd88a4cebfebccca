// Mutants of the leaderboard's operations over the history and the board (leaderboard.ts), written as subclasses so
// that the blind bugs' patches still apply to the reference they were written against. mutant-stores.ts's
// leaderboardFor picks one when MUTANT names it.
import type { Entry } from './board.ts';
import type { Db } from './db.ts';
import { Leaderboard } from './leaderboard.ts';

/**
 * MUTANT row-forgotten-on-503: an update whose board operation failed (503) takes its row out of the history again,
 * so a win Redis ran before its answer was lost stays on the board until the next rebuild drops it (blind bug
 * update-503-forgets-history-row).
 */
class RowForgettingLeaderboard extends Leaderboard {
  private readonly db: Db;

  constructor(...args: ConstructorParameters<typeof Leaderboard>) {
    super(...args);
    this.db = (args[1] as unknown as { db: Db }).db;
  }

  override async update(month: string, user: string, points: number, recorded?: number): Promise<number> {
    const id = recorded ?? (await this.record(month, user, points));
    try {
      return await super.update(month, user, points, id);
    } catch (e) {
      await this.db.run('DELETE FROM match_wins WHERE id = ?', [id]).catch(() => undefined);
      throw e;
    }
  }
}

/**
 * MUTANT top-cached-until-update: the top 10 of each month is cached until an update of that month succeeds, so a
 * win answered 503 that counts (Redis ran it, or a rebuild counted its row) is missing from it (blind bug
 * top-cache-kept-after-503).
 */
class TopCachingLeaderboard extends Leaderboard {
  private readonly tops = new Map<string, { stop: number; value: { entries: Entry[]; total: number } }>();
  private readonly writes = new Map<string, number>();

  override async update(month: string, user: string, points: number, recorded?: number): Promise<number> {
    const total = await super.update(month, user, points, recorded);
    this.writes.set(month, (this.writes.get(month) ?? 0) + 1);
    this.tops.delete(month);
    return total;
  }

  override async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    if (start !== 0) return super.range(month, start, stop);
    const hit = this.tops.get(month);
    if (hit?.stop === stop) return hit.value;
    const seen = this.writes.get(month) ?? 0;
    const value = await super.range(month, start, stop);
    if ((this.writes.get(month) ?? 0) === seen) this.tops.set(month, { stop, value });
    return value;
  }
}

/**
 * MUTANT top-cache-dropped-early: the top 10 of each month is cached for 2 s and dropped by an update of that month
 * before the update's write: a top-10 read while the update is being recorded in the history caches the board without
 * it, served after the update's answer (blind bug top-cache-dropped-before-update). Its window is the history's real
 * round trip (PostgreSQL), as the blind bug's: no timer widens it.
 */
class EarlyDroppingTopLeaderboard extends Leaderboard {
  private readonly tops = new Map<string, { at: number; stop: number; value: { entries: Entry[]; total: number } }>();

  override update(month: string, user: string, points: number, recorded?: number): Promise<number> {
    this.tops.delete(month);
    return super.update(month, user, points, recorded);
  }

  override async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    if (start !== 0) return super.range(month, start, stop);
    const hit = this.tops.get(month);
    if (hit?.stop === stop && Date.now() - hit.at < 2000) return hit.value;
    const value = await super.range(month, start, stop);
    this.tops.set(month, { at: Date.now(), stop, value });
    return value;
  }
}

/**
 * MUTANT start-rebuild-in-background: at start a board its store kept (not lost) is served at once and rebuilt from
 * the history in the background: reads just after the start answer from a Redis that lags the history (blind bug
 * start-serves-kept-redis).
 */
class BackgroundStartLeaderboard extends Leaderboard {
  private started = false;
  private readonly store: ConstructorParameters<typeof Leaderboard>[0];

  constructor(...args: ConstructorParameters<typeof Leaderboard>) {
    super(...args);
    this.store = args[0];
  }

  override async rebuild(): Promise<void> {
    if (this.started) return super.rebuild();
    this.started = true;
    if (await this.store.lost()) return super.rebuild();
    super.rebuild().catch(() => undefined);
  }
}

/**
 * MUTANT start-rebuild-deadline: the rebuild at start is given 1 s, then the service serves and lets it finish in the
 * background: with a slow history a restarted service answers from the Redis it found (blind bug
 * start-rebuild-deadline).
 */
class DeadlineStartLeaderboard extends Leaderboard {
  private started = false;

  override async rebuild(): Promise<void> {
    if (this.started) return super.rebuild();
    this.started = true;
    const done = super.rebuild();
    done.catch(() => undefined);
    await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
  }
}

export function mutantLeaderboardFor(
  mutant: string | undefined,
  ...args: ConstructorParameters<typeof Leaderboard>
): Leaderboard | undefined {
  if (mutant === 'row-forgotten-on-503') return new RowForgettingLeaderboard(...args);
  if (mutant === 'top-cached-until-update') return new TopCachingLeaderboard(...args);
  if (mutant === 'start-rebuild-in-background') return new BackgroundStartLeaderboard(...args);
  if (mutant === 'top-cache-dropped-early') return new EarlyDroppingTopLeaderboard(...args);
  if (mutant === 'start-rebuild-deadline') return new DeadlineStartLeaderboard(...args);
  return undefined;
}
