// The queue interface over HTTP, for any server of this chapter's spec (the reference's single broker or cluster).
// Producing: the client picks each message's partition (the spec's CRC-32 of the key) and sends one request per
// partition, so a cluster's `several_leaders` never happens and each request goes (by 307) to its partition's leader.
// Consuming: one group member per subscription (join, heartbeats, leave), one fetch loop per owned partition
// (long polling), offsets committed after the handler resolved (at-least-once).
import type { components } from '../../../specs/20-distributed-message-queue/generated/openapi.d.ts';
import { call, pause, QueueError } from './http-call.ts';
import { type PartitionLoop, startPartitionLoop } from './http-partition-loop.ts';
import {
  type Acks,
  assignPartitions,
  type MessageHandler,
  type OutgoingMessage,
  type QueueClient,
  type SubscribeOptions,
  type Subscription,
} from './queue-client.ts';

type Topic = components['schemas']['Topic'];
type Membership = components['schemas']['Membership'];

/** The spec's batch limits: 1,000 messages, and a body well under the reference's 4 MiB. */
const MAX_BATCH = 1000;
const MAX_BATCH_BYTES = 2 * 1024 * 1024;

export class HttpQueueClient implements QueueClient {
  readonly kind = 'http';
  private readonly partitionCounts = new Map<string, number>();
  private readonly subscriptions = new Set<HttpSubscription>();
  private roundRobin = 0;

  /** `baseUrl`: any broker of the cluster (307s lead to the right one). */
  constructor(readonly baseUrl: string) {}

  async createTopic(topic: string, o: { partitions: number; retentionMs?: number }): Promise<void> {
    const body = { name: topic, partitions: o.partitions, ...(o.retentionMs ? { retentionMs: o.retentionMs } : {}) };
    const r = await call<Topic>(this.baseUrl, 'POST', '/api/v1/topics', body, [201, 409]);
    if (r.status === 201) this.partitionCounts.set(topic, r.body.partitions);
  }

  async describe(topic: string): Promise<Topic> {
    const r = await call<Topic>(this.baseUrl, 'GET', `/api/v1/topics/${encodeURIComponent(topic)}`, undefined, [200]);
    this.partitionCounts.set(topic, r.body.partitions);
    return r.body;
  }

  async produce(topic: string, messages: readonly OutgoingMessage[], o: { acks?: Acks } = {}): Promise<void> {
    if (messages.length === 0) return;
    const partitions = this.partitionCounts.get(topic) ?? (await this.describe(topic)).partitions;
    const byPartition = assignPartitions(messages, partitions, () => this.roundRobin++);
    const path = `/api/v1/topics/${encodeURIComponent(topic)}/messages`;
    // Partitions in parallel; one partition's batches one after another, so its order is the order given.
    await Promise.all(
      [...byPartition].map(async ([partition, list]) => {
        for (const batch of batches(list)) {
          const body = {
            acks: o.acks ?? 'all',
            messages: batch.map((m) => ({
              partition,
              value: m.value,
              ...(m.key == null ? {} : { key: m.key }),
              ...(m.tags?.length ? { tags: [...m.tags] } : {}),
              ...(m.delayMs ? { delayMs: m.delayMs } : {}),
            })),
          };
          await call(this.baseUrl, 'POST', path, body, [200, 202]);
        }
      }),
    );
  }

  async subscribe(
    topic: string,
    group: string,
    handler: MessageHandler,
    o: SubscribeOptions = {},
  ): Promise<Subscription> {
    const s = new HttpSubscription(this.baseUrl, topic, group, handler, o, () => this.subscriptions.delete(s));
    await s.start();
    this.subscriptions.add(s);
    return s;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }
}

