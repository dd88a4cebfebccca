// The coordinator (the book's architecture: "a coordinator is a proxy between the client and the store"): whichever
// node a request reaches coordinates it. It finds the key's N replicas on the ring (distinct physical nodes), makes
// the new version (the next dot of its own actor on top of the client's context), and answers once W replicas
// stored it (sloppy quorum: a replica that cannot be reached is replaced by the next healthy node beyond the N, or
// the version is kept as a hint for it), or once R replicas answered a read, merging what they hold.
import type { HashRing } from '../06-consistent-hashing/ring.ts';
import { type Clock, clockOf, counterOf, type MergeMode, merge, mergeAll, type Version } from './clock.ts';
import type { Gossip } from './gossip.ts';
import type { HintStore } from './hints.ts';
import type { Peers } from './peers.ts';
import type { Placement } from './placement.ts';
import { ReadBatcher } from './read-batcher.ts';
import type { StorageEngine } from './storage/engine.ts';

export interface CoordinatorOptions {
  self: string;
  actor: string;
  ring: HashRing;
  placement: Placement;
  engine: StorageEngine;
  peers: Peers;
  gossip: Gossip;
  hints: HintStore;
  mergeMode: MergeMode;
  /**
   * Most versions (siblings, deletions included) a key may hold: a write that would leave more on the coordinating
   * replica is refused, not stored (Riak's `max_siblings`). 0: no cap (the `no-sibling-cap` mutant).
   */
  maxSiblings: number;
  /** A read asks the remaining replicas too when the first ones asked have not answered within this; 0 asks all at once. */
  hedgeMs: number;
  /** MUTANT read-local-only: a read answers from the coordinator's own replica, whatever R. */
  readLocalOnly?: boolean;
  /** MUTANT hint-counted-as-ack: a hint the coordinator keeps for a replica counts toward W. */
  hintCountsAsAck?: boolean;
  /** MUTANT quorum-failure-acknowledged: a write stored on fewer than W replicas is acknowledged anyway. */
  acknowledgeShortQuorum?: boolean;
  /** MUTANT dot-from-context-only: the next dot ignores the versions the coordinator holds. */
  dotFromContextOnly?: boolean;
  /** MUTANT read-counts-failed-replies: a remote read that failed still counts toward R. */
  countFailedReplies?: boolean;
  /** MUTANT sibling-cap-off-by-one: the write that would make the 100th version is refused. */
  capOffByOne?: boolean;
  /** MUTANT absent-key-short-quorum-404: fewer than R replies holding nothing read as "no such key". */
  absentOnShortQuorum?: boolean;
  /** MUTANT w1-write-skips-replication: a write acknowledged by the coordinator's own copy is not sent on. */
  skipReplicationWhenAcked?: boolean;
  /** MUTANT batched-read-misaligned: a batched remote read answers each waiter by position, not by key. */
  batchAnswersByPosition?: boolean;
}

export type WriteOutcome =
  | { ok: true; dot: string; context: Clock; acks: number }
  | { tooManySiblings: number }
  | { ok: false; acks: number; replicas: string[] }
  | { forward: string[] };
export type ReadOutcome =
  | { ok: true; versions: Version[]; replies: number }
  | { ok: false; replies: number; replicas: string[] }
  | { forward: string[] };

export interface ReplicateItem {
  key: string;
  v: Version;
}

export class Coordinator {
  private readonly batcher: ReadBatcher;
  constructor(private readonly o: CoordinatorOptions) {
    this.batcher = new ReadBatcher(o.peers, o.batchAnswersByPosition);
  }

  /** The key's preference list: N physical nodes clockwise from its hash (duplicates only in a mutant ring). */
  replicas(key: string): string[] {
    return this.o.placement.replicas(key);
  }

  /** Replicas as [node, how many of the N slots it fills] (always 1 each, unless the ring is the mutant's). */
  private slots(key: string): Map<string, number> {
    const m = new Map<string, number>();
    for (const p of this.replicas(key)) m.set(p, (m.get(p) ?? 0) + 1);
    return m;
  }

