// The consumer-group coordinator (the broker plays the book's coordinator): membership with session timeouts,
// a new generation and a new assignment at every change, commits fenced by generation and ownership, and the
// group's committed offsets kept durably in <dataDir>/groups/<group>.json (the book's state storage). In a cluster
// they are also kept in the coordination service (a GroupStore, the cluster's etcd), where the next controller
// reads them: a commit is answered only once the store has it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProblemError } from '../kit/problem.ts';
import { readJson, writeJsonDurably } from './durable-file.ts';
import { commitLater, rewriteOffsetsAsync } from './group-mutants.ts';

export interface Membership {
  group: string;
  topic: string;
  memberId: string;
  generation: number;
  partitions: number[];
}

interface Member {
  id: string;
  sessionTimeoutMs: number;
  /** Removed when a call finds Date.now() past this. */
  deadline: number;
  partitions: number[];
}

interface Group {
  name: string;
  topic: string;
  partitions: number;
  generation: number;
  members: Map<string, Member>;
  offsets: Map<number, number>;
  /** The offsets at the last rebalance (only for the moved-partition-from-checkpoint mutant). */
  checkpoint?: Map<number, number>;
}

export interface StoredGroup {
  topic: string;
  partitions: number;
  generation: number;
  offsets: Record<string, number>;
}

/** Where a cluster's controller keeps the groups beyond its own disk (false: it no longer may write there). */
export interface GroupStore {
  save(name: string, group: StoredGroup): Promise<boolean>;
}

export type CoordinatorMutant =
  | 'leave-without-rebalance'
  | 'two-owners-after-rebalance'
  | 'session-never-expires'
  | 'session-expires-early'
  | 'commit-ahead'
  | 'no-generation-fence'
  | 'describe-without-expiry'
  | 'expiry-keeps-generation'
  | 'commit-file-own-partitions'
  | 'offsets-reloaded-by-position'
  | 'commit-durable-later'
  | 'commit-lost-update'
  | 'moved-partition-from-checkpoint'
  | 'group-store-own-partitions';

/**
 * The range assignor: members sorted by ID, each gets a contiguous run of partitions, the runs' lengths differ by
 * at most one.
 */
