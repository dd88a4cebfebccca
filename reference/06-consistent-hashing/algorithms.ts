// One option chooses the placement algorithm: the book's ring (the default) or an alternative production systems
// use. Every one implements Placement, so the service, the benchmark and chapter 07 take any of them.
import { HASH_SPACE, type HashFn, hash48 } from './hash.ts';
import { JumpHash } from './jump.ts';
import { Maglev } from './maglev.ts';
import { ALGORITHMS, type AlgorithmName, BasePlacement, type Placement } from './placement.ts';
import { Rendezvous } from './rendezvous.ts';
import { HashRing, type HashRingOptions } from './ring.ts';

export { ALGORITHMS, type AlgorithmName, type Placement };

export interface PlacementOptions {
  /** Ring only: virtual nodes per unit of weight (default 200). */
  virtualNodes?: number;
  /** Ring only: the hash (default hash48). */
  hash?: HashFn;
  /** Ring only: a mutant of the self-test. */
  ringMutant?: HashRingOptions['mutant'];
  /** Maglev only: table size (default 65537). */
  tableSize?: number | undefined;
}

export function createPlacement(algorithm: AlgorithmName, options: PlacementOptions = {}): Placement {
  switch (algorithm) {
    case 'ring':
      return new HashRing({
        ...(options.virtualNodes ? { virtualNodes: options.virtualNodes } : {}),
        hash: options.hash,
        mutant: options.ringMutant,
      });
    case 'jump':
      return new JumpHash();
    case 'rendezvous':
      return new Rendezvous();
    case 'maglev':
      return new Maglev(options.tableSize ? { tableSize: options.tableSize } : {});
  }
}

export function isAlgorithm(name: string): name is AlgorithmName {
  return (ALGORITHMS as readonly string[]).includes(name);
}

/**
 * MUTANT modulo-hashing, and the benchmark's baseline of keys moved: the rehashing problem the book starts from,
 * serverIndex = hash(key) % N with servers in ID order. No deployment option selects it.
 */
export class ModuloPlacement extends BasePlacement {
  private ids: string[] = [];
  protected rebuild(): void {
    this.ids = [...this.weights.keys()].sort();
  }
  owner(key: string): string | undefined {
    this.ensureBuilt();
    return this.ids.length ? this.ids[hash48(key) % this.ids.length] : undefined;
  }
  owners(key: string, n: number): string[] {
    this.ensureBuilt();
    const start = hash48(key) % Math.max(1, this.ids.length);
    return Array.from({ length: Math.min(n, this.ids.length) }, (_, i) => this.ids[(start + i) % this.ids.length]!);
  }
  spaceShares(): Map<string, number> {
    this.ensureBuilt();
    return new Map(this.ids.map((id) => [id, 1 / this.ids.length]));
  }
  override pointsOf(id: string): number {
    return this.weights.has(id) ? 1 : 0;
  }
}

/** Standard deviation of per-member load as a percentage of the expected (weight-proportional) load. */
export function loadStdDevPercent(counts: Map<string, number>, weights: Map<string, number>): number {
  const totalCount = [...counts.values()].reduce((a, b) => a + b, 0);
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0);
  if (weights.size === 0 || totalCount === 0) return 0;
  const ratios = [...weights].map(([id, w]) => (counts.get(id) ?? 0) / ((totalCount * w) / totalWeight));
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  return Math.sqrt(ratios.reduce((a, r) => a + (r - mean) ** 2, 0) / ratios.length) * 100;
}

export { HASH_SPACE };
