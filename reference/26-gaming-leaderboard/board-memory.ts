// The embedded default: per month, a map user -> score and an order-statistic tree keyed by (score desc, user
// desc), the board order; under the time tie-break (score desc, reached asc), where `reached` is the history id of the
// update that brought the player to their score. The tree is js-sdsl's OrderedMap (a red-black tree) with its index enabled, so the
// position of a key and the key at a position are O(log n): the skip list of a Redis sorted set does the same.
import { OrderedMap } from '@js-sdsl/ordered-map';
import {
  type Board,
  type Entry,
  type Reached,
  rankPositions,
  rankStretch,
  type Standing,
  type TieBreak,
} from './board.ts';

export interface Key {
  score: number;
  /** null: a probe that sorts before every player of its score (user IDs are ASCII). */
  user: string | null;
  /** Under the time tie-break: the history id of the update that reached `score` (0 in a probe). */
  at: number;
}

/** Board order: score descending, then user ID descending (Redis's ZREVRANGE order). */
export function boardOrder(a: Key, b: Key): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.user === b.user) return 0;
  if (a.user === null) return -1;
  if (b.user === null) return 1;
  return a.user < b.user ? 1 : -1;
}

/** The time tie-break's order: score descending, then who reached it first (a probe before every player of its score). */
function timeOrder(laterFirst: boolean) {
  return (a: Key, b: Key): number => {
    if (a.score !== b.score) return b.score - a.score;
    if (a.user === b.user) return 0;
    if (a.user === null) return -1;
    if (b.user === null) return 1;
    // MUTANT tie-break-later-first: the later arrival ranks first.
    if (a.at !== b.at) return laterFirst ? b.at - a.at : a.at - b.at;
    return a.user < b.user ? 1 : -1;
  };
}

class MonthBoard {
  readonly scores = new Map<string, number>();
  /** When each player reached their score (the time tie-break only). */
  readonly reached = new Map<string, number>();
  readonly tree: OrderedMap<Key, true>;

  constructor(order: (a: Key, b: Key) => number) {
    this.tree = new OrderedMap<Key, true>([], order, true);
  }

  set(user: string, score: number, at = 0): void {
    const old = this.scores.get(user);
    if (old !== undefined) this.tree.eraseElementByKey({ score: old, user, at: this.reached.get(user) ?? 0 });
    this.scores.set(user, score);
    if (at) this.reached.set(user, at);
    this.tree.setElement({ score, user, at: this.reached.get(user) ?? 0 }, true);
  }

  /** Players scoring strictly more than `score`: the index of the probe that sorts before that score's players. */
  higherThan(score: number): number {
    const it = this.tree.lowerBound({ score, user: null, at: 0 });
    return it.equals(this.tree.end()) ? this.tree.size() : it.index;
  }
}

export class MemoryBoard implements Board {
  private readonly months = new Map<string, MonthBoard>();
  private readonly order: (a: Key, b: Key) => number;
  private readonly byTime: boolean;

  constructor(o: { tieBreak?: TieBreak; laterFirst?: boolean } = {}) {
    this.byTime = o.tieBreak === 'time';
    this.order = this.byTime ? timeOrder(Boolean(o.laterFirst)) : boardOrder;
  }

  private month(month: string): MonthBoard {
    let b = this.months.get(month);
    if (!b) {
      b = new MonthBoard(this.order);
      this.months.set(month, b);
    }
    return b;
  }

  async increment(month: string, user: string, points: number, id = 0): Promise<number> {
    const b = this.month(month);
    const score = (b.scores.get(user) ?? 0) + points;
    b.set(user, score, this.byTime ? id : 0);
    return score;
  }

  async set(month: string, user: string, score: number): Promise<void> {
    this.month(month).set(user, score);
  }

  async standing(month: string, user: string): Promise<Standing | null> {
    const b = this.months.get(month);
    const score = b?.scores.get(user);
    if (!b || score === undefined) return null;
    const position = b.tree.find({ score, user, at: b.reached.get(user) ?? 0 }).index;
    return { user_id: user, score, rank: this.byTime ? position + 1 : b.higherThan(score) + 1, position };
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
    if (this.byTime) return { entries: rankPositions(Math.max(0, start), stretch), total };
    return { entries: rankStretch(Math.max(0, start), b.higherThan(stretch[0]!.score), stretch), total };
  }

  /** The tree lives and dies with the process: it is never lost while the service runs. */
  async lost(): Promise<boolean> {
    return false;
  }

  async replaceAll(
    totals: ReadonlyMap<string, ReadonlyMap<string, number>>,
    _upTo?: number,
    reached?: Reached,
  ): Promise<void> {
    this.months.clear();
    for (const [month, users] of totals)
      for (const [user, score] of users)
        this.month(month).set(user, score, this.byTime ? (reached?.get(month)?.get(user) ?? 0) : 0);
  }

  async close(): Promise<void> {}
}
