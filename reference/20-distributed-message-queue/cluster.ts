// Several brokers in one cluster (the book's replication). Each partition has replicas on `replicationFactor`
// brokers, placed statically (replica i of partition p on broker (p + i) mod n, brokers sorted by name); the
// first is the preferred leader. Every partition's state lives in etcd (coordination.ts, the book's ZooKeeper): the
// controller (the broker holding etcd's controller lease; controller.ts) writes it and elects new leaders, and every
// broker watches it. Followers pull records from their leader (follower-fetch.ts); the leader tracks them, keeps the
// ISR and advances the high watermark (partition-leader.ts). This module wires the parts: it runs their loops, takes
// the controller's lease when nobody holds it, and applies each new state to what this broker leads or follows.
import type { ClusterOptions, ClusterView } from './cluster-options.ts';
import { HEALTH_MS, POLL_MS, sleep } from './cluster-rpc.ts';
import { type ClusterState, configOf, type PartitionState, partitionKey, splitKey } from './cluster-state.ts';
import { Controller } from './controller.ts';
import { Coordination } from './coordination.ts';
import { FollowerFetch } from './follower-fetch.ts';
import type { StoredGroup } from './group-coordinator.ts';
import { PartitionLeaders } from './partition-leader.ts';
import type { Topic, TopicConfig } from './topic-registry.ts';

export type { ClusterOptions } from './cluster-options.ts';
export { type ClusterState, type PartitionState, partitionKey, placeReplicas } from './cluster-state.ts';
export { NotEnoughReplicas } from './partition-leader.ts';

/**
 * At a cluster's start the first broker by name takes the controller's lease (where the checks expect it); the
 * others campaign only once they have seen a controller (it died: its key went with its lease), or after this long
 * without one (the first broker never came).
 */
const START_GRACE_MS = 10_000;

export class Cluster implements ClusterView {
  readonly brokers: string[];
  /** The broker holding the controller's lease, as this broker last heard from etcd (it may have died since). */
  controller = '';
  state: ClusterState = { topics: [], partitions: {} };
  /** etcd's revision of `state` (an older one, pushed or watched late, is not applied over it). */
  revision = 0;
  readonly coordination: Coordination;
  closed = false;
  private controllerHeld = false;
  private seenController = false;
  private readonly startedAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly controllerPart: Controller;
  private readonly leaders: PartitionLeaders;
  private readonly followers: FollowerFetch;
  /** Settles once this broker, if it just won the controller's lease, has read the stored groups. */
  private groupsLoading: Promise<void> = Promise.resolve();

  constructor(readonly o: ClusterOptions) {
    this.brokers = [o.self, ...o.peers.keys()].sort();
    this.controllerPart = new Controller(this);
    this.leaders = new PartitionLeaders(this);
    this.followers = new FollowerFetch(this);
    this.coordination = new Coordination(
      o.etcdUrl,
      o.etcdPrefix,
      o.leaseTtlS,
      {
        // MUTANT state-pulled-only-at-start: the state's changes are not watched (only read once at the start).
        state: (s) => (o.pullStateOnlyAtStart ? undefined : this.apply(s.state, s.revision)),
        controller: (name) => this.controllerIs(name),
        lost: () => o.log('cluster: the controller lease was lost'),
      },
      o.stateWriteWithoutCas,
    );
    // MUTANT group-offsets-on-controller-disk: the groups are not stored in etcd, so a new controller starts afresh.
    if (o.groups && !o.groupsOnControllerDisk)
      o.groups.useStore({ save: (name, g) => this.coordination.writeGroup(name, g) });
  }

  get isController(): boolean {
    return this.coordination.holdsLease;
  }

  urlOf(broker: string): string {
    return broker === this.o.self ? this.o.selfUrl : this.o.peers.get(broker)!;
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.state.partitions[partitionKey(topic, partition)];
  }

