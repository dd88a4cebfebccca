// The interface every placement algorithm here implements, so the service, the benchmark and chapter 07 can switch
// between the book's ring and the alternatives production systems use, behind one option.

export type AlgorithmName = 'ring' | 'jump' | 'rendezvous' | 'maglev';
export const ALGORITHMS: readonly AlgorithmName[] = ['ring', 'jump', 'rendezvous', 'maglev'];

export interface Member {
  id: string;
  /** Relative capacity, a positive integer (1 = one unit). */
  weight: number;
}

export interface Placement {
  /** Adds a member, or changes its weight. */
  set(id: string, weight?: number): this;
  /** Removes a member; false if it was not one. */
  remove(id: string): boolean;
  has(id: string): boolean;
  readonly size: number;
  /** The members with their weights (in the order they were added). */
  members(): Member[];
  /** The member that owns the key, or undefined when there is none. */
  owner(key: string): string | undefined;
  /** The first n distinct members for the key (replicas, owner first); fewer when there are fewer members. */
  owners(key: string, n: number): string[];
  /** The share of the hash space (or of the lookup table) each member owns; the shares sum to 1. */
  spaceShares(): Map<string, number>;
  /** Points on the ring (or slots, or table entries) a member has; 0 where the algorithm has none. */
  pointsOf(id: string): number;
}

/** Common bookkeeping: members in insertion order, and a lazy rebuild after each change. */
export abstract class BasePlacement implements Placement {
  protected readonly weights = new Map<string, number>();
  protected dirty = true;

  set(id: string, weight = 1): this {
    if (!Number.isInteger(weight) || weight < 1)
      throw new RangeError(`weight must be a positive integer, got ${weight}`);
    if (this.weights.get(id) === weight) return this;
    this.weights.set(id, weight);
    this.changed(id);
    return this;
  }

  remove(id: string): boolean {
    if (!this.weights.delete(id)) return false;
    this.changed(id);
    return true;
  }

  has(id: string): boolean {
    return this.weights.has(id);
  }

  get size(): number {
    return this.weights.size;
  }

  members(): Member[] {
    return [...this.weights].map(([id, weight]) => ({ id, weight }));
  }

  protected changed(_id: string): void {
    this.dirty = true;
  }

  protected ensureBuilt(): void {
    if (this.dirty) {
      this.rebuild();
      this.dirty = false;
    }
  }

  protected abstract rebuild(): void;
  abstract owner(key: string): string | undefined;
  abstract owners(key: string, n: number): string[];
  abstract spaceShares(): Map<string, number>;
  pointsOf(_id: string): number {
    return 0;
  }
}
