// What a leaderboard store does, whatever keeps it: the book's sorted-set operations (ZINCRBY, ZREVRANK,
// ZREVRANGE, ZCOUNT), one board per month. board-memory.ts (the embedded default) and board-redis.ts implement it.
// The board is derived data: the match history (history.ts) is the source of truth, and a board that lost its data
// (a Redis restarted without persistence, or flushed) says so with BoardLost until it is rebuilt from the history.

/** One player on a month's board, with the shared rank (1 + players with a strictly higher score). */
export interface Entry {
  user_id: string;
  score: number;
  rank: number;
}

/** Where a player stands: their 0-based position in board order, their score and shared rank. */
export interface Standing extends Entry {
  position: number;
}

/** The board lost its data since it was last built: rebuild it from the match history, then try again. */
export class BoardLost extends Error {
  constructor() {
    super('the board lost its data (its store restarted empty or was flushed); it must be rebuilt from the history');
  }
}

/**
 * How equal scores are ranked. `shared` (the book's default): they share a rank, listed by user ID descending.
 * `time` (the book's wrap-up, TIE_BREAK=time): the player who reached the score first ranks first, and ranks are
 * board positions (1, 2, 3, ...). "First" is the history row of the update that brought the player to the score:
 * rows are numbered in the order they were recorded, so a rebuild from the history orders ties exactly as the live
 * board did.
 */
export type TieBreak = 'shared' | 'time';

/** Each month's history id of every player's last update (when they reached their score), for a rebuild. */
export type Reached = ReadonlyMap<string, ReadonlyMap<string, number>>;

export interface Board {
  /**
   * Adds the points of history row `id` atomically (ZINCRBY) and returns the new total; `included` when the board
   * was rebuilt from a history that already held row `id` (adding it again would count it twice). Throws BoardLost.
   */
  increment(month: string, user: string, points: number, id: number): Promise<number | 'included'>;
  /** Sets a score outright (ZADD); only the read-modify-write mutant uses it. */
  set(month: string, user: string, score: number): Promise<void>;
  /** The player's standing, or null when they are not on the month's board. Throws BoardLost. */
  standing(month: string, user: string): Promise<Standing | null>;
  /**
   * Players at positions start..stop (inclusive, clipped) in board order, with shared ranks; and the board's size.
   * Throws BoardLost.
   */
  range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }>;
  /** Whether the board lost its data since it was last built. */
  lost(): Promise<boolean>;
  /**
   * Replaces every board with the given totals (the rebuild from the match history), which hold every history row
   * up to `upTo`, in one step; `reached` gives when each player reached their total (the time tie-break's order).
   */
  replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>, upTo: number, reached?: Reached): Promise<void>;
  close(): Promise<void>;
}

/**
 * Shared ranks for a stretch of board order that starts at `start`, given how many players score strictly higher
 * than its first one: a player whose score equals the one before shares that rank; any other is at rank position+1
 * (everyone before them in board order scores higher).
 */
export function rankStretch(
  start: number,
  higherThanFirst: number,
  stretch: readonly { user_id: string; score: number }[],
): Entry[] {
  const out: Entry[] = [];
  stretch.forEach((e, i) => {
    const prev = out[i - 1];
    const rank = i === 0 ? higherThanFirst + 1 : prev!.score === e.score ? prev!.rank : start + i + 1;
    out.push({ user_id: e.user_id, score: e.score, rank });
  });
  return out;
}

/** Ranks for a stretch of board order under the time tie-break: no two players share one, so a rank is position + 1. */
export function rankPositions(start: number, stretch: readonly { user_id: string; score: number }[]): Entry[] {
  return stretch.map((e, i) => ({ user_id: e.user_id, score: e.score, rank: start + i + 1 }));
}