export function assignRanges(memberIds: readonly string[], partitions: number): Map<string, number[]> {
  const sorted = [...memberIds].sort();
  const out = new Map<string, number[]>();
  const base = Math.floor(partitions / Math.max(1, sorted.length));
  const extra = partitions % Math.max(1, sorted.length);
  let next = 0;
  sorted.forEach((id, i) => {
    const n = base + (i < extra ? 1 : 0);
    out.set(
      id,
      Array.from({ length: n }, (_, k) => next + k),
    );
    next += n;
  });
  return out;
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly dir: string;
  private store: GroupStore | null = null;
  /** The last write to the store, chained after the ones before it (so they land in order). */
  private saving: Promise<boolean> = Promise.resolve(true);
  /** What the next write to the store holds instead of the group's offsets (only for a mutant). */
  private storeOnly: Map<number, number> | undefined;

  constructor(
    dataDir: string,
    private readonly mutant?: CoordinatorMutant,
  ) {
    this.dir = join(dataDir, 'groups');
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.json'))) {
      const name = f.slice(0, -5);
      this.groups.set(name, this.fromStored(name, this.readStored(join(this.dir, f))));
    }
  }

  /** Keeps every later change in `store` too (a cluster's controller: see saved()). */
  useStore(store: GroupStore): void {
    this.store = store;
  }

  /**
   * Replaces every group with the ones a store holds (a new controller takes over): generations and offsets kept,
   * members not (each joins again, its next call to this broker being 404 unknown_member).
   */
  load(stored: Record<string, StoredGroup>): void {
    this.groups.clear();
    for (const [name, s] of Object.entries(stored)) this.groups.set(name, this.fromStored(name, s));
  }

  /** Resolves once the store has every change made so far; 503 when it refused one (this broker lost its lease). */
  async saved(): Promise<void> {
    if (await this.saving) return;
    throw new ProblemError(
      503,
      'coordination_unavailable',
      'the group state could not be stored in the coordination service (this broker may no longer be the controller): retry',
    );
  }

  private fromStored(name: string, s: StoredGroup): Group {
    return {
      name,
      topic: s.topic,
      partitions: s.partitions,
      generation: s.generation,
      members: new Map(),
      offsets: new Map(Object.entries(s.offsets).map(([p, o]) => [Number(p), o])),
    };
  }

  /** A group's state file, as written by persist(). */
  private readStored(path: string): StoredGroup {
    const s = readJson<StoredGroup>(path)!;
    // MUTANT offsets-reloaded-by-position: the stored offsets are taken by their place in the file, not by partition.
    if (this.mutant !== 'offsets-reloaded-by-position') return s;
    return { ...s, offsets: Object.fromEntries(Object.values(s.offsets).map((o, p) => [String(p), o])) };
  }

  join(
    name: string,
    topic: string,
    partitions: number,
    memberId: string | undefined,
    sessionTimeoutMs: number,
  ): Membership {
    this.expire();
    let g = this.groups.get(name);
    if (g && g.topic !== topic)
      throw new ProblemError(409, 'group_topic_mismatch', `group ${name} consumes topic ${g.topic}, not ${topic}`);
    if (memberId !== undefined) {
      const m = g?.members.get(memberId);
      if (!g || !m)
        throw new ProblemError(404, 'unknown_member', `${memberId} is not a member of ${name}; join without it`);
      m.sessionTimeoutMs = sessionTimeoutMs;
      m.deadline = this.sessionEnd(sessionTimeoutMs);
      return this.membership(g, m);
    }
    if (!g) {
      g = { name, topic, partitions, generation: 0, members: new Map(), offsets: new Map() };
      this.groups.set(name, g);
    }
    const id = `m-${randomBytes(8).toString('hex')}`;
    const m: Member = { id, sessionTimeoutMs, deadline: this.sessionEnd(sessionTimeoutMs), partitions: [] };
    g.members.set(id, m);
    this.rebalance(g, id);
    return this.membership(g, m);
  }

  has(name: string): boolean {
    return this.groups.has(name);
  }

  heartbeat(name: string, memberId: string): Membership {
    this.expire();
    const { g, m } = this.member(name, memberId);
    m.deadline = this.sessionEnd(m.sessionTimeoutMs);
    return this.membership(g, m);
  }

  leave(name: string, memberId: string): void {
    this.expire();
    const { g } = this.member(name, memberId);
    g.members.delete(memberId);
    // MUTANT leave-without-rebalance: the leaver's partitions are not handed to anybody.
    if (this.mutant !== 'leave-without-rebalance') this.rebalance(g);
  }

  describe(name: string): {
    group: string;
    topic: string;
    generation: number;
    members: { memberId: string; partitions: number[] }[];
  } {
    // MUTANT describe-without-expiry: describing the group does not remove members whose session ran out.
    if (this.mutant !== 'describe-without-expiry') this.expire();
    const g = this.existing(name);
    return {
      group: g.name,
      topic: g.topic,
      generation: g.generation,
      members: [...g.members.values()].map((m) => ({ memberId: m.id, partitions: m.partitions })),
    };
  }

  commit(
    name: string,
    memberId: string,
    generation: number,
    offsets: readonly { partition: number; offset: number }[],
    endOffset: (partition: number) => number,
  ): ReturnType<GroupCoordinator['offsets']> {
    this.expire();
    const { g, m } = this.member(name, memberId);
    // MUTANT no-generation-fence: a member that has not heard of a rebalance still commits.
    if (generation !== g.generation && this.mutant !== 'no-generation-fence')
      throw new ProblemError(409, 'stale_generation', `generation ${generation} is not the current ${g.generation}`);
    for (const { partition, offset } of offsets) {
      if (!m.partitions.includes(partition) && this.mutant !== 'no-generation-fence')
        throw new ProblemError(409, 'partition_not_assigned', `${memberId} does not own partition ${partition}`);
      if (partition >= g.partitions)
        throw new ProblemError(409, 'partition_not_assigned', `topic ${g.topic} has no partition ${partition}`);
      if (offset > endOffset(partition))
        throw new ProblemError(
          422,
          'offset_out_of_range',
          `offset ${offset} is past partition ${partition}'s end offset ${endOffset(partition)}`,
        );
    }
    // MUTANT commit-lost-update: the offsets are read from the group's file, updated and written back
    // asynchronously, the memory set from what was written: two commits at once, the last write wins.
    if (this.mutant === 'commit-lost-update') {
      const path = join(this.dir, `${g.name}.json`);
      this.saving = rewriteOffsetsAsync(path, offsets, (o) => {
        g.offsets = o;
      });
      const answer = this.offsets(name);
      for (const { partition, offset } of offsets) answer.offsets[partition]!.offset = offset;
      return answer;
    }
    // MUTANT group-store-own-partitions: the cluster's store (etcd), where the next controller reads the group, gets
    // this commit's offsets only, not the group's.
    if (this.mutant === 'group-store-own-partitions')
      this.storeOnly = new Map(offsets.map(({ partition, offset }) => [partition, offset]));
    // MUTANT commit-ahead: the group is recorded as having consumed everything there is, not what it committed.
    for (const { partition, offset } of offsets)
      g.offsets.set(partition, this.mutant === 'commit-ahead' ? endOffset(partition) : offset);
    // MUTANT commit-file-own-partitions: the state file gets this commit's offsets only, not the group's.
    const own = this.mutant === 'commit-file-own-partitions';
    this.persist(g, own ? new Map(offsets.map(({ partition, offset }) => [partition, offset])) : g.offsets);
    return this.offsets(name);
  }

  offsets(name: string): { group: string; topic: string; offsets: { partition: number; offset: number | null }[] } {
    const g = this.existing(name);
    return {
      group: g.name,
      topic: g.topic,
      offsets: Array.from({ length: g.partitions }, (_, p) => ({ partition: p, offset: g.offsets.get(p) ?? null })),
    };
  }

  /** Removes members whose session ran out, rebalancing their groups. */
  expire(now = Date.now()): void {
    // MUTANT session-never-expires: a consumer that died keeps its partitions for ever.
    if (this.mutant === 'session-never-expires') return;
    for (const g of this.groups.values()) {
      let changed = false;
      for (const m of g.members.values())
        if (m.deadline < now) {
          g.members.delete(m.id);
          changed = true;
        }
      if (changed) this.rebalance(g, undefined, this.mutant !== 'expiry-keeps-generation');
    }
  }

  /** When a session that starts now ends. */
  private sessionEnd(sessionTimeoutMs: number): number {
    // MUTANT session-expires-early: a member is dropped after half its session timeout.
    return Date.now() + (this.mutant === 'session-expires-early' ? sessionTimeoutMs / 2 : sessionTimeoutMs);
  }

  private rebalance(g: Group, newcomer?: string, newGeneration = true): void {
    // MUTANT expiry-keeps-generation: an expiry reassigns the dead members' partitions in the same generation.
    if (newGeneration) g.generation++;
    if (this.mutant === 'two-owners-after-rebalance' && newcomer) {
      // MUTANT two-owners-after-rebalance: the others keep their partitions; the newcomer gets a share computed as
      // if everybody had been reassigned, so a partition can have two owners.
      const fresh = assignRanges([...g.members.keys()], g.partitions);
      g.members.get(newcomer)!.partitions = fresh.get(newcomer)!;
    } else {
      const plan = assignRanges([...g.members.keys()], g.partitions);
      const before = new Map([...g.members.values()].flatMap((m) => m.partitions.map((p) => [p, m.id] as const)));
      for (const m of g.members.values()) m.partitions = plan.get(m.id)!;
      // MUTANT moved-partition-from-checkpoint: a partition that changes owner is handed over at the offset the
      // group had at the previous rebalance (the commits made since are taken as the old owner's, and dropped).
      if (this.mutant === 'moved-partition-from-checkpoint') {
        for (const [id, ps] of plan)
          for (const p of ps) {
            if (before.get(p) === id) continue;
            if (!g.checkpoint) continue;
            const at = g.checkpoint.get(p);
            if (at === undefined) g.offsets.delete(p);
            else g.offsets.set(p, at);
          }
        g.checkpoint = new Map(g.offsets);
      }
    }
    this.persist(g);
  }

  /** Writes the group's state file whole: `offsets` is the group's (others only for a mutant). */
  private persist(g: Group, offsets: ReadonlyMap<number, number> = g.offsets): void {
    const stored: StoredGroup = {
      topic: g.topic,
      partitions: g.partitions,
      generation: g.generation,
      offsets: Object.fromEntries(offsets),
    };
    const file = join(this.dir, `${g.name}.json`);
    // MUTANT commit-durable-later: the file written a second after a change (the changes meanwhile gathered).
    if (this.mutant === 'commit-durable-later')
      commitLater(g.name, () => writeJsonDurably(file, { ...stored, offsets: Object.fromEntries(g.offsets) }));
    else writeJsonDurably(file, stored);
    const store = this.store;
    const saved = this.storeOnly ? { ...stored, offsets: Object.fromEntries(this.storeOnly) } : stored;
    this.storeOnly = undefined;
    if (store) this.saving = this.saving.then(() => store.save(g.name, saved)).catch(() => false);
  }

  private existing(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw new ProblemError(404, 'group_not_found', `no group ${name}`);
    return g;
  }

  private member(name: string, memberId: string): { g: Group; m: Member } {
    const g = this.groups.get(name);
    const m = g?.members.get(memberId);
    if (!g || !m) throw new ProblemError(404, 'unknown_member', `${memberId} is not a member of ${name}`);
    return { g, m };
  }

  private membership(g: Group, m: Member): Membership {
    return { group: g.name, topic: g.topic, memberId: m.id, generation: g.generation, partitions: m.partitions };
  }
}