function* batches(list: readonly OutgoingMessage[]): Generator<OutgoingMessage[]> {
  let batch: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of list) {
    const size = Buffer.byteLength(m.value) + Buffer.byteLength(m.key ?? '') + 64 + 34 * (m.tags?.length ?? 0);
    if (batch.length > 0 && (batch.length >= MAX_BATCH || bytes + size > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(m);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/** One member of a group: its heartbeats, and a fetch loop per partition it owns in the current generation. */
class HttpSubscription implements Subscription {
  private member: Membership | undefined;
  private loops: PartitionLoop[] = [];
  private closed = false;
  private readonly stop = new AbortController();
  private heartbeats: Promise<void> = Promise.resolve();
  private readonly sessionTimeoutMs: number;
  private readonly groupPath: string;

  constructor(
    private readonly baseUrl: string,
    readonly topic: string,
    readonly group: string,
    private readonly handler: MessageHandler,
    private readonly o: SubscribeOptions,
    private readonly forget: () => void,
  ) {
    this.sessionTimeoutMs = o.sessionTimeoutMs ?? 10_000;
    this.groupPath = `/api/v1/groups/${encodeURIComponent(group)}`;
  }

  partitions(): readonly number[] {
    return this.member?.partitions ?? [];
  }

  async start(): Promise<void> {
    await this.apply(await this.join());
    this.heartbeats = this.beat();
  }

  private async join(): Promise<Membership> {
    const body = { topic: this.topic, sessionTimeoutMs: this.sessionTimeoutMs };
    return (await call<Membership>(this.baseUrl, 'POST', `${this.groupPath}/members`, body, [200])).body;
  }

  /** A heartbeat a third of the session apart; a new generation restarts the loops on the partitions it gives. */
  private async beat(): Promise<void> {
    while (!this.closed) {
      await pause(this.sessionTimeoutMs / 3, this.stop.signal);
      if (this.closed) return;
      try {
        const path = `${this.groupPath}/members/${this.member!.memberId}/heartbeat`;
        const r = await call<Membership>(this.baseUrl, 'POST', path, {}, [200, 404], { signal: this.stop.signal });
        // 404: the coordinator dropped this member (a session it did not hear from); join again as a new one.
        await this.apply(r.status === 404 ? await this.join() : r.body);
      } catch (e) {
        if (!this.closed) this.o.onError?.(e as Error);
      }
    }
  }

  /**
   * Every loop of the old generation stops (and commits what it consumed) before the new ones read the committed
   * offsets, so a partition that changes hands is never consumed by two loops of this member at once.
   */
  private async apply(m: Membership): Promise<void> {
    const old = this.member;
    this.member = m;
    if (old && old.generation === m.generation && old.memberId === m.memberId) return;
    await Promise.all(this.loops.map((l) => l.stop()));
    if (this.closed) return;
    const from = await this.startOffsets(m.partitions);
    this.loops = m.partitions.map((partition) =>
      startPartitionLoop({
        baseUrl: this.baseUrl,
        topic: this.topic,
        group: this.group,
        partition,
        member: m,
        from: from.get(partition)!,
        handler: this.handler,
        options: this.o,
      }),
    );
  }

  /**
   * The group's committed offsets; where none is committed, the log start or (`startAt: 'latest'`) the end offset,
   * read before subscribe() returns, so a message produced after it is never skipped.
   */
  private async startOffsets(partitions: readonly number[]): Promise<Map<number, number>> {
    const committed = await call<components['schemas']['CommittedOffsets']>(
      this.baseUrl,
      'GET',
      `${this.groupPath}/offsets`,
      undefined,
      [200],
    );
    const out = new Map<number, number>();
    for (const x of committed.body.offsets) if (x.offset !== null) out.set(x.partition, x.offset);
    if (partitions.some((p) => !out.has(p))) {
      const topic = await call<Topic>(
        this.baseUrl,
        'GET',
        `/api/v1/topics/${encodeURIComponent(this.topic)}`,
        undefined,
        [200],
      );
      for (const s of topic.body.partitionStates)
        if (!out.has(s.partition)) out.set(s.partition, this.o.startAt === 'latest' ? s.endOffset : s.logStartOffset);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    await this.heartbeats;
    await Promise.all(this.loops.map((l) => l.stop()));
    this.forget();
    if (this.member) {
      const path = `${this.groupPath}/members/${this.member.memberId}`;
      await call(this.baseUrl, 'DELETE', path, undefined, [204, 404], { retryForMs: 5_000 }).catch((e: unknown) => {
        if (!(e instanceof QueueError)) throw e;
      });
    }
  }
}
