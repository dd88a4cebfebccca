// The book's hash ring with virtual nodes (System Design Interview, chapter 6), as a library: pure, no I/O, no HTTP.
// Chapter 07 (key-value store) and later chapters import it.
//
//   const ring = new HashRing({ virtualNodes: 200 }).set('s0').set('s1').set('s2', 2);
//   ring.owner('user:42');          // the first virtual node clockwise from hash('user:42')
//   ring.owners('user:42', 3);      // three distinct physical servers, walking clockwise (replication)
//
// Each server with weight w is hashed onto the ring w * virtualNodes times, at hash(`${id}#${i}`). A key belongs to
// the first virtual node at or after its hash, wrapping past the top of the ring to the first one. The ring is two
// parallel typed arrays (point hashes, sorted, and the owning server's index), rebuilt after a change and searched
// with a binary search: O(log V) per lookup, 12 bytes per virtual node.
import { HASH_SPACE, type HashFn, hash48 } from './hash.ts';
import type { MutantName } from './mutants.ts';
import { BasePlacement } from './placement.ts';

export interface HashRingOptions {
  /** Virtual nodes per unit of weight. Default 200 (the book: 100-200 give a 5-10% standard deviation). */
  virtualNodes?: number;
  /** The hash; default the first 48 bits of SHA-256. Must be stable across processes. */
  hash?: HashFn;
  /** Deliberately broken behaviour for the harness's self-test (reference/06-consistent-hashing/mutants.ts). */
  mutant?: MutantName | undefined;
}

export class HashRing extends BasePlacement {
  readonly virtualNodes: number;
  private readonly hash: HashFn;
  private readonly mutant: HashRingOptions['mutant'];
  private points = new Float64Array(0);
  private pointOwner = new Uint32Array(0);
  /** Server IDs sorted, so that the index order is the ID order (ties between equal points are broken by ID). */
  private ids: string[] = [];

  constructor(options: HashRingOptions = {}) {
    super();
    this.virtualNodes = options.virtualNodes ?? 200;
    if (!Number.isInteger(this.virtualNodes) || this.virtualNodes < 1)
      throw new RangeError(`virtualNodes must be a positive integer, got ${this.virtualNodes}`);
    this.hash = options.hash ?? hash48;
    this.mutant = options.mutant;
  }

  /** Number of virtual nodes on the ring. */
  get pointCount(): number {
    this.ensureBuilt();
    return this.points.length;
  }

  override pointsOf(id: string): number {
    const w = this.weights.get(id);
    return w === undefined ? 0 : w * this.virtualNodes;
  }

  protected rebuild(): void {
    this.ids = [...this.weights.keys()].sort();
    let total = 0;
    for (const id of this.ids) total += this.weights.get(id)! * this.virtualNodes;
    const hashes = new Float64Array(total);
    const owners = new Uint32Array(total);
    // MUTANT ring-ids-join-order: servers indexed in join order, so two tied virtual nodes go in join order.
    if (this.mutant === 'ring-ids-join-order') this.ids = [...this.weights.keys()];
    let k = 0;
    for (let s = 0; s < this.ids.length; s++) {
      const id = this.ids[s]!;
      const count = this.weights.get(id)! * this.virtualNodes;
      for (let i = 0; i < count; i++) {
        hashes[k] = this.hash(`${id}#${i}`);
        owners[k++] = s;
      }
    }
    const order = new Uint32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    order.sort((a, b) => hashes[a]! - hashes[b]! || owners[a]! - owners[b]!);
    this.points = new Float64Array(total);
    this.pointOwner = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      this.points[i] = hashes[order[i]!]!;
      this.pointOwner[i] = owners[order[i]!]!;
    }
  }

  /** Index of the first virtual node clockwise from hash h (at or after it), wrapping to 0 past the top. */
  private indexFor(h: number): number {
    const points = this.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    // MUTANT wraparound-bug: a key past the last virtual node is not sent round to the first one (index out of range).
    if (this.mutant === 'wraparound-bug') return lo;
    return lo === points.length ? 0 : lo;
  }

  owner(key: string): string | undefined {
    this.ensureBuilt();
    if (this.points.length === 0) return undefined;
    const i = this.indexFor(this.hash(key));
    const s = this.pointOwner[i];
    if (s === undefined) throw new RangeError(`no virtual node at index ${i} of ${this.points.length}`);
    return this.ids[s];
  }

  owners(key: string, n: number): string[] {
    this.ensureBuilt();
    const total = this.points.length;
    if (total === 0 || n < 1) return [];
    const want = Math.min(n, this.ids.length);
    const start = this.indexFor(this.hash(key));
    const result: string[] = [];
    const seen = new Uint8Array(this.ids.length);
    for (let step = 0; step < total && result.length < want; step++) {
      const s = this.pointOwner[(start + step) % total]!;
      // MUTANT replicas-same-server: replicas are the next virtual nodes, even when they belong to one server.
      if (this.mutant === 'replicas-same-server') {
        result.push(this.ids[s]!);
        continue;
      }
      if (seen[s]) continue;
      seen[s] = 1;
      result.push(this.ids[s]!);
    }
    return result;
  }

  spaceShares(): Map<string, number> {
    this.ensureBuilt();
    const shares = new Map<string, number>(this.ids.map((id) => [id, 0]));
    const total = this.points.length;
    for (let i = 0; i < total; i++) {
      // Virtual node i owns the arc (previous point, its point]; the first one also owns the wrap past the top.
      // MUTANT hash-space-missing-wrap: the arc from the last point past the top of the ring is counted for nobody.
      const wrap = this.mutant === 'hash-space-missing-wrap' ? 0 : HASH_SPACE - this.points[total - 1]!;
      const arc = i === 0 ? this.points[0]! + wrap : this.points[i]! - this.points[i - 1]!;
      const id = this.ids[this.pointOwner[i]!]!;
      shares.set(id, shares.get(id)! + arc / HASH_SPACE);
    }
    return shares;
  }
}
