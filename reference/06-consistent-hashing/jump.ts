// Jump consistent hash (Lamping and Veach, 2014): no ring and no memory beyond the bucket list; O(ln n) per lookup
// and a near-perfect balance. Its limit: buckets are numbered 0..n-1, so only the last one can be removed without
// moving other keys. Here each member has `weight` buckets, appended when it joins; removing a member moves the
// last buckets into its place, which moves the keys of those buckets too (not minimal movement: a measured cost).
import { hash48 } from './hash.ts';
import { BasePlacement } from './placement.ts';

/** Jump hash of a key's 48-bit hash into [0, buckets): the generic form, j = floor((b + 1) / r), r uniform in (0, 1]. */
export function jumpBucket(h: number, buckets: number): number {
  // A 32-bit PRNG (mulberry32) seeded from the key's hash gives the random sequence the algorithm jumps with.
  let state = (h % 0x100000000) ^ Math.floor(h / 0x100000000);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = (((t ^ (t >>> 14)) >>> 0) + 1) / 0x100000000;
    j = Math.floor((b + 1) / r);
  }
  return b;
}

export class JumpHash extends BasePlacement {
  /** Bucket number -> member ID. */
  private slots: string[] = [];

  protected override changed(id: string): void {
    const want = this.weights.get(id) ?? 0;
    const have = this.slots.filter((s) => s === id).length;
    for (let i = have; i < want; i++) this.slots.push(id);
    for (let i = want; i < have; i++) {
      // Remove one bucket of `id` from the end side: move the last bucket into its place.
      const at = this.slots.lastIndexOf(id);
      const last = this.slots.pop()!;
      if (at < this.slots.length) this.slots[at] = last;
    }
  }

  protected rebuild(): void {}

  override pointsOf(id: string): number {
    return this.weights.get(id) ?? 0;
  }

  /** Restores a bucket order saved with bucketList() (same members, same counts). */
  restore(slots: string[]): void {
    const count = (list: string[]) =>
      list.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());
    const want = count(slots);
    const ok = [...this.weights].every(([id, w]) => want.get(id) === w) && want.size === this.weights.size;
    if (ok) this.slots = [...slots];
  }

  /** The bucket list, in bucket order (persist it to rebuild the same placement). */
  bucketList(): string[] {
    return [...this.slots];
  }

  owner(key: string): string | undefined {
    if (this.slots.length === 0) return undefined;
    return this.slots[jumpBucket(hash48(key), this.slots.length)];
  }

  owners(key: string, n: number): string[] {
    const total = this.slots.length;
    if (total === 0 || n < 1) return [];
    const want = Math.min(n, this.weights.size);
    const start = jumpBucket(hash48(key), total);
    const result: string[] = [];
    for (let step = 0; step < total && result.length < want; step++) {
      const id = this.slots[(start + step) % total]!;
      if (!result.includes(id)) result.push(id);
    }
    return result;
  }

  spaceShares(): Map<string, number> {
    const shares = new Map<string, number>([...this.weights.keys()].map((id) => [id, 0]));
    for (const id of this.slots) shares.set(id, shares.get(id)! + 1 / this.slots.length);
    return shares;
  }
}
