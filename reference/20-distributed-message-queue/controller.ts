// The controller's part of the cluster (on the broker holding etcd's controller lease, cluster.ts): it places new
// topics' replicas, stores the ISR changes leaders send it, and elects a new leader from the ISR when a leader stops
// answering its health checks. Every change is written to etcd (coordination.ts) with a compare-and-swap before it
// counts: one at a time, each based on the revision the last one made, so a deposed controller's write fails.
import { ProblemError } from '../kit/problem.ts';
import type { ClusterView } from './cluster-options.ts';
import { ping, rpc } from './cluster-rpc.ts';
import { type PartitionState, partitionKey, placeReplicas } from './cluster-state.ts';
import type { Topic, TopicConfig } from './topic-registry.ts';

/** Missed health checks before the controller counts a broker down. */
const DOWN_AFTER = 4;

type Partitions = Record<string, PartitionState>;

export class Controller {
  private readonly missed = new Map<string, number>();
  /** The last write's promise: writes go one at a time, each based on the state the one before left. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly c: ClusterView) {}

  private get o() {
    return this.c.o;
  }

  private get state() {
    return this.c.state;
  }

  private get brokers() {
    return this.c.brokers;
  }

  /** This broker has just become the controller: every broker gets a fresh count of missed health checks. */
  elected(): void {
    this.missed.clear();
  }

  /** The controller's answer to a create: the topic's partitions placed and led by their preferred leaders. */
  async createTopic(config: TopicConfig): Promise<Topic> {
    const topic = this.o.topics.create(config);
    const stored = await this.update((current) => {
      const partitions = { ...current };
      for (let p = 0; p < config.partitions; p++) {
        const replicas = placeReplicas(this.brokers, p, config.replicationFactor);
        partitions[partitionKey(config.name, p)] = { replicas, leader: replicas[0]!, epoch: 0, isr: replicas };
      }
      return partitions;
    }, true);
    if (!stored)
      throw new ProblemError(
        503,
        'coordination_unavailable',
        `${this.o.self} is no longer the controller (etcd refused its write): ${config.name} was not stored; retry`,
      );
    await this.pushState();
    return topic;
  }

  /** A leader's ISR change, accepted only from the partition's current leader in its current epoch. */
  async changeIsr(
    from: string,
    topic: string,
    partition: number,
    epoch: number,
    isr: string[],
  ): Promise<PartitionState | null> {
    const key = partitionKey(topic, partition);
    const stored = await this.update((current) => {
      const s = current[key];
      return s && s.leader === from && s.epoch === epoch ? { ...current, [key]: { ...s, isr } } : null;
    });
    return stored ? this.state.partitions[key]! : null;
  }

  /**
   * Writes `change(current states)` to etcd and applies it; false when there was nothing to change or etcd refused
   * the write (this broker no longer holds the lease, or the state moved: it is read again).
   */
  private update(change: (current: Partitions) => Partitions | null, creating = false): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      if (!this.c.isController) return false;
      const partitions = change(this.state.partitions);
      if (!partitions) return false;
      const next = { topics: this.c.snapshot.topics, partitions };
      // MUTANT partition-states-not-persisted: leaders, epochs and ISRs are not written after a topic's creation.
      if (this.o.statesNotPersisted && !creating) {
        this.c.apply(next, this.c.revision);
        return true;
      }
      const revision = await this.c.coordination.write(next, this.c.revision);
      if (revision === null) {
        const { stored } = await this.c.coordination.read();
        this.c.apply(stored.state, stored.revision);
        this.o.log(`controller: etcd refused a write based on an older state (now at revision ${stored.revision})`);
        return false;
      }
      this.c.apply(next, revision);
      return true;
    };
    const done = this.writing.then(run);
    this.writing = done.catch(() => undefined);
    return done;
  }

  /** Sends the new state to every broker at once (they also watch etcd; this only saves them the wait). */
  private async pushState(): Promise<void> {
    const body = { ...this.c.snapshot, revision: this.c.revision };
    await Promise.all(
      this.brokers
        .filter((b) => b !== this.o.self)
        .map((b) => rpc(this.c.urlOf(b), '/internal/v1/state', body, 1000).catch(() => undefined)),
    );
  }

  /** Health checks every broker; a leader down for DOWN_AFTER checks in a row is replaced from its ISR. */
  async checkBrokers(): Promise<void> {
    const others = this.brokers.filter((b) => b !== this.o.self);
    const up = await Promise.all(others.map((b) => ping(this.c.urlOf(b))));
    const down = new Set<string>();
    others.forEach((b, i) => {
      const n = up[i] ? 0 : (this.missed.get(b) ?? 0) + 1;
      this.missed.set(b, n);
      if (n >= DOWN_AFTER) down.add(b);
    });
    if (down.size === 0) return;
    const stored = await this.update((current) => this.elect(current, down));
    if (stored) await this.pushState();
  }

  /** The partitions led by a broker that is down, each led by the first live broker of its ISR (null: none moved). */
  private elect(current: Partitions, down: ReadonlySet<string>): Partitions | null {
    const partitions = { ...current };
    let changed = false;
    for (const [key, s] of Object.entries(partitions)) {
      if (!down.has(s.leader)) continue;
      // MUTANT unclean-leader-election: the first live replica leads, whether it has every acknowledged record or not.
      const candidates = this.o.uncleanElection ? s.replicas : s.isr;
      const next = candidates.find((b) => b !== s.leader && !down.has(b));
      if (!next) continue; // no in-sync replica is up: the partition stays offline rather than lose records
      // MUTANT failover-isr-all-live: the new epoch's ISR is every live replica, in sync or not.
      const kept = (this.o.isrAllLiveAtFailover ? s.replicas : s.isr).filter((b) => !down.has(b));
      partitions[key] = { ...s, leader: next, epoch: s.epoch + 1, isr: kept };
      if (!partitions[key].isr.includes(next)) partitions[key].isr.push(next);
      this.o.log(`controller: ${key} led by ${next} (epoch ${s.epoch + 1}); ${s.leader} is down`);
      changed = true;
    }
    return changed ? partitions : null;
  }
}