  /**
   * A partition's end offset (high watermark) as its leader describes it, for a broker that holds no replica of it
   * (the controller checking a commit: its own copy is empty); null when it holds one, or the leader does not answer.
   */
  async leaderEndOffset(topic: string, partition: number): Promise<number | null> {
    const s = this.partition(topic, partition);
    if (!s || s.replicas.includes(this.o.self)) return null;
    try {
      const r = await fetch(`${this.urlOf(s.leader)}/api/v1/topics/${encodeURIComponent(topic)}`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!r.ok) return null;
      const t = (await r.json()) as { partitionStates?: { endOffset?: number }[] };
      return t.partitionStates?.[partition]?.endOffset ?? null;
    } catch {
      return null;
    }
  }

  /** Starts the loops: campaigns for the controller's lease, health checks (the controller), ISR upkeep (leaders). */
  async start(): Promise<void> {
    // The state and a controller before answering: a broker that does not know who leads what cannot serve. The
    // interval keeps the process alive meanwhile (the loop's own timers are unref'd).
    const keepAlive = setInterval(() => {}, 1000);
    try {
      for (;;) {
        if (this.closed) return;
        try {
          const { stored, controller } = await this.coordination.read();
          this.apply(stored.state, stored.revision);
          // Its own name on the key, from before a restart: that incarnation is dead, so nobody is the controller.
          const stale = controller === this.o.self && (await this.coordination.dropStaleOwnKey(this.o.self));
          this.controllerIs(stale ? null : controller);
          await this.coordination.watch();
          break;
        } catch (e) {
          this.o.log(`cluster: etcd at ${this.o.etcdUrl}: ${(e as Error).message}`);
          await sleep(POLL_MS);
        }
      }
      while (!this.closed && !this.controllerHeld) {
        await this.campaignIfDue().catch((e) => this.o.log(`cluster: campaign: ${(e as Error).message}`));
        await sleep(POLL_MS);
      }
    } finally {
      clearInterval(keepAlive);
    }
    this.every(POLL_MS, () => this.campaignIfDue());
    this.every(HEALTH_MS, () => (this.isController ? this.controllerPart.checkBrokers() : undefined));
    this.every(POLL_MS, () => this.leaders.maintainIsr());
  }

  private controllerIs(name: string | null): void {
    this.controllerHeld = name !== null;
    if (name === null) return;
    this.controller = name;
    this.seenController = true;
  }

  /** Takes the controller's lease when nobody holds it (see START_GRACE_MS), and reads the state it now owns. */
  private async campaignIfDue(): Promise<void> {
    if (this.controllerHeld || this.closed) return;
    // MUTANT controller-never-reelected: once a controller has been seen, nobody campaigns again.
    if (this.o.neverReelect && this.seenController) return;
    const first = this.o.self === this.brokers[0];
    if (!first && !this.seenController && Date.now() - this.startedAt < START_GRACE_MS) return;
    // Group requests wait for the stored groups from the moment the lease may be ours (they need no other state).
    let loaded!: () => void;
    this.groupsLoading = new Promise((r) => {
      loaded = r;
    });
    try {
      const holder = await this.coordination.campaign(this.o.self);
      if (holder !== this.o.self) {
        this.controllerIs(holder);
        return;
      }
      this.controllerIs(this.o.self);
      await this.loadGroups();
      loaded();
      const { stored } = await this.coordination.read();
      this.apply(stored.state, stored.revision);
      this.controllerPart.elected();
      this.o.log(`cluster: ${this.o.self} is the controller (state at revision ${stored.revision})`);
    } finally {
      loaded();
    }
  }

  /** A group request on the controller waits for this: the groups as the controllers before it stored them. */
  groupsReady(): Promise<void> {
    return this.groupsLoading;
  }

