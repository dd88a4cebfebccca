// The controller's part of the cluster (on the first broker by name): it keeps every partition's state (leader,
// leader epoch, in-sync replicas) in its embedded store (the book puts it in ZooKeeper: a later slice), places new
// topics' replicas, stores the ISR changes leaders send it, and elects a new leader from the ISR when a leader
// stops answering its health checks.
import { join } from 'node:path';
import type { ClusterView } from './cluster-options.ts';
import { ping, rpc } from './cluster-rpc.ts';
import { configOf, type PartitionState, partitionKey, placeReplicas } from './cluster-state.ts';
import { readJson, writeJsonDurably } from './durable-file.ts';
import type { Topic, TopicConfig } from './topic-registry.ts';

/** Missed health checks before the controller counts a broker down. */
const DOWN_AFTER = 4;

export class Controller {
  private readonly missed = new Map<string, number>();
  private readonly stateFile: string;

  constructor(private readonly c: ClusterView) {
    this.stateFile = join(c.o.dataDir, 'partition-states.json');
  }

  private get o() {
    return this.c.o;
  }

  private get state() {
    return this.c.state;
  }

  private get brokers() {
    return this.c.brokers;
  }

  /** The partition states stored before this start (none on a new cluster). */
  saved(): Record<string, PartitionState> {
    return readJson<Record<string, PartitionState>>(this.stateFile) ?? {};
  }

  /** The controller's answer to a create: the topic's partitions placed and led by their preferred leaders. */
  async createTopic(config: TopicConfig): Promise<Topic> {
    const topic = this.o.topics.create(config);
    const partitions = { ...this.state.partitions };
    for (let p = 0; p < config.partitions; p++) {
      const replicas = placeReplicas(this.brokers, p, config.replicationFactor);
      partitions[partitionKey(config.name, p)] = { replicas, leader: replicas[0]!, epoch: 0, isr: replicas };
    }
    this.commit(partitions);
    await this.pushState();
    return topic;
  }

  /** A leader's ISR change, accepted only from the partition's current leader in its current epoch. */
  changeIsr(from: string, topic: string, partition: number, epoch: number, isr: string[]): PartitionState | null {
    const key = partitionKey(topic, partition);
    const s = this.state.partitions[key];
    if (!s || s.leader !== from || s.epoch !== epoch) return null;
    this.commit({ ...this.state.partitions, [key]: { ...s, isr } });
    return this.state.partitions[key]!;
  }

  private commit(partitions: Record<string, PartitionState>): void {
    // MUTANT partition-states-not-persisted: leaders, epochs and ISRs are not written after a topic's creation.
    if (!this.o.statesNotPersisted || Object.keys(partitions).length !== Object.keys(this.state.partitions).length)
      writeJsonDurably(this.stateFile, partitions);
    this.c.apply({ topics: this.o.topics.all().map(configOf), partitions });
  }

  private async pushState(): Promise<void> {
    const body = this.c.snapshot;
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
    const partitions = { ...this.state.partitions };
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
    if (changed) {
      this.commit(partitions);
      await this.pushState();
    }
  }
}
