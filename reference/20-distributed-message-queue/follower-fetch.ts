// The follower's side of replication (the book's pull model): for each partition this broker follows, a loop
// fetches from the leader and appends what it gets, keeping the leader's offsets, until the leader epoch changes.
import type { ClusterView } from './cluster-options.ts';
import { POLL_MS, rpc, sleep } from './cluster-rpc.ts';
import type { LogRecord } from './record.ts';

export class FollowerFetch {
  /** Partitions this broker follows: key -> the epoch its fetch loop runs for. */
  private readonly following = new Map<string, number>();
  /** The high watermark each follower last heard from its leader (where it truncates to on a leader change). */
  private readonly followerHw = new Map<string, number>();

  constructor(private readonly c: ClusterView) {}

  private get o() {
    return this.c.o;
  }

  /** The high watermark this broker last heard from the partition's leader, if it ever followed it. */
  lastHighWatermark(key: string): number | undefined {
    return this.followerHw.get(key);
  }

  /** Follows the partition in this epoch (a loop already running for it goes on); stop() ends it. */
  start(key: string, topic: string, partition: number, epoch: number, leader: string): void {
    if (this.following.get(key) === epoch) return;
    this.following.set(key, epoch);
    void this.follow(key, topic, partition, epoch, leader);
  }

  stop(key: string): void {
    this.following.delete(key);
  }

  /** The follower's loop: fetch from the leader, append, repeat, until the epoch changes. */
  private async follow(key: string, topic: string, partition: number, epoch: number, leader: string): Promise<void> {
    const log = this.o.topics.get(topic)!.logs[partition]!;
    // What this replica has past the last high watermark it heard of may not be on the new leader: it goes.
    if (!this.o.keepTailOnFollow) log.truncateTo(this.followerHw.get(key) ?? 0); // MUTANT follower-keeps-unacked-tail
    while (!this.c.closed && this.following.get(key) === epoch) {
      try {
        const r = await rpc<{ records: LogRecord[]; highWatermark: number; leaderEnd: number }>(
          this.c.urlOf(leader),
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
}
