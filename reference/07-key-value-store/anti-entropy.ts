// Anti-entropy with Merkle trees, and the delivery of hinted handoffs: the two background repairs of the book.
// Every round a node picks a random live peer, builds the Merkle tree of the keys they both replicate, fetches the
// peer's, descends only into differing subtrees, and the two exchange the keys of the differing buckets (push and
// pull), each merging what it lacks. Hints are offered to their replica every `hintIntervalMs` until it takes them.
import type { Version } from './clock.ts';
import type { Gossip } from './gossip.ts';
import type { HintStore } from './hints.ts';
import { bucketOf, buildTree, differingBuckets } from './merkle.ts';
import type { Peers } from './peers.ts';
import type { Placement } from './placement.ts';
import type { StorageEngine } from './storage/engine.ts';

export interface RepairOptions {
  self: string;
  placement: Placement;
  engine: StorageEngine;
  peers: Peers;
  gossip: Gossip;
  hints: HintStore;
  antiEntropyMs: number;
  hintIntervalMs: number;
  /** MUTANT anti-entropy-off. */
  antiEntropyOff?: boolean;
  /** MUTANT hints-never-delivered. */
  hintsNeverDelivered?: boolean;
  /** MUTANT merkle-counts-versions. */
  merkleCountsOnly?: boolean;
  /** MUTANT anti-entropy-beyond-replicas. */
  sharedByEither?: boolean;
  /** MUTANT anti-entropy-skips-deleted-keys: keys holding only tombstones are left out of the exchange. */
  skipDeletedKeys?: boolean;
}

export type Entries = [string, Version[]][];

export class Repair {
  rounds = 0;
  keysRepaired = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: RepairOptions) {}

  start(): void {
    if (!this.o.antiEntropyOff) {
      // Jittered so the nodes' rounds do not line up.
      const schedule = () => {
        const t = setTimeout(
          async () => {
            await this.antiEntropyRound().catch(() => {});
            schedule();
          },
          this.o.antiEntropyMs * (0.75 + Math.random() * 0.5),
        );
        this.timers.push(t);
      };
      schedule();
    }
    if (!this.o.hintsNeverDelivered)
      this.timers.push(setInterval(() => void this.deliverHints(), this.o.hintIntervalMs));
  }

  /** The keys this node holds that `peer` also replicates. */
  shared(peer: string): Entries {
    const out: Entries = [];
    for (const [k, v] of this.o.engine.snapshot()) {
      if (this.o.skipDeletedKeys && v.every((x) => x.value === null)) continue;
      const owners = this.o.placement.replicas(k);
      // MUTANT anti-entropy-beyond-replicas: the keys either node replicates, so a peer is sent keys it does not.
      if (this.o.sharedByEither) {
        if (owners.includes(peer) || owners.includes(this.o.self)) out.push([k, v]);
      } else if (owners.includes(peer) && owners.includes(this.o.self)) out.push([k, v]);
    }
    return out;
  }

  treeFor(peer: string): string[] {
    return buildTree(this.shared(peer), this.o.merkleCountsOnly);
  }

  /** Merges versions from a peer; answers how many keys changed here. */
  take(entries: Entries): number {
    let changed = 0;
    for (const [key, versions] of entries) {
      let any = false;
      for (const v of versions) any = this.o.engine.apply(key, v).changed || any;
      if (any) changed++;
    }
    this.keysRepaired += changed;
    return changed;
  }

  inBuckets(peer: string, buckets: number[]): Entries {
    const want = new Set(buckets);
    return this.shared(peer).filter(([k]) => want.has(bucketOf(k)));
  }

  /** One round with a random live peer; start() runs the next only after this one ends, so rounds never overlap. */
  async antiEntropyRound(): Promise<void> {
    const alive = this.o.peers.names.filter((p) => this.o.gossip.isAlive(p));
    if (alive.length === 0) return;
    const peer = alive[Math.floor(Math.random() * alive.length)]!;
    const mine = this.treeFor(peer);
    const theirs = await this.o.peers.call<{ tree: string[] }>(peer, '/internal/v1/merkle', { from: this.o.self });
    const buckets = differingBuckets(mine, theirs.tree);
    if (buckets.length > 0) {
      const answer = await this.o.peers.call<{ entries: Entries }>(
        peer,
        '/internal/v1/sync',
        { from: this.o.self, buckets, entries: this.inBuckets(peer, buckets) },
        10_000,
      );
      this.take(answer.entries);
    }
    this.rounds++;
  }

  private delivering = false;

  async deliverHints(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      await this.deliverEach();
    } finally {
      this.delivering = false;
    }
  }

  private async deliverEach(): Promise<void> {
    const targets = new Set([...this.o.hints.pending.values()].map((h) => h.target));
    for (const target of targets) {
      const batch = this.o.hints.forTarget(target).slice(0, 200);
      try {
        await this.o.peers.call(target, '/internal/v1/replicate', {
          items: batch.map((h) => ({ key: h.key, v: h.v })),
        });
        for (const h of batch) this.o.hints.done(h.id);
      } catch {
        /* still unreachable: try again next time */
      }
    }
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }
}