  async write(key: string, value: string | null, context: Clock, w: number, forwarded = false): Promise<WriteOutcome> {
    const slots = this.slots(key);
    if (!slots.has(this.o.self) && !forwarded) return { forward: [...slots.keys()] };
    const { self, actor, engine } = this.o;
    // The next event of this node's actor for this key: above every counter of it seen locally or in the context.
    const local = engine.get(key) ?? [];
    let counter = counterOf(context, actor);
    if (!this.o.dotFromContextOnly) for (const s of local) counter = Math.max(counter, counterOf(clockOf(s), actor));
    const v: Version = { value, dot: `${actor}:${counter + 1}`, past: context, ts: Date.now() };
    // A write whose context covers the siblings always passes: it leaves fewer, never more.
    if (slots.has(self) && this.o.maxSiblings > 0) {
      const after = merge(local, v, this.o.mergeMode).length;
      if (after > this.o.maxSiblings - (this.o.capOffByOne ? 1 : 0)) return { tooManySiblings: local.length };
    }
    let acks = 0;
    if (slots.has(self)) {
      engine.apply(key, v); // commit log, then memtable: before any acknowledgement
      acks += slots.get(self)!;
    }
    const remote = [...slots.keys()].filter((p) => p !== self);
    const done = (): WriteOutcome =>
      acks >= w || (this.o.acknowledgeShortQuorum && acks > 0)
        ? { ok: true, dot: v.dot, context: clockOf(v), acks: this.o.acknowledgeShortQuorum ? Math.max(acks, w) : acks }
        : { ok: false, acks, replicas: [...slots.keys()] };
    if (acks >= w || remote.length === 0) {
      if (!this.o.skipReplicationWhenAcked) for (const p of remote) void this.replicateOrHandOff(p, key, v, slots);
      return done();
    }
    return new Promise<WriteOutcome>((resolve) => {
      let settled = 0;
      let answered = false;
      const maybeAnswer = () => {
        if (!answered && (acks >= w || settled === remote.length)) {
          answered = true;
          resolve(done());
        }
      };
      for (const p of remote) {
        void this.replicateOrHandOff(p, key, v, slots).then((got) => {
          acks += got;
          settled++;
          maybeAnswer();
        });
      }
    });
  }

  /**
   * Sends the version to replica p. If p cannot take it: sloppy quorum, the first healthy node beyond the
   * preference list takes it with a hint naming p (and counts toward W, being another physical node); with no such
   * node, the coordinator keeps the hint itself (it does not count twice). Answers how many acks it earned.
   */
  private async replicateOrHandOff(p: string, key: string, v: Version, slots: Map<string, number>): Promise<number> {
    try {
      await this.o.peers.call(p, '/internal/v1/replicate', { items: [{ key, v }] });
      return slots.get(p) ?? 1;
    } catch {
      const all = this.o.ring.owners(key, this.o.ring.size);
      const substitute = all.find((x) => !slots.has(x) && x !== this.o.self && this.o.gossip.isAlive(x));
      if (substitute) {
        try {
          await this.o.peers.call(substitute, '/internal/v1/replicate', { items: [{ key, v }], hintFor: p });
          return 1;
        } catch {
          /* fall through: keep the hint here */
        }
      }
      this.o.hints.add(p, key, v);
      return this.o.hintCountsAsAck ? 1 : 0;
    }
  }

  async read(key: string, r: number, forwarded = false): Promise<ReadOutcome> {
    const slots = this.slots(key);
    if (!slots.has(this.o.self) && !forwarded) return { forward: [...slots.keys()] };
    let versions: Version[] = [];
    let replies = 0;
    if (slots.has(this.o.self)) {
      versions = mergeAll([], this.o.engine.get(key) ?? [], this.o.mergeMode);
      replies += slots.get(this.o.self)!;
    }
    // MUTANT read-local-only: R is not honoured; the coordinator's own replica is the answer.
    if (this.o.readLocalOnly) return { ok: true, versions, replies: Math.max(replies, r) };
    // Ask only as many remote replicas as R still needs (live ones by gossip first, in preference-list order), not
    // all N: the replies beyond R would be thrown away, and each call costs the coordinator more than its own read.
    // A replica that fails is replaced at once by the next; one that is slow past `hedgeMs` gets the rest asked too,
    // so a paused replica costs a hedge delay, not a deadline. The quorum is unchanged: R distinct replicas answer.
    const others = [...slots.keys()].filter((p) => p !== this.o.self);
    const alive = others.filter((p) => this.o.gossip.isAlive(p));
    const remote = [...alive, ...others.filter((p) => !alive.includes(p))];
    const done = (): ReadOutcome =>
      replies >= r || (this.o.absentOnShortQuorum && replies > 0 && versions.length === 0)
        ? { ok: true, versions, replies }
        : { ok: false, replies, replicas: [...slots.keys()] };
    if (replies >= r || remote.length === 0) return done();
    return new Promise<ReadOutcome>((resolve) => {
      let next = 0;
      let pending = 0; // slots of the calls in flight
      let answered = false;
      let hedge: NodeJS.Timeout | undefined;
      const finish = () => {
        answered = true;
        clearTimeout(hedge);
        resolve(done());
      };
      const ask = (p: string) => {
        const weight = slots.get(p)!;
        pending += weight;
        this.batcher
          .read(p, key)
          .then((theirs) => {
            if (answered) return;
            versions = mergeAll(versions, theirs, this.o.mergeMode);
            replies += weight;
          })
          .catch(() => {
            if (this.o.countFailedReplies && !answered) replies += weight;
          })
          .finally(() => {
            pending -= weight;
            if (answered) return;
            if (replies >= r) return finish();
            askMore();
            if (pending === 0) finish();
          });
      };
      const askMore = (all = false) => {
        while (next < remote.length && (all || replies + pending < r)) ask(remote[next++]!);
      };
      askMore(this.o.hedgeMs === 0);
      if (next < remote.length)
        hedge = setTimeout(() => {
          if (!answered) askMore(true);
        }, this.o.hedgeMs);
    });
  }
}
