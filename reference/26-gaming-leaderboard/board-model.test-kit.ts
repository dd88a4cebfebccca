// What the board tests check every board against: one board sorted by brute force (ranks shared by equal scores,
// board order as the spec gives it), the random increments that build it, and the step that applies them to a board
// and to the model side by side (each increment must answer the model's new total).
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Board } from './board.ts';

export const USERS = ['a', 'aa', 'B', 'b', '_x', '-y', '0', 'Z9', 'q', 'Q'];

export interface ModelEntry {
  user_id: string;
  score: number;
  rank: number;
}

export function bruteForce(scores: Map<string, number>): ModelEntry[] {
  const all = [...scores].map(([user_id, score]) => ({ user_id, score }));
  all.sort((x, y) => y.score - x.score || (x.user_id < y.user_id ? 1 : x.user_id > y.user_id ? -1 : 0));
  return all.map((e) => ({ ...e, rank: 1 + all.filter((o) => o.score > e.score).length }));
}

/** Small points (1-3) over few users, so ties are common and totals cross low bounds often. */
export function opsOf(maxLength: number) {
  return fc.array(fc.record({ user: fc.constantFrom(...USERS), points: fc.integer({ min: 1, max: 3 }) }), {
    minLength: 1,
    maxLength,
  });
}

let historyId = 1;
/** A new history ID, above every one given before (each increment of a test names one). */
export const nextHistoryId = (): number => historyId++;
/** The history ID given last (a rebuild names it as the board's high-water mark). */
export const lastHistoryId = (): number => historyId - 1;

/** Applies the increments to the board and to the model; answers the model's totals and sorted board. */
export async function applyOps(
  board: Board,
  month: string,
  ops: { user: string; points: number }[],
): Promise<{ scores: Map<string, number>; all: ModelEntry[] }> {
  const scores = new Map<string, number>();
  for (const op of ops) {
    const want = (scores.get(op.user) ?? 0) + op.points;
    scores.set(op.user, want);
    expect(await board.increment(month, op.user, op.points, nextHistoryId())).toBe(want);
  }
  const all = bruteForce(scores);
  for (const [position, e] of all.entries()) expect(await board.standing(month, e.user_id)).toEqual({ ...e, position });
  return { scores, all };
}
