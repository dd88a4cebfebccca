// The service's state: the membership (servers and weights), its version, and the placement built from it.
// Every change is written to DATA_DIR/membership.json (write to a temporary file, then rename) before it is
// acknowledged, so it survives a restart and a kill -9 of the process; the placement is swapped in one step, so a
// lookup sees the membership before or after a change, never half of it.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AlgorithmName, createPlacement, ModuloPlacement, type Placement } from './algorithms.ts';
import { saltedHash48 } from './hash.ts';
import { JumpHash } from './jump.ts';
import type { MutantName } from './mutants.ts';

export const MAX_SERVERS = 256;

interface Stored {
  version: number;
  servers: { id: string; weight: number }[];
  /** Jump hash only: the bucket order, which removals permute. */
  buckets?: string[];
}

export interface MembershipOptions {
  algorithm: AlgorithmName;
  /** Where membership.json lives; undefined keeps it in memory only. */
  dataDir: string | undefined;
  virtualNodes: number;
  /** Maglev only: the lookup table's size (a prime; undefined: Maglev's default). */
  tableSize?: number | undefined;
  mutant?: MutantName | undefined;
}

export class Membership {
  version = 0;
  placement: Placement;
  /** Requested weights by ID, in joining order. */
  private readonly stored = new Map<string, number>();
  private readonly file: string | undefined;
  /** MUTANT write-behind-membership only: the pending deferred write. */
  private flush: NodeJS.Timeout | undefined;

  constructor(private readonly o: MembershipOptions) {
    this.file = o.dataDir === undefined ? undefined : join(o.dataDir, 'membership.json');
    this.placement = this.empty();
    if (this.file && existsSync(this.file)) {
      const stored = JSON.parse(readFileSync(this.file, 'utf8')) as Stored;
      // MUTANT version-not-restored: a restart starts the version again from 0 (the servers are restored).
      if (this.o.mutant !== 'version-not-restored') this.version = stored.version;
      for (const s of stored.servers) {
        this.stored.set(s.id, s.weight);
        this.placement.set(s.id, this.weightOf(s.weight));
      }
      // MUTANT jump-order-not-kept: jump's bucket order is never restored; each copy is rebuilt in join order.
      if (this.placement instanceof JumpHash && stored.buckets && this.o.mutant !== 'jump-order-not-kept')
        this.placement.restore(stored.buckets);
    }
  }

  private empty(): Placement {
    const m = this.o.mutant;
    // MUTANT modulo-hashing: serverIndex = hash(key) % N, the rehashing problem the book starts from.
    if (m === 'modulo-hashing') return new ModuloPlacement();
    return createPlacement(this.o.algorithm, {
      // MUTANT virtual-nodes-setting-ignored: VIRTUAL_NODES never reaches the ring, which keeps its own default (200).
      virtualNodes: m === 'virtual-nodes-setting-ignored' ? undefined : this.o.virtualNodes,
      tableSize: this.o.tableSize,
      // MUTANT unstable-hash: a salt drawn at random by each process, so each instance has its own ring.
      ...(m === 'unstable-hash' ? { hash: saltedHash48(`${Math.random()}`) } : {}),
      ringMutant: m,
    });
  }

  /** The weight the placement is given (the stored and reported weight is always the requested one). */
  private weightOf(weight: number): number {
    // MUTANT weights-ignored: every server is put on the ring with the same number of virtual nodes.
    return this.o.mutant === 'weights-ignored' ? 1 : weight;
  }

  weight(id: string): number | undefined {
    return this.stored.get(id);
  }

  servers(): { id: string; weight: number; virtualNodes: number }[] {
    // MUTANT virtual-nodes-per-unit: every server reports the per-unit count, whatever its weight.
    const points = (id: string) =>
      this.o.mutant === 'virtual-nodes-per-unit' ? this.o.virtualNodes : this.placement.pointsOf(id);
    return [...this.stored].map(([id, weight]) => ({ id, weight, virtualNodes: points(id) }));
  }

  /** Adds or re-weights a server; returns whether it is new and whether anything changed. */
  set(id: string, weight: number): { created: boolean; changed: boolean } {
    const before = this.stored.get(id);
    if (before === weight) return { created: false, changed: false };
    const full = before === undefined && this.stored.size >= MAX_SERVERS;
    if (full && this.o.mutant !== 'over-limit-stored') throw new RangeError('too many servers');
    const next = this.copy();
    next.set(id, this.weightOf(weight));
    // MUTANT weight-change-keeps-version: a new weight is applied without a new version.
    const bump = before !== undefined && this.o.mutant === 'weight-change-keeps-version' ? 0 : 1;
    this.commit(next, () => this.stored.set(id, weight), bump);
    // MUTANT over-limit-stored: the limit is checked after the server was stored; the 409 leaves it in the ring.
    if (full) throw new RangeError('too many servers');
    return { created: before === undefined, changed: true };
  }

  remove(id: string): boolean {
    if (!this.stored.has(id)) return false;
    const next = this.copy();
    next.remove(id);
    // MUTANT removal-in-memory: a removal is swapped in unwritten; the next change writes it, a kill before that loses it.
    if (this.o.mutant === 'removal-in-memory') {
      this.stored.delete(id);
      this.placement = next;
      this.version += 1;
      return true;
    }
    this.commit(next, () => this.stored.delete(id));
    return true;
  }

  /** A new placement with the same members (in the same order), so a change is built aside and swapped in. */
  private copy(): Placement {
    const p = this.empty();
    for (const m of this.placement.members()) p.set(m.id, m.weight);
    if (p instanceof JumpHash && this.placement instanceof JumpHash && this.o.mutant !== 'jump-order-not-kept')
      p.restore(this.placement.bucketList());
    return p;
  }

  private commit(next: Placement, apply: () => void, bump = 1): void {
    const stored = new Map(this.stored);
    apply();
    // MUTANT version-is-timestamp: the version is the time of the change (it increases, but not by one).
    const version =
      this.o.mutant === 'version-is-timestamp' ? Math.max(this.version + 1, Date.now()) : this.version + bump;
    try {
      this.persist(next, version);
    } catch (error) {
      this.stored.clear();
      for (const [k, v] of stored) this.stored.set(k, v);
      throw error;
    }
    this.placement = next;
    this.version = version;
  }

  private persist(next: Placement, version: number): void {
    // MUTANT memory-only-membership: nothing is written; a restart starts from an empty ring.
    if (!this.file || this.o.mutant === 'memory-only-membership') return;
    const doc: Stored = { version, servers: [...this.stored].map(([id, weight]) => ({ id, weight })) };
    if (next instanceof JumpHash) doc.buckets = next.bucketList();
    const tmp = `${this.file}.tmp`;
    const file = this.file;
    const write = () => {
      writeFileSync(tmp, JSON.stringify(doc));
      renameSync(tmp, file);
    };
    // MUTANT write-behind-membership: writes are coalesced, 1 s after the last change; the answer goes out first.
    if (this.o.mutant === 'write-behind-membership') {
      clearTimeout(this.flush);
      this.flush = setTimeout(write, 1000);
      return;
    }
    write();
  }
}
