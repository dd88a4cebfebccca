// What a leaderboard store does, whatever keeps it: the book's sorted-set operations (ZINCRBY, ZREVRANK,
// ZREVRANGE, ZCOUNT), one board per month. board-memory.ts (the embedded default) and board-redis.ts implement it.

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

export interface Board {
  /** Adds points atomically (ZINCRBY) and returns the new total. */
  increment(month: string, user: string, points: number): Promise<number>;
  /** Sets a score outright (ZADD); only the read-modify-write mutant uses it. */
  set(month: string, user: string, score: number): Promise<void>;
  /** The player's standing, or null when they are not on the month's board. */
  standing(month: string, user: string): Promise<Standing | null>;
  /** Players at positions start..stop (inclusive, clipped) in board order, with shared ranks; and the board's size. */
  range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }>;
  /** Replaces every board with the given totals (the rebuild from the match history). */
  replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>): Promise<void>;
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
