// The embedded board split into fixed score-range shards (SHARDING=score-range, shards.ts): per month a map user ->
// score and one order-statistic tree per shard, in board order. The book keeps a player's shard in a mapping; here
// it follows from the score the map holds. Every operation runs to its end without awaiting, so a move between
// shards (erase from the old tree, insert into the new) is atomic to every other request: none sees both or neither.
import { OrderedMap } from '@js-sdsl/ordered-map';
import { type Board, type Entry, rankStretch, type Standing } from './board.ts';
import { boardOrder, type Key } from './board-memory.ts';
import type { MutantName } from './mutants.ts';
import { type ShardBounds, shardCount, shardOf } from './shards.ts';

type Tree = OrderedMap<Key, true>;

const keyOf = (score: number, user: string | null): Key => ({ score, user, at: 0 });

/** Players in `tree` scoring strictly more than `score`. */
function higherIn(tree: Tree, score: number): number {
  const it = tree.lowerBound(keyOf(score, null));
  return it.equals(tree.end()) ? tree.size() : it.index;
}

class ShardedMonth {
  readonly scores = new Map<string, number>();
  /** shards[0] holds the lowest scores. */
  readonly shards: Tree[];

  constructor(n: number) {
    this.shards = Array.from({ length: n }, () => new OrderedMap<Key, true>([], boardOrder, true));
  }

  /** Players in the shards above shard `k` (the count per shard a rank adds, asked of each tree in O(1)). */
  above(k: number): number {
    let n = 0;
    for (let i = k + 1; i < this.shards.length; i++) n += this.shards[i]!.size();
    return n;
  }

  total(): number {
    return this.above(-1);
  }
}

export class ShardedMemoryBoard implements Board {
  private readonly months = new Map<string, ShardedMonth>();

  constructor(
    private readonly bounds: ShardBounds,
    private readonly mutant?: MutantName,
  ) {}

  private month(month: string): ShardedMonth {
    let m = this.months.get(month);
    if (!m) {
      m = new ShardedMonth(shardCount(this.bounds));
      this.months.set(month, m);
    }
    return m;
  }

  /** Puts `user` at `score`, moving them out of the shard of their old score (synchronous: atomic). */
  private place(m: ShardedMonth, user: string, score: number): void {
    const old = m.scores.get(user);
    const to = shardOf(this.bounds, score);
    if (old !== undefined) {
      const from = shardOf(this.bounds, old);
      // MUTANT shard-move-keeps-old: a player moving to another shard is left in the old one too.
      if (this.mutant !== 'shard-move-keeps-old' || from === to) m.shards[from]!.eraseElementByKey(keyOf(old, user));
    }
    m.scores.set(user, score);
    m.shards[to]!.setElement(keyOf(score, user), true);
  }

  async increment(month: string, user: string, points: number): Promise<number> {
    const m = this.month(month);
    const score = (m.scores.get(user) ?? 0) + points;
    this.place(m, user, score);
    return score;
  }

  async set(month: string, user: string, score: number): Promise<void> {
    this.place(this.month(month), user, score);
  }

  /** What a rank adds for the shards above shard `k`. */
  private higherShards(m: ShardedMonth, k: number): number {
    // MUTANT shard-rank-skips-higher: a rank counts only the higher scores inside the player's own shard.
    return this.mutant === 'shard-rank-skips-higher' ? 0 : m.above(k);
  }

  async standing(month: string, user: string): Promise<Standing | null> {
    const m = this.months.get(month);
    const score = m?.scores.get(user);
    if (!m || score === undefined) return null;
    const k = shardOf(this.bounds, score);
    const tree = m.shards[k]!;
    const position = m.above(k) + tree.find(keyOf(score, user)).index;
    return { user_id: user, score, rank: this.higherShards(m, k) + higherIn(tree, score) + 1, position };
  }

  /** Board positions start..stop: from the highest shard down, each shard's part of the stretch in its order. */
  async range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    const m = this.months.get(month);
    if (!m) return { entries: [], total: 0 };
    const total = m.total();
    const from = Math.max(0, start);
    const last = Math.min(stop, total - 1);
    const stretch: { user_id: string; score: number }[] = [];
    let higherThanFirst = 0;
    let offset = 0; // board positions before shard k
    for (let k = m.shards.length - 1; k >= 0 && offset <= last; k--) {
      const tree = m.shards[k]!;
      const size = tree.size();
      for (let pos = Math.max(from, offset); pos <= Math.min(last, offset + size - 1); pos++) {
        const [key] = tree.getElementByPos(pos - offset);
        if (stretch.length === 0) higherThanFirst = this.higherShards(m, k) + higherIn(tree, key.score);
        stretch.push({ user_id: key.user!, score: key.score });
      }
      // MUTANT shard-window-stops-at-edge: a stretch not from the top (a window) ends at its first shard's edge.
      if (this.mutant === 'shard-window-stops-at-edge' && from > 0 && stretch.length > 0) break;
      offset += size;
    }
    if (stretch.length === 0) return { entries: [], total };
    return { entries: rankStretch(from, higherThanFirst, stretch), total };
  }

  /** The trees live and die with the process: never lost while the service runs. */
  async lost(): Promise<boolean> {
    return false;
  }

  /** The rebuild from the history: every player into the shard of their total. */
  async replaceAll(totals: ReadonlyMap<string, ReadonlyMap<string, number>>): Promise<void> {
    this.months.clear();
    for (const [month, users] of totals) {
      const m = this.month(month);
      for (const [user, score] of users) this.place(m, user, score);
    }
  }

  async close(): Promise<void> {}
}
