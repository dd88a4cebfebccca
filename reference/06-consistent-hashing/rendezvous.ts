// Rendezvous (highest random weight) hashing, weighted (Schindelhauer and Schomaker's logarithmic method): each
// member scores each key with -weight / ln(u), u = hash(member, key) in (0, 1); the key goes to the highest score,
// and its replicas to the next highest. Minimal movement and exact weights by construction, no memory beyond the
// member list, but O(n) hashes per lookup.
import { hash48, unitInterval } from './hash.ts';
import { BasePlacement } from './placement.ts';

export class Rendezvous extends BasePlacement {
  private list: { id: string; weight: number }[] = [];

  protected rebuild(): void {
    this.list = [...this.weights].map(([id, weight]) => ({ id, weight })).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  private score(id: string, weight: number, key: string): number {
    return -weight / Math.log(unitInterval(hash48(`${id}\u0000${key}`)));
  }

  owner(key: string): string | undefined {
    this.ensureBuilt();
    let best: string | undefined;
    let bestScore = -1;
    for (const m of this.list) {
      const s = this.score(m.id, m.weight, key);
      if (s > bestScore) {
        bestScore = s;
        best = m.id;
      }
    }
    return best;
  }

  owners(key: string, n: number): string[] {
    this.ensureBuilt();
    if (n < 1) return [];
    return this.list
      .map((m) => ({ id: m.id, s: this.score(m.id, m.weight, key) }))
      .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
      .slice(0, n)
      .map((x) => x.id);
  }

  spaceShares(): Map<string, number> {
    this.ensureBuilt();
    const total = this.list.reduce((a, m) => a + m.weight, 0);
    return new Map(this.list.map((m) => [m.id, m.weight / total]));
  }
}
