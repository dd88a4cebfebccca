// The leader's side of replication: it answers its followers' fetches, tracks how far each has come, shrinks and
// grows the ISR through the controller, and advances the high watermark: the offset below which every in-sync
// replica has the records. acks=all answers once the high watermark passes the batch.
import type { ClusterView } from './cluster-options.ts';
import { POLL_MS, rpc } from './cluster-rpc.ts';
import { type PartitionState, partitionKey, splitKey } from './cluster-state.ts';
import type { LogRecord } from './record.ts';

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

export class PartitionLeaders {
  private readonly leading = new Map<string, Leading>();

  constructor(private readonly c: ClusterView) {}

  private get o() {
    return this.c.o;
  }

  /** Whether this broker leads the partition in this epoch. */
  leads(key: string, epoch: number): boolean {
    return this.leading.get(key)?.epoch === epoch;
  }

  /** Stops leading the partition (another broker does now): acks=all waiters wake and find it out. */
  stop(key: string): void {
    for (const w of this.leading.get(key)?.waiters ?? []) w();
    this.leading.delete(key);
  }

  close(): void {
    for (const l of this.leading.values()) for (const w of l.waiters) w();
  }

  /** `lastHeardHw`: the high watermark this broker last heard as a follower of the partition, if it was one. */
  lead(key: string, topic: string, partition: number, s: PartitionState, lastHeardHw: number | undefined): void {
    const log = this.o.topics.get(topic)!.logs[partition]!;
    const now = Date.now();
    const followers = new Map<string, FollowerProgress>();
    // A new leader gives its followers the lag period to catch up before it counts them out of sync.
    for (const f of s.replicas.filter((b) => b !== this.o.self))
      followers.set(f, { position: 0, caughtUpAt: now, lastFetchLeaderEnd: 0, lastFetchAt: now });
    // MUTANT new-leader-hw-from-log-end: the new leader's high watermark starts at its own log end.
    const hw = this.o.hwFromLogEnd
      ? Math.max(lastHeardHw ?? 0, log.endOffset)
      : (lastHeardHw ?? (s.isr.length === 1 ? log.endOffset : 0));
    this.leading.set(key, { epoch: s.epoch, followers, highWatermark: hw, waiters: new Set(), isrChanging: false });
    this.advanceHw(key, topic, partition);
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
      // MUTANT isr-lag-from-last-fetch: any fetch counts as being caught up.
      if (q.offset >= end || this.o.caughtUpAtEveryFetch) f.caughtUpAt = now;
      else if (q.offset >= f.lastFetchLeaderEnd) f.caughtUpAt = f.lastFetchAt;
      f.position = q.offset;
      f.lastFetchLeaderEnd = end;
      f.lastFetchAt = now;
      this.advanceHw(key, q.topic, q.partition);
      // MUTANT isr-rejoin-on-fetch: a follower out of the ISR is named in sync again at its next fetch.
      if ((q.offset >= end || this.o.rejoinOnFetch) && !this.isr(key).includes(q.broker))
        void this.setIsr(key, q.topic, q.partition, 'grow');
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
    return this.c.state.partitions[key]?.isr ?? [];
  }

  /** The partition's high watermark if this broker leads it. */
  highWatermark(key: string): number | undefined {
    return this.leading.get(key)?.highWatermark;
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
  async maintainIsr(): Promise<void> {
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
    if (why === 'shrink' && this.o.isrNeverShrinks) return; // MUTANT isr-never-shrinks
    const l = this.leading.get(key);
    const s = this.c.state.partitions[key];
    if (!l || !s || l.isrChanging) return;
    const log = this.o.topics.get(topic)!.logs[partition]!;
    const now = Date.now();
    const isr = s.replicas.filter((b) => {
      if (b === this.o.self) return true;
      const f = l.followers.get(b)!;
      const inNow = s.isr.includes(b);
      if (inNow) return now - f.caughtUpAt <= this.o.replicaLagMs;
      return f.position >= log.endOffset || (!!this.o.rejoinOnFetch && now - f.lastFetchAt <= this.o.replicaLagMs);
    });
    if (isr.join() === s.isr.join()) return;
    l.isrChanging = true;
    try {
      const body = { from: this.o.self, topic, partition, epoch: l.epoch, isr };
      const stored = this.c.isController
        ? await this.c.changeIsr(this.o.self, topic, partition, l.epoch, isr)
        : await rpc<PartitionState | null>(this.c.urlOf(this.c.controller), '/internal/v1/isr', body, 2000);
      if (stored) {
        this.o.log(`${key}: ISR ${why}s to ${stored.isr.join(', ')}`);
        if (!this.c.isController)
          this.c.state = { ...this.c.state, partitions: { ...this.c.state.partitions, [key]: stored } };
      }
    } catch (e) {
      // Not applied: an ISR the controller has not stored would let acks=all count a leader cut off from the rest.
      this.o.log(`${key}: ISR change not stored: ${(e as Error).message}`);
      // MUTANT isr-shrink-unstored-applied: the shrink counts here anyway (the leader alone may be the whole ISR).
      if (this.o.isrShrinkUnstoredApplied && why === 'shrink')
        this.c.state = { ...this.c.state, partitions: { ...this.c.state.partitions, [key]: { ...s, isr } } };
    } finally {
      l.isrChanging = false;
    }
    this.advanceHw(key, topic, partition);
  }
}
