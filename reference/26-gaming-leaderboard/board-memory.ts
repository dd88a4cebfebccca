// The embedded default: per month, a map user -> score and an order-statistic tree keyed by (score desc, user
// desc), the board order. The tree is js-sdsl's OrderedMap (a red-black tree) with its index enabled, so the
// position of a key and the key at a position are O(log n): the skip list of a Redis sorted set does the same.
import { OrderedMap } from '@js-sdsl/ordered-map';
import { type Board, type Entry, rankStretch, type Standing } from './board.ts';

interface Key {
  score: number;
  /** null: a probe that sorts before every player of its score (user IDs are ASCII). */
  user: string | null;
}

/** Board order: score descending, then user ID descending (Redis's ZREVRANGE order). */
function boardOrder(a: Key, b: Key): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.user === b.user) return 0;
  if (a.user === null) return -1;
  if (b.user === null) return 1;
  return a.user < b.user ? 1 : -1;
}

class MonthBoard {
  readonly scores = new Map<string, number>();
  readonly tree = new OrderedMap<Key, true>([], boardOrder, true);

  set(user: string, score: number): void {
    const old = this.scores.get(user);
    if (old !== undefined) this.tree.eraseElementByKey({ score: old, user });
    this.scores.set(user, score);
    this.tree.setElement({ score, user }, true);
  }

  /** Players scoring strictly more than `score`: the index of the probe that sorts before that score's players. */
  higherThan(score: number): number {
    const it = this.tree.lowerBound({ score, user: null });
    return it.equals(this.tree.end()) ? this.tree.size() : it.index;
  }
}

export class MemoryBoard implements Board {
  private readonly months = new Map<string, MonthBoard>();

  private month(month: string): MonthBoard {
    let b = this.months.get(month);
    if (!b) {
      b = new MonthBoard();
      this.months.set(month, b);
    }
    return b;
  }

  async increment(month: string, user: string, points: number): Promise<number> {
    const b = this.month(month);
    const score = (b.scores.get(user) ?? 0) + points;
    b.set(user, score);
    return score;
  }

  async set(month: string, user: string, score: number): Promise<void> {
    this.month(month).set(user, score);
  }

  async standing(month: string, user: string): Promise<Standing | null> {
    const b = this.months.get(month);
    const score = b?.scores.get(user);
    if (!b || score === undefined) return null;
    const position = b.tree.find({ score, user }).index;
    return { user_id: user, score, rank: b.higherThan(score) + 1, position };
  }

  async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    const b = this.months.get(month);
    if (!b) return { entries: [], total: 0 };
    const total = b.tree.size();
    const last = Math.min(stop, total - 1);
    const stretch: { user_id: string; score: number }[] = [];
    for (let pos = Math.max(0, start); pos <= last; pos++) {
      const [key] = b.tree.getElementByPos(pos);
      stretch.push({ user_id: key.user!, score: key.score });
    }
    if (stretch.length === 0) return { entries: [], total };
    return { entries: rankStretch(Math.max(0, start), b.higherThan(stretch[0]!.score), stretch), total };
  }

  /** The tree lives and dies with the process: it is never lost while the service runs. */
  async lost(): Promise<boolean> {
    return false;
  }

  async replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>): Promise<void> {
    this.months.clear();
    for (const [month, users] of totals) for (const [user, score] of users) this.month(month).set(user, score);
  }

  async close(): Promise<void> {}
}
