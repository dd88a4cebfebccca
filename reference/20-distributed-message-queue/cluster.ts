// Several brokers in one cluster (the book's replication). Each partition has replicas on `replicationFactor`
// brokers, placed statically (replica i of partition p on broker (p + i) mod n, brokers sorted by name); the
// first is the preferred leader. The controller (the first broker by name) keeps every partition's state (leader,
// leader epoch, in-sync replicas) in its embedded store (the book puts it in ZooKeeper: a later slice), elects a
// new leader from the ISR when a leader stops answering, and every broker pulls the state from it.
// Followers pull records from their leader (the book's pull model); the leader tracks how far each has come,
// shrinks and grows the ISR through the controller, and advances the high watermark: the offset below which every
// in-sync replica has the records. acks=all answers once the high watermark passes the batch.
import { join } from 'node:path';
import { readJson, writeJsonDurably } from './durable-file.ts';
import type { LogRecord } from './record.ts';
import type { Topic, TopicConfig, TopicRegistry } from './topic-registry.ts';

export interface PartitionState {
  replicas: string[];
  leader: string;
  /** Grows at every leader change: a fetch or an ISR change of an older epoch is refused. */
  epoch: number;
  isr: string[];
}

export interface ClusterState {
  topics: TopicConfig[];
  partitions: Record<string, PartitionState>;
}

export interface ClusterOptions {
  self: string;
  selfUrl: string;
  /** Every other broker: name -> URL. */
  peers: Map<string, string>;
  topics: TopicRegistry;
  dataDir: string;
  /** How long a follower may be behind the leader's end before it leaves the ISR. */
  replicaLagMs: number;
  /** How long acks=all waits for the in-sync replicas before it gives up. */
  ackTimeoutMs: number;
  /** MUTANT unclean-leader-election: any live replica may become leader, in sync or not. */
  uncleanElection?: boolean;
  /** MUTANT acks-all-waits-for-min-insync: acks=all answers once minInsync copies have the batch, not the whole ISR. */
  ackOnMinInsyncCopies?: boolean;
  /** MUTANT state-pulled-only-at-start: brokers pull the partition states once, then rely on the controller's pushes. */
  pullStateOnlyAtStart?: boolean;
  /** MUTANT follower-keeps-unacked-tail: a broker that becomes a follower keeps its log past the last high watermark. */
  keepTailOnFollow?: boolean;
  /** MUTANT hw-regresses-after-failover: the high watermark is set to the ISR's least position even when lower. */
  hwRegresses?: boolean;
  /** MUTANT partition-states-not-persisted: partition states are written only when a topic is created. */
  statesNotPersisted?: boolean;
  /** MUTANT position-counted-at-send: a follower counts as having the records the leader sends it. */
  positionAtSend?: boolean;
  log: (message: string) => void;
}

export const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

/** The static placement: replica i of partition p on broker (p + i) mod n; the first is the preferred leader. */
export function placeReplicas(brokers: readonly string[], partition: number, replicationFactor: number): string[] {
  return Array.from({ length: replicationFactor }, (_, i) => brokers[(partition + i) % brokers.length]!);
}

interface FollowerProgress {
  /** The follower has every record below this offset (the offset of its last fetch). */
  position: number;
  caughtUpAt: number;
  /** The leader's end offset when this follower last fetched, and when. */
  lastFetchLeaderEnd: number;
  lastFetchAt: number;
}

/** What the leader of one partition keeps about its followers. */
interface Leading {
  epoch: number;
  followers: Map<string, FollowerProgress>;
  highWatermark: number;
  waiters: Set<() => void>;
  isrChanging: boolean;
}

export class NotEnoughReplicas extends Error {}

const POLL_MS = 200;
const HEALTH_MS = 250;
/** Missed health checks before the controller counts a broker down. */
const DOWN_AFTER = 4;

export class Cluster {
  readonly brokers: string[];
  readonly controller: string;
  private state: ClusterState = { topics: [], partitions: {} };
  private readonly leading = new Map<string, Leading>();
  /** Partitions this broker follows: key -> the epoch its fetch loop runs for. */
  private readonly following = new Map<string, number>();
  /** The high watermark each follower last heard from its leader (where it truncates to on a leader change). */
  private readonly followerHw = new Map<string, number>();
  private readonly missed = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly stateFile: string;

