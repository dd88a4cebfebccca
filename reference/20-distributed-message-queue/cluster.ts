// Several brokers in one cluster (the book's replication). Each partition has replicas on `replicationFactor`
// brokers, placed statically (replica i of partition p on broker (p + i) mod n, brokers sorted by name); the
// first is the preferred leader. The controller (the first broker by name; controller.ts) keeps every partition's
// state and elects new leaders, and every broker pulls the state from it. Followers pull records from their leader
// (follower-fetch.ts); the leader tracks them, keeps the ISR and advances the high watermark (partition-leader.ts).
// This module wires the parts: it runs their loops and applies each new state to what this broker leads or follows.
import type { ClusterOptions, ClusterView } from './cluster-options.ts';
import { HEALTH_MS, POLL_MS, rpc, sleep } from './cluster-rpc.ts';
import { type ClusterState, configOf, type PartitionState, partitionKey, splitKey } from './cluster-state.ts';
import { Controller } from './controller.ts';
import { FollowerFetch } from './follower-fetch.ts';
import { PartitionLeaders } from './partition-leader.ts';
import type { Topic, TopicConfig } from './topic-registry.ts';

export type { ClusterOptions } from './cluster-options.ts';
export { type ClusterState, type PartitionState, partitionKey, placeReplicas } from './cluster-state.ts';
export { NotEnoughReplicas } from './partition-leader.ts';

export class Cluster implements ClusterView {
  readonly brokers: string[];
  readonly controller: string;
  state: ClusterState = { topics: [], partitions: {} };
  closed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly controllerPart: Controller;
  private readonly leaders: PartitionLeaders;
  private readonly followers: FollowerFetch;

  constructor(readonly o: ClusterOptions) {
    this.brokers = [o.self, ...o.peers.keys()].sort();
    this.controller = this.brokers[0]!;
    this.controllerPart = new Controller(this);
    this.leaders = new PartitionLeaders(this);
    this.followers = new FollowerFetch(this);
    if (this.isController)
      this.apply({ topics: o.topics.all().map(configOf), partitions: this.controllerPart.saved() });
  }

  get isController(): boolean {
    return this.o.self === this.controller;
  }

  urlOf(broker: string): string {
    return broker === this.o.self ? this.o.selfUrl : this.o.peers.get(broker)!;
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.state.partitions[partitionKey(topic, partition)];
  }

  /** Starts the loops: state pulls (every broker), health checks (the controller), ISR upkeep (leaders). */
  async start(): Promise<void> {
    if (!this.isController) {
      // The first state before answering: a broker that does not know who leads what cannot serve. The interval
      // keeps the process alive while the controller is not up yet (the loop's own timers may all be unref'd).
      const keepAlive = setInterval(() => {}, 1000);
      try {
        while (!this.closed && !(await this.pullState())) await sleep(POLL_MS);
      } finally {
        clearInterval(keepAlive);
      }
    }
    // MUTANT state-pulled-only-at-start: no pulls after the first (ISR changes are never pushed).
    if (!this.o.pullStateOnlyAtStart)
      this.every(POLL_MS, () => (this.isController ? undefined : this.pullState().then(() => undefined)));
    if (this.isController) this.every(HEALTH_MS, () => this.controllerPart.checkBrokers());
    this.every(POLL_MS, () => this.leaders.maintainIsr());
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.leaders.close();
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
  changeIsr(from: string, topic: string, partition: number, epoch: number, isr: string[]): PartitionState | null {
    return this.controllerPart.changeIsr(from, topic, partition, epoch, isr);
  }

  get snapshot(): ClusterState {
    // MUTANT min-insync-not-pushed: the other brokers get every topic without its minInsyncReplicas.
    const pushed = this.o.minInsyncNotPushed
      ? ({ minInsyncReplicas: _m, ...c }: ReturnType<typeof configOf>) => c
      : (c: ReturnType<typeof configOf>) => c;
    return { topics: this.o.topics.all().map((t) => pushed(configOf(t))), partitions: this.state.partitions };
  }

  private async pullState(): Promise<boolean> {
    try {
      this.apply(await rpc<ClusterState>(this.urlOf(this.controller), '/internal/v1/state-of', {}, 1000));
      return true;
    } catch {
      return false;
    }
  }

  /** Takes a state from the controller: opens new topics, and starts leading or following what changed. */
  apply(next: ClusterState): void {
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