  /** The new controller takes the groups (generations, committed offsets) its predecessors stored in etcd. */
  private async loadGroups(): Promise<void> {
    const groups = this.o.groups;
    if (!groups || this.o.groupsOnControllerDisk) return;
    while (!this.closed && this.isController) {
      try {
        groups.load((await this.coordination.readGroups()) as Record<string, StoredGroup>);
        return;
      } catch (e) {
        this.o.log(`cluster: reading the stored groups: ${(e as Error).message}`);
        await sleep(POLL_MS);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.leaders.close();
    this.coordination.close();
  }

  private every(ms: number, f: () => Promise<void> | undefined): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy || this.closed) return;
      busy = true;
      Promise.resolve(f())
        .catch((e) => this.o.log(`cluster: ${(e as Error).message}`))
        .finally(() => {
          busy = false;
        });
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** The controller's answer to a create: the topic's partitions placed and led by their preferred leaders. */
  createTopic(config: TopicConfig): Promise<Topic> {
    return this.controllerPart.createTopic(config);
  }

  /** A leader's ISR change, accepted only from the partition's current leader in its current epoch. */
  changeIsr(
    from: string,
    topic: string,
    partition: number,
    epoch: number,
    isr: string[],
  ): Promise<PartitionState | null> {
    return this.controllerPart.changeIsr(from, topic, partition, epoch, isr);
  }

  get snapshot(): ClusterState {
    // MUTANT min-insync-not-pushed: the other brokers get every topic without its minInsyncReplicas.
    const pushed = this.o.minInsyncNotPushed
      ? ({ minInsyncReplicas: _m, ...c }: ReturnType<typeof configOf>) => c
      : (c: ReturnType<typeof configOf>) => c;
    return { topics: this.o.topics.all().map((t) => pushed(configOf(t))), partitions: this.state.partitions };
  }

  /**
   * Takes a state (from etcd, or pushed by the controller): opens new topics, and starts leading or following what
   * changed. One older than the state this broker has is left alone.
   */
  apply(next: ClusterState, revision: number): void {
    if (revision < this.revision) return;
    this.revision = revision;
    for (const t of next.topics) if (!this.o.topics.get(t.name)) this.o.topics.create(t);
    this.state = next;
    for (const [key, s] of Object.entries(next.partitions)) {
      if (!s.replicas.includes(this.o.self)) continue;
      const [topic, p] = splitKey(key);
      if (s.leader === this.o.self) {
        this.followers.stop(key);
        if (!this.leaders.leads(key, s.epoch))
          this.leaders.lead(key, topic, p, s, this.followers.lastHighWatermark(key));
      } else {
        this.leaders.stop(key);
        this.followers.start(key, topic, p, s.epoch, s.leader);
      }
    }
  }

  /** The leader's side of a follower's fetch (partition-leader.ts). */
  replicate(q: Parameters<PartitionLeaders['replicate']>[0]): ReturnType<PartitionLeaders['replicate']> {
    return this.leaders.replicate(q);
  }

  /**
   * Offsets below the high watermark are on every in-sync replica: what consumers may read and acks=all waits for.
   * A follower answers the last one its leader told it (it may lag the leader's; never above it): its own log can
   * hold records past the leader's high watermark, which are not committed yet and may be truncated away.
   */
  highWatermark(topic: string, partition: number, endOffset: number): number {
    const key = partitionKey(topic, partition);
    const leading = this.leaders.highWatermark(key);
    if (leading !== undefined) return Math.min(leading, endOffset);
    return Math.min(this.followers.lastHighWatermark(key) ?? 0, endOffset);
  }

  /** acks=all before appending: NotEnoughReplicas when fewer than minInsync replicas are in sync. */
  checkInSync(topic: string, partition: number, minInsync: number): void {
    this.leaders.checkInSync(topic, partition, minInsync);
  }

  /** acks=all after appending: resolves once every in-sync replica has everything below `until`. */
  awaitReplicated(topic: string, partition: number, until: number, minInsync: number): Promise<void> {
    return this.leaders.awaitReplicated(topic, partition, until, minInsync);
  }
}