  constructor(private readonly o: ClusterOptions) {
    this.brokers = [o.self, ...o.peers.keys()].sort();
    this.controller = this.brokers[0]!;
    this.stateFile = join(o.dataDir, 'partition-states.json');
    if (this.isController) {
      const saved = readJson<Record<string, PartitionState>>(this.stateFile) ?? {};
      this.apply({ topics: o.topics.all().map(configOf), partitions: saved });
    }
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
    if (this.isController) this.every(HEALTH_MS, () => this.checkBrokers());
    this.every(POLL_MS, () => this.maintainIsr());
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const l of this.leading.values()) for (const w of l.waiters) w();
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

  // ---- the controller -------------------------------------------------------------------------------------------

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

  get snapshot(): ClusterState {
    return { topics: this.o.topics.all().map(configOf), partitions: this.state.partitions };
  }

  private commit(partitions: Record<string, PartitionState>): void {
    // MUTANT partition-states-not-persisted: leaders, epochs and ISRs are not written after a topic's creation.
    if (!this.o.statesNotPersisted || Object.keys(partitions).length !== Object.keys(this.state.partitions).length)
      writeJsonDurably(this.stateFile, partitions);
    this.apply({ topics: this.o.topics.all().map(configOf), partitions });
  }

  private async pushState(): Promise<void> {
    const body = this.snapshot;
    await Promise.all(
      this.brokers
        .filter((b) => b !== this.o.self)
        .map((b) => rpc(this.urlOf(b), '/internal/v1/state', body, 1000).catch(() => undefined)),
    );
  }

