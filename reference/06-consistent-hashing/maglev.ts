// Maglev hashing (Eisenbud et al., NSDI 2016, Google's network load balancer; the book names Maglev): each member
// fills a prime-sized lookup table following its own permutation (offset and skip from two hashes of its name),
// round-robin, `weight` entries per turn. A lookup is one table read. Balance is near perfect; a change moves a few
// keys between surviving members too ("minimal disruption", not minimal movement: a measured cost).
import { hash48 } from './hash.ts';
import { BasePlacement } from './placement.ts';

export interface MaglevOptions {
  /** Table size, a prime well above 100 x members. Default 65537. */
  tableSize?: number;
}

export class Maglev extends BasePlacement {
  readonly tableSize: number;
  private table = new Int32Array(0);
  private ids: string[] = [];
  /** Table entries per member (by index in ids), counted as the table is filled. */
  private entries = new Int32Array(0);

  constructor(options: MaglevOptions = {}) {
    super();
    this.tableSize = options.tableSize ?? 65537;
  }

  override pointsOf(id: string): number {
    this.ensureBuilt();
    const s = this.ids.indexOf(id);
    return s < 0 ? 0 : this.entries[s]!;
  }

  // Member s's permutation is offset, offset + skip, offset + 2 skip, ... (mod m); `at[s]` is where it stands, so a
  // step is one addition. The probe loop runs about m ln m times per rebuild, and under StrykerJS's schemata every
  // operation in it pays for a mutant switch: (offset + next * skip) % m recomputed per probe made the instrumented
  // rebuild outlast a request's bound. The table is the same; each member's entry count is kept as it is filled.
  protected rebuild(): void {
    const m = this.tableSize;
    this.ids = [...this.weights.keys()].sort();
    const n = this.ids.length;
    this.entries = new Int32Array(n);
    if (n === 0) {
      this.table = new Int32Array(0);
      return;
    }
    const table = new Int32Array(m).fill(-1);
    const at = Int32Array.from(this.ids, (id) => hash48(`${id}#offset`) % m);
    const skip = Int32Array.from(this.ids, (id) => (hash48(`${id}#skip`) % (m - 1)) + 1);
    const weight = this.ids.map((id) => this.weights.get(id)!);
    let filled = 0;
    while (filled < m) {
      for (let s = 0; s < n && filled < m; s++) {
        for (let turn = 0; turn < weight[s]! && filled < m; turn++) {
          let c = at[s]!;
          while (table[c]! >= 0) c = (c + skip[s]!) % m;
          table[c] = s;
          at[s] = (c + skip[s]!) % m;
          this.entries[s]!++;
          filled++;
        }
      }
    }
    this.table = table;
  }

  owner(key: string): string | undefined {
    this.ensureBuilt();
    if (this.table.length === 0) return undefined;
    return this.ids[this.table[hash48(key) % this.tableSize]!];
  }

  owners(key: string, n: number): string[] {
    this.ensureBuilt();
    if (this.table.length === 0 || n < 1) return [];
    const want = Math.min(n, this.ids.length);
    const start = hash48(key) % this.tableSize;
    const result: string[] = [];
    for (let step = 0; step < this.tableSize && result.length < want; step++) {
      const id = this.ids[this.table[(start + step) % this.tableSize]!]!;
      if (!result.includes(id)) result.push(id);
    }
    return result;
  }

  spaceShares(): Map<string, number> {
    this.ensureBuilt();
    return new Map(this.ids.map((id, s) => [id, this.entries[s]! / this.tableSize]));
  }
}
