// One queue interface for the chapters that put a queue in the middle of their design (11 notifications, 21 metrics,
// 22 ad-click aggregation): produce keyed messages, consume them in a consumer group with at-least-once delivery.
// Two implementations: any server of this chapter's spec over HTTP (http-queue-client.ts) and NATS JetStream
// (nats-queue-client.ts). A chapter written against this interface runs on either.
import { crc32 } from 'node:zlib';

export type Acks = '0' | '1' | 'all';

export interface OutgoingMessage {
  /** Messages with one key go to one partition, so a group sees them in the order they were produced. */
  key?: string | null;
  value: string;
  /** What a subscription can filter by (the spec's tags: up to 8, each 1-32 of A-Z a-z 0-9 . _ -); HTTP only. */
  tags?: readonly string[];
  /**
   * Deliver later (the spec's delayMs: 1 ms to seven days): the queue keeps it and hands it over no sooner, then at
   * its own offset after what came before it. HTTP only: the NATS client refuses it.
   */
  delayMs?: number;
}

export interface QueueMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  /** When the queue stored it (ms since the epoch). */
  timestamp: number;
  /** The tags it was produced with (absent: none). */
  tags?: readonly string[];
  /** 1 the first time this subscription hands it over, more when a handler failed or a consumer died before commit. */
  deliveries: number;
}

/**
 * Called once per message, in partition order. Resolving marks the message consumed; throwing (or rejecting) leaves
 * it unconsumed: the subscription hands it over again after `retryDelayMs` and hands over nothing later from its
 * partition meanwhile. The handler must be idempotent: at-least-once means a message can arrive twice (a consumer
 * that dies after the handler and before the commit, a rebalance).
 */
export type MessageHandler = (message: QueueMessage) => Promise<void> | void;

export interface SubscribeOptions {
  /** How long the queue may keep a silent member before its partitions go to others (spec: 1,000-300,000 ms). */
  sessionTimeoutMs?: number;
  /** Wait before a failed message is handed over again. */
  retryDelayMs?: number;
  /** Long-poll wait of one fetch when the partition has nothing new. */
  maxWaitMs?: number;
  /** Where a group with nothing committed starts: `earliest` (the log start; default) or `latest` (only new messages). */
  startAt?: 'earliest' | 'latest';
  /**
   * Hand over only the messages carrying at least one of these tags: the queue filters them out before they cross
   * the network (the spec's fetch `tags`). HTTP only: the NATS client refuses it.
   */
  tags?: readonly string[];
  /** Errors the subscription recovers from (a broker restarting, a rebalance); default: ignored. */
  onError?: (error: Error) => void;
}

export interface Subscription {
  readonly topic: string;
  readonly group: string;
  /** Partitions this member consumes now (changes with rebalances; all of them on JetStream, see its module). */
  partitions(): readonly number[];
  /** Stops handing over messages, waits for the handler in progress, commits what was consumed and leaves the group. */
  close(): Promise<void>;
}

export interface QueueClient {
  /** `http` (this chapter's spec) or `nats` (JetStream). */
  readonly kind: string;
  /** Creates the topic with this many partitions; a topic of that name that exists is kept as it is. */
  createTopic(topic: string, o: { partitions: number; retentionMs?: number }): Promise<void>;
  /** Appends the messages and resolves once the queue acknowledged them at `acks` (default `all`). */
  produce(topic: string, messages: readonly OutgoingMessage[], o?: { acks?: Acks }): Promise<void>;
  /** Joins `group` on `topic` and hands its messages to `handler` until the subscription is closed. */
  subscribe(topic: string, group: string, handler: MessageHandler, o?: SubscribeOptions): Promise<Subscription>;
  /** Closes every subscription, then the connections. */
  close(): Promise<void>;
}

/** The spec's key -> partition (CRC-32 of the key's UTF-8 bytes, mod the partition count), on both implementations. */
export function partitionOf(key: string, partitions: number): number {
  return crc32(Buffer.from(key, 'utf8')) % partitions;
}

/** The partition for each message: its key's, else the next of a round robin (keyless messages have no order). */
export function assignPartitions(
  messages: readonly OutgoingMessage[],
  partitions: number,
  next: () => number,
): Map<number, OutgoingMessage[]> {
  const out = new Map<number, OutgoingMessage[]>();
  for (const m of messages) {
    const p = m.key == null ? next() % partitions : partitionOf(m.key, partitions);
    const list = out.get(p) ?? [];
    list.push(m);
    out.set(p, list);
  }
  return out;
}
