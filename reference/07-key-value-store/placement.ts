// A key's preference list (its N replicas on chapter 06's ring), memoized. The ring is fixed once a node starts (the
// members come from PEERS), and a lookup hashes the key with SHA-256, which every request and every anti-entropy
// round (once per key held) would otherwise repeat.
import type { HashRing } from '../06-consistent-hashing/ring.ts';

export class Placement {
  private readonly cache = new Map<string, string[]>();

  constructor(
    private readonly ring: HashRing,
    readonly n: number,
    /** Entries kept before the cache starts over (bounds its memory). */
    private readonly maxEntries = 100_000,
  ) {}

  /** The key's N replicas (distinct physical nodes, unless the ring is the mutant's), clockwise from its hash. */
  replicas(key: string): string[] {
    let owners = this.cache.get(key);
    if (owners === undefined) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      owners = this.ring.owners(key, this.n);
      this.cache.set(key, owners);
    }
    return owners;
  }
}
