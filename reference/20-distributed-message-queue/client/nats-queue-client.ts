// The queue interface on NATS JetStream (nats-server with -js; client @nats-io/jetstream). A topic is a stream whose
// subjects are `<topic>.<partition>` (the partition from the key, as on the HTTP side); a group is a durable pull
// consumer of the stream, acknowledged per message after the handler resolved (at-least-once), and redelivered after
// `sessionTimeoutMs` when a consumer died holding it.
//
// Where JetStream differs from this chapter's spec (said here so a chapter using the interface knows):
// - `offset` is the stream's sequence, one numbering across all of a topic's partitions (the spec counts per partition).
// - Several subscribers of one group share its messages one at a time, not partition by partition (JetStream 2.9 has
//   no partition ownership in a group), so the order of one key's messages holds with one subscriber per group; two
//   subscribers of a group may handle one key's messages concurrently. `partitions()` is therefore every partition.
// - `acks` '0' publishes without waiting for the stream's acknowledgement; '1' and 'all' wait for it (a stream of one
//   replica here; JetStream has no acks levels).
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import {
  type Acks,
  assignPartitions,
  type MessageHandler,
  type OutgoingMessage,
  type QueueClient,
  type SubscribeOptions,
  type Subscription,
} from './queue-client.ts';

const KEY_HEADER = 'Queue-Key';
const PARTITIONS_PREFIX = 'partitions=';

export class NatsQueueClient implements QueueClient {
  readonly kind = 'nats';
  private readonly partitionCounts = new Map<string, number>();
  private readonly subscriptions = new Set<Subscription>();
  private roundRobin = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
  ) {}

  /** `servers`: nats-server's address (host:port), with JetStream enabled. */
  static async connect(servers: string): Promise<NatsQueueClient> {
    const nc = await connect({ servers });
    return new NatsQueueClient(nc, await jetstreamManager(nc), jetstream(nc));
  }

  async createTopic(topic: string, o: { partitions: number; retentionMs?: number }): Promise<void> {
    if ((await this.partitions(topic).catch(() => null)) !== null) return;
    await this.jsm.streams.add({
      name: topic,
      subjects: [`${topic}.*`],
      storage: StorageType.File,
      num_replicas: 1,
      // The partition count, where every client of the topic finds it.
      description: `${PARTITIONS_PREFIX}${o.partitions}`,
      ...(o.retentionMs ? { max_age: o.retentionMs * 1_000_000 } : {}),
    });
    this.partitionCounts.set(topic, o.partitions);
  }

  private async partitions(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known) return known;
    const description = (await this.jsm.streams.info(topic)).config.description ?? '';
    const n = description.startsWith(PARTITIONS_PREFIX) ? Number(description.slice(PARTITIONS_PREFIX.length)) : 1;
    this.partitionCounts.set(topic, n);
    return n;
  }

  async produce(topic: string, messages: readonly OutgoingMessage[], o: { acks?: Acks } = {}): Promise<void> {
    // JetStream filters by subject, not by tags: tags are this chapter's spec only (the HTTP client).
    if (messages.some((m) => m.tags?.length)) throw new Error('tags are not supported by the NATS JetStream client');
    // JetStream 2.9 (Debian's) has no delayed delivery: refused rather than delivered at once.
    if (messages.some((m) => m.delayMs)) throw new Error('delayMs is not supported by the NATS JetStream client');
    const byPartition = assignPartitions(messages, await this.partitions(topic), () => this.roundRobin++);
    const acks: Promise<unknown>[] = [];
    // Published in the order given on one connection, so the stream stores one partition's messages in that order.
    for (const [partition, list] of byPartition)
      for (const m of list) {
        const subject = `${topic}.${partition}`;
        const h = headers();
        if (m.key != null) h.set(KEY_HEADER, m.key);
        if (o.acks === '0') this.nc.publish(subject, m.value, { headers: h });
        else acks.push(this.js.publish(subject, m.value, { headers: h }));
      }
    await Promise.all(acks);
    if (o.acks === '0') await this.nc.flush();
  }

  async subscribe(
    topic: string,
    group: string,
    handler: MessageHandler,
    o: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (o.tags?.length) throw new Error('tag filtering is not supported by the NATS JetStream client');
    const partitions = await this.partitions(topic);
    const durable = consumerName(group);
    await this.jsm.consumers
      .add(topic, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: o.startAt === 'latest' ? DeliverPolicy.New : DeliverPolicy.All,
        ack_wait: (o.sessionTimeoutMs ?? 10_000) * 1_000_000,
      })
      .catch(async (e: unknown) => {
        // The group exists (another subscriber, or an earlier run): its position is kept.
        await this.jsm.consumers.info(topic, durable).catch(() => {
          throw e;
        });
      });
    const messages = await (await this.js.consumers.get(topic, durable)).consume({ max_messages: 100 });
    const retryDelay = o.retryDelayMs ?? 1000;
    let stopping = false;
    const loop = (async () => {
      for await (const m of messages) {
        const partition = Number(m.subject.slice(topic.length + 1));
        // A failed handler is retried here, in place, so nothing later is acknowledged before it (order, as the
        // HTTP side keeps it); `working()` keeps the server from handing the message to another subscriber meanwhile.
        for (let failures = 0; ; failures++) {
          try {
            await handler({
              topic,
              partition,
              offset: m.seq,
              key: m.headers?.get(KEY_HEADER) || null,
              value: m.string(),
              timestamp: Number(m.info.timestampNanos / 1_000_000),
              deliveries: m.info.deliveryCount + failures,
            });
            m.ack();
            break;
          } catch (e) {
            o.onError?.(e as Error);
            if (stopping) return; // not acknowledged: redelivered after ack_wait
            m.working();
            await new Promise((r) => setTimeout(r, retryDelay));
          }
        }
        if (stopping) return;
      }
    })();
    const subscription: Subscription = {
      topic,
      group,
      partitions: () => Array.from({ length: partitions }, (_, i) => i),
      close: async () => {
        stopping = true;
        await messages.close();
        await loop;
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.nc.drain();
  }
}

/** A durable consumer's name may not contain `.`, `*`, `>` or white space. */
function consumerName(group: string): string {
  return group.replace(/[.*>\s]/g, '_');
}
