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
  readonly algorithm = 'maglev';
  readonly tableSize: number;
  private table = new Int32Array(0);
  private ids: string[] = [];

  constructor(options: MaglevOptions = {}) {
    super();
    this.tableSize = options.tableSize ?? 65537;
  }

  override pointsOf(id: string): number {
    this.ensureBuilt();
    const s = this.ids.indexOf(id);
    if (s < 0) return 0;
    let n = 0;
    for (const x of this.table) if (x === s) n++;
    return n;
  }

  protected rebuild(): void {
    const m = this.tableSize;
    this.ids = [...this.weights.keys()].sort();
    const table = new Int32Array(m).fill(-1);
    if (this.ids.length === 0) {
      this.table = new Int32Array(0);
      return;
    }
    const offset = this.ids.map((id) => hash48(`${id}#offset`) % m);
    const skip = this.ids.map((id) => (hash48(`${id}#skip`) % (m - 1)) + 1);
    const next = new Array<number>(this.ids.length).fill(0);
    const weight = this.ids.map((id) => this.weights.get(id)!);
    let filled = 0;
    while (filled < m) {
      for (let s = 0; s < this.ids.length && filled < m; s++) {
        for (let turn = 0; turn < weight[s]! && filled < m; turn++) {
          let c = (offset[s]! + next[s]! * skip[s]!) % m;
          while (table[c]! >= 0) {
            next[s]!++;
            c = (offset[s]! + next[s]! * skip[s]!) % m;
          }
          table[c] = s;
          next[s]!++;
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
    const shares = new Map<string, number>(this.ids.map((id) => [id, 0]));
    for (const s of this.table) shares.set(this.ids[s]!, shares.get(this.ids[s]!)! + 1 / this.tableSize);
    return shares;
  }
}