  /** Health checks every broker; a leader down for DOWN_AFTER checks in a row is replaced from its ISR. */
  private async checkBrokers(): Promise<void> {
    const others = this.brokers.filter((b) => b !== this.o.self);
    const up = await Promise.all(others.map((b) => ping(this.urlOf(b))));
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
      partitions[key] = { ...s, leader: next, epoch: s.epoch + 1, isr: s.isr.filter((b) => !down.has(b)) };
      if (!partitions[key].isr.includes(next)) partitions[key].isr.push(next);
      this.o.log(`controller: ${key} led by ${next} (epoch ${s.epoch + 1}); ${s.leader} is down`);
      changed = true;
    }
    if (changed) {
      this.commit(partitions);
      await this.pushState();
    }
  }

  // ---- every broker ---------------------------------------------------------------------------------------------

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
        this.following.delete(key);
        const l = this.leading.get(key);
        if (!l || l.epoch !== s.epoch) this.lead(key, topic, p, s);
      } else {
        for (const w of this.leading.get(key)?.waiters ?? []) w();
        this.leading.delete(key);
        if (this.following.get(key) !== s.epoch) {
          this.following.set(key, s.epoch);
          void this.follow(key, topic, p, s.epoch, s.leader);
        }
      }
    }
  }

  private lead(key: string, topic: string, partition: number, s: PartitionState): void {
    const log = this.o.topics.get(topic)!.logs[partition]!;
    const now = Date.now();
    const followers = new Map<string, FollowerProgress>();
    // A new leader gives its followers the lag period to catch up before it counts them out of sync.
    for (const f of s.replicas.filter((b) => b !== this.o.self))
      followers.set(f, { position: 0, caughtUpAt: now, lastFetchLeaderEnd: 0, lastFetchAt: now });
    const hw = this.followerHw.get(key) ?? (s.isr.length === 1 ? log.endOffset : 0);
    this.leading.set(key, { epoch: s.epoch, followers, highWatermark: hw, waiters: new Set(), isrChanging: false });
    this.advanceHw(key, topic, partition);
  }

  /** The follower's loop: fetch from the leader, append, repeat, until the epoch changes. */
  private async follow(key: string, topic: string, partition: number, epoch: number, leader: string): Promise<void> {
    const log = this.o.topics.get(topic)!.logs[partition]!;
    // What this replica has past the last high watermark it heard of may not be on the new leader: it goes.
    if (!this.o.keepTailOnFollow) log.truncateTo(this.followerHw.get(key) ?? 0); // MUTANT follower-keeps-unacked-tail
    while (!this.closed && this.following.get(key) === epoch) {
      try {
        const r = await rpc<{ records: LogRecord[]; highWatermark: number; leaderEnd: number }>(
          this.urlOf(leader),
          '/internal/v1/replicate',
          { topic, partition, epoch, broker: this.o.self, offset: log.endOffset, maxWaitMs: 500 },
          5000,
        );
        if (this.following.get(key) !== epoch) return;
        if (log.endOffset > r.leaderEnd) log.truncateTo(r.leaderEnd);
        else log.appendReplicated(r.records);
        this.followerHw.set(key, Math.min(r.highWatermark, log.endOffset));
      } catch {
        await sleep(POLL_MS);
      }
    }
  }

  /** The leader's side of a follower's fetch: records from its offset on (long-polled), and the high watermark. */
  async replicate(q: {
    topic: string;
    partition: number;
    epoch: number;
    broker: string;
    offset: number;
    maxWaitMs: number;
  }): Promise<{ records: LogRecord[]; highWatermark: number; leaderEnd: number } | null> {
    const key = partitionKey(q.topic, q.partition);
    const l = this.leading.get(key);
    const f = l?.followers.get(q.broker);
    if (!l || !f || l.epoch !== q.epoch) return null;
    const log = this.o.topics.get(q.topic)!.logs[q.partition]!;
    const now = Date.now();
    const end = log.endOffset;
    if (q.offset <= end) {
      // Caught up: it has the leader's whole log, or everything the leader had at its previous fetch.
      if (q.offset >= end) f.caughtUpAt = now;
      else if (q.offset >= f.lastFetchLeaderEnd) f.caughtUpAt = f.lastFetchAt;
      f.position = q.offset;
      f.lastFetchLeaderEnd = end;
      f.lastFetchAt = now;
      this.advanceHw(key, q.topic, q.partition);
      if (q.offset >= end && !this.isr(key).includes(q.broker)) void this.setIsr(key, q.topic, q.partition, 'grow');
    }
    if (q.offset === log.endOffset) await log.waitForAppend(q.maxWaitMs);
    const records = q.offset < log.endOffset ? log.read(q.offset, 1024 * 1024) : [];
    // MUTANT position-counted-at-send: the follower counts as having what it is sent, before it has appended it.
    if (this.o.positionAtSend && records.length) {
      f.position = q.offset + records.length;
      this.advanceHw(key, q.topic, q.partition);
    }
    return { records, highWatermark: l.highWatermark, leaderEnd: log.endOffset };
  }

  private isr(key: string): string[] {
    return this.state.partitions[key]?.isr ?? [];
  }

  /**
   * Offsets below the high watermark are on every in-sync replica: what consumers may read and acks=all waits for.
   * A follower answers the last one its leader told it (it may lag the leader's; never above it): its own log can
   * hold records past the leader's high watermark, which are not committed yet and may be truncated away.
   */
  highWatermark(topic: string, partition: number, endOffset: number): number {
    const key = partitionKey(topic, partition);
    const l = this.leading.get(key);
    if (l) return Math.min(l.highWatermark, endOffset);
    return Math.min(this.followerHw.get(key) ?? 0, endOffset);
  }

  private advanceHw(key: string, topic: string, partition: number): void {
    const l = this.leading.get(key);
    if (!l) return;
    const log = this.o.topics.get(topic)!.logs[partition]!;
    let hw = log.endOffset;
    for (const b of this.isr(key)) if (b !== this.o.self) hw = Math.min(hw, l.followers.get(b)?.position ?? 0);
    // MUTANT hw-regresses-after-failover: the high watermark follows the ISR's least position down as well as up.
    if (this.o.hwRegresses && hw < l.highWatermark) l.highWatermark = hw;
    if (hw > l.highWatermark) {
      l.highWatermark = hw;
      for (const w of l.waiters) w();
    }
  }

  /**
   * acks=all: refuses before appending when fewer than minInsync replicas are in sync; after appending, resolves once
   * every in-sync replica has everything below `until`, and throws NotEnoughReplicas if the ISR falls below
   * minInsync, leadership is lost or the wait times out first.
   */
  checkInSync(topic: string, partition: number, minInsync: number): void {
    const isr = this.isr(partitionKey(topic, partition));
    if (isr.length < minInsync)
      throw new NotEnoughReplicas(`${isr.length} replicas in sync (${isr.join(', ')}); at least ${minInsync} needed`);
  }

  async awaitReplicated(topic: string, partition: number, until: number, minInsync: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const deadline = Date.now() + this.o.ackTimeoutMs;
    for (;;) {
      const l = this.leading.get(key);
      if (!l)
        throw new NotEnoughReplicas('this broker stopped leading the partition before the replicas had the batch');
      this.advanceHw(key, topic, partition);
      // The high watermark passes the batch also when the ISR shrank to fewer than minInsync: then it is on too
      // few replicas to acknowledge (Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND).
      this.checkInSync(topic, partition, minInsync);
      if (l.highWatermark >= until) return;
      // MUTANT acks-all-waits-for-min-insync: a quorum of minInsync copies (the leader's included) is enough.
      if (
        this.o.ackOnMinInsyncCopies &&
        1 + [...l.followers.values()].filter((f) => f.position >= until).length >= minInsync
      )
        return;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new NotEnoughReplicas(`the in-sync replicas did not have the batch within ${this.o.ackTimeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          l.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, Math.min(left, POLL_MS));
        l.waiters.add(done);
      });
    }
  }

  /** Leaders drop followers that stayed behind longer than the lag period, and wake acks=all waiters. */
  private async maintainIsr(): Promise<void> {
    for (const [key, l] of this.leading) {
      const [topic, p] = splitKey(key);
      const now = Date.now();
      const lagging = [...l.followers].filter(
        ([b, f]) => this.isr(key).includes(b) && now - f.caughtUpAt > this.o.replicaLagMs,
      );
      if (lagging.length) await this.setIsr(key, topic, p, 'shrink');
      this.advanceHw(key, topic, p);
      for (const w of l.waiters) w();
    }
  }

  /** Recomputes the ISR (followers caught up within the lag period, and the leader) and has the controller store it. */
  private async setIsr(key: string, topic: string, partition: number, why: string): Promise<void> {
    const l = this.leading.get(key);
    const s = this.state.partitions[key];
    if (!l || !s || l.isrChanging) return;
    const log = this.o.topics.get(topic)!.logs[partition]!;
    const now = Date.now();
    const isr = s.replicas.filter((b) => {
      if (b === this.o.self) return true;
      const f = l.followers.get(b)!;
      const inNow = s.isr.includes(b);
      return inNow ? now - f.caughtUpAt <= this.o.replicaLagMs : f.position >= log.endOffset;
    });
    if (isr.join() === s.isr.join()) return;
    l.isrChanging = true;
    try {
      const body = { from: this.o.self, topic, partition, epoch: l.epoch, isr };
      const stored = this.isController
        ? this.changeIsr(this.o.self, topic, partition, l.epoch, isr)
        : await rpc<PartitionState | null>(this.urlOf(this.controller), '/internal/v1/isr', body, 2000);
      if (stored) {
        this.o.log(`${key}: ISR ${why}s to ${stored.isr.join(', ')}`);
        if (!this.isController) this.state = { ...this.state, partitions: { ...this.state.partitions, [key]: stored } };
      }
    } catch (e) {
      this.o.log(`${key}: ISR change not stored: ${(e as Error).message}`);
    } finally {
      l.isrChanging = false;
    }
    this.advanceHw(key, topic, partition);
  }
}

function configOf({ logs: _l, nextUnkeyed: _n, ...c }: Topic): TopicConfig {
  return c;
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf('/');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function rpc<T>(base: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return (await res.json()) as T;
}

async function ping(base: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(HEALTH_MS * 2) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
