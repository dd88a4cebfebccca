// The HTTP surface of chapter 20: handlers by operationId; routes, validation and errors come from the spec (kit).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import { type Cluster, NotEnoughReplicas } from './cluster.ts';
import { installDelayMutants } from './delay-mutants.ts';
import type { DelayStore } from './delay-store.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import { groupHandlers } from './group-handlers.ts';
import { registerInternalRoutes } from './internal-routes.ts';
import type { MutantName } from './mutants.ts';
import type { Appending, BatchProducer } from './partition-log.ts';
import type { ProducedBatch } from './producer-state.ts';
import { type LogRecord, valueDigest } from './record.ts';
import { fetchFiltered, tagMatcher } from './tag-filter.ts';
import { partitionForKey, type Topic, TopicExists, type TopicRegistry } from './topic-registry.ts';

export const SPEC_URL = new URL('../../specs/20-distributed-message-queue/openapi.yaml', import.meta.url);

/** The spec's defaults for what a create leaves out (a join's are in group-handlers.ts). */
const DEFAULT_RETENTION_MS = 14 * 24 * 3600 * 1000;
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
/** The spec's body limit (batches of up to 1,000 messages). */
export const BODY_LIMIT = 4 * 1024 * 1024;

/** A lone UTF-16 surrogate cannot be stored as UTF-8 text; JSON can carry one, the spec's text cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface QueueAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  topics: TopicRegistry;
  groups: GroupCoordinator;
  /** Delayed messages until their time (absent: refused, 422 delay_not_supported; the cluster). */
  delays?: DelayStore | undefined;
  /** Brokers that can hold a replica (1: the embedded single broker). */
  brokers: number;
  /** This broker's name (the one it has in describeTopic's replicas, leader and ISR). */
  self: string;
  /** The cluster this broker is part of; absent for the embedded single broker. */
  cluster?: Cluster | undefined;
  mutant?: MutantName | undefined;
  /** Salt of the unstable-key-hash mutant ('' for the reference). */
  keySalt?: string;
  logger?: CreateAppOptions['logger'];
}

export interface OutgoingMessage {
  key?: string | null;
  value: string;
  partition?: number;
  tags?: string[];
  delayMs?: number;
}

type ProducedRecord =
  | { partition: number; offset: number; timestamp: number }
  | { partition: number; deliverAt: number };

/** A stored record as the spec's Message (tags only when it has some). */
function asMessage(topic: string, partition: number, r: LogRecord) {
  return {
    topic,
    partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key,
    value: r.value,
    ...(r.tags?.length ? { tags: [...r.tags] } : {}),
    ...valueDigest(r.value),
  };
}

function describe(t: Topic, cluster: Cluster | undefined, self: string, mutant?: string) {
  return {
    name: t.name,
    partitions: t.partitions,
    retentionMs: t.retentionMs,
    replicationFactor: t.replicationFactor,
    segmentBytes: t.segmentBytes,
    minInsyncReplicas: minInsyncOf(t),
    partitionStates: t.logs.map((log, partition) => {
      const s = cluster?.partition(t.name, partition) ?? { leader: self, replicas: [self], isr: [self], epoch: 0 };
      return {
        partition,
        logStartOffset: log.logStartOffset,
        // MUTANT follower-describes-log-end: a broker that does not lead the partition answers its own log's end.
        endOffset:
          mutant === 'follower-describes-log-end' && s.leader !== self
            ? log.endOffset
            : (cluster?.highWatermark(t.name, partition, log.endOffset) ?? log.endOffset),
        leader: s.leader,
        leaderEpoch: s.epoch,
        replicas: s.replicas,
        isr: s.isr,
      };
    }),
  };
}

/** The spec's default: acks=all needs two replicas in sync when there are two or more. */
function minInsyncOf(t: Topic): number {
  return t.minInsyncReplicas ?? Math.min(2, t.replicationFactor);
}

interface Redirect {
  code: 'not_leader' | 'not_controller';
  broker: string;
  location: string;
  detail: string;
}

/** The spec's 307: the same path and query on the broker that serves it. */
function redirect(code: Redirect['code'], broker: string, url: string, path: string, detail: string): Redirect {
  return { code, broker, location: `${url}${path}`, detail };
}

function sendRedirect(reply: FastifyReply, r: Redirect) {
  return reply.code(307).header('location', r.location).send(r);
}

export function buildApp(options: QueueAppOptions): FastifyInstance {
  const { topics, groups, mutant, cluster, self } = options;
  const describeTopic = (t: Topic) => describe(t, cluster, self, mutant);

  /** Topic creation and consumer groups live on the controller (the book's coordinator): elsewhere a 307 to it. */
  const controllerOnly = (request: { url: string }): Redirect | null => {
    if (!cluster || cluster.isController) return null;
    return redirect(
      'not_controller',
      cluster.controller,
      cluster.urlOf(cluster.controller),
      request.url,
      `topics and groups are kept by the controller ${cluster.controller}`,
    );
  };

  /** Produce and fetch are served by the partition's leader: elsewhere a 307 to it. */
  const leaderOnly = (topic: string, partitions: readonly number[], request: { url: string }): Redirect | null => {
    if (!cluster) return null;
    const leaders = [...new Set(partitions.map((p) => cluster.partition(topic, p)?.leader ?? cluster.controller))];
    if (leaders.length === 1 && leaders[0] === self) return null;
    // MUTANT follower-serves-produce: a broker takes a produce for a partition it does not lead.
    if (mutant === 'follower-serves-produce' && request.url.endsWith('/messages')) return null;
    if (leaders.length > 1)
      throw new ProblemError(
        422,
        'several_leaders',
        `the batch goes to partitions led by ${leaders.join(', ')}: send each leader its own partitions' messages`,
      );
    // MUTANT redirect-to-preferred-leader: the 307 names the partition's first replica, not its current leader.
    const to =
      mutant === 'redirect-to-preferred-leader'
        ? (cluster.partition(topic, partitions[0]!)?.replicas[0] ?? leaders[0]!)
        : leaders[0]!;
    return redirect(
      'not_leader',
      to,
      cluster.urlOf(to),
      request.url,
      `partition ${partitions.join(', ')} of ${topic} is led by ${leaders[0]}`,
    );
  };
  // Long polls still waiting end when the server stops, so a graceful stop is not held up by maxWait.
  const stopping = new AbortController();

  const topicOr404 = (name: string): Topic => {
    const t = topics.get(name);
    if (!t) throw new ProblemError(404, 'topic_not_found', `no topic ${name}`);
    return t;
  };

  /** Where each message goes: its explicit partition, else its key's hash, else round robin. */
  function route(t: Topic, messages: readonly OutgoingMessage[]): number[] {
    return messages.map((m, i) => {
      if (m.partition !== undefined) {
        if (m.partition >= t.partitions)
          throw new ProblemError(
            422,
            'unknown_partition',
            `messages/${i}: topic ${t.name} has partitions 0..${t.partitions - 1}, not ${m.partition}`,
          );
        return m.partition;
      }
      if (m.key !== undefined && m.key !== null) return partitionForKey(m.key, t.partitions, options.keySalt);
      const p = t.nextUnkeyed;
      t.nextUnkeyed = (p + 1) % t.partitions;
      return p;
    });
  }

  const app = createApp({
    spec: options.spec,
    readiness: options.readiness,
    logger: options.logger,
    bodyLimit: BODY_LIMIT,
    unvalidated: mutant === 'unvalidated-input' ? ['produce'] : [], // MUTANT unvalidated-input
    handlers: {
      // MUTANT health-plain-text: readiness is not the documented body.
      ...(mutant === 'health-plain-text'
        ? { getReadiness: async (_q, reply) => reply.type('text/plain').send('ok') }
        : {}),

      async createTopic(request, reply) {
        const b = request.body as {
          name: string;
          partitions: number;
          retentionMs?: number;
          replicationFactor?: number;
          minInsyncReplicas?: number;
          segmentBytes?: number;
        };
        const toController = controllerOnly(request);
        if (toController) return sendRedirect(reply, toController);
        const replicationFactor = b.replicationFactor ?? 1;
        if (replicationFactor > options.brokers)
          throw new ProblemError(
            422,
            'insufficient_brokers',
            `replicationFactor ${replicationFactor} needs ${replicationFactor} brokers; there are ${options.brokers}`,
          );
        // MUTANT min-insync-unchecked: a minimum no replica set can meet is stored (acks=all could never succeed).
        if ((b.minInsyncReplicas ?? 1) > replicationFactor && mutant !== 'min-insync-unchecked')
          throw new ProblemError(
            422,
            'invalid_min_insync',
            `minInsyncReplicas ${b.minInsyncReplicas} is more than the replicationFactor ${replicationFactor}`,
          );
        const config = {
          name: b.name,
          partitions: b.partitions,
          retentionMs: b.retentionMs ?? DEFAULT_RETENTION_MS,
          replicationFactor,
          segmentBytes: b.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
          ...(b.minInsyncReplicas !== undefined ? { minInsyncReplicas: b.minInsyncReplicas } : {}),
        };
        try {
          // MUTANT topic-recreated: a taken name is answered as if new (the existing topic is described again).
          if (mutant === 'topic-recreated' && topics.get(b.name))
            return reply.code(201).send(describeTopic(topics.get(b.name)!));
          // MUTANT create-topic-race: the name is checked, then the metadata written asynchronously before the
          // topic is registered, so two concurrent creates of one name both succeed.
          if (mutant === 'create-topic-race')
            return reply.code(201).send(describeTopic(await topics.createRacy(config)));
          if (cluster) return reply.code(201).send(describeTopic(await cluster.createTopic(config)));
          return reply.code(201).send(describeTopic(topics.create(config)));
        } catch (error) {
          if (error instanceof TopicExists) throw new ProblemError(409, 'topic_exists', `topic ${b.name} exists`);
          throw error;
        }
      },

      async describeTopic(request, reply) {
        const { topic } = request.params as { topic: string };
        return reply.code(200).send(describeTopic(topicOr404(topic)));
      },

      // Any broker: a random UUID is unique without asking the controller.
      async initProducer(_request, reply) {
        return reply.code(201).send({ producerId: randomUUID() });
      },

      async produce(request, reply) {
        const { topic } = request.params as { topic: string };
        const body = request.body as {
          acks?: '0' | '1' | 'all';
          messages: OutgoingMessage[];
          producerId?: string;
          sequence?: number;
        };
        const acks = body.acks ?? 'all';
        const t = topicOr404(topic);
        body.messages.forEach((m, i) => {
          if (LONE_SURROGATE.test(m.value) || (m.key != null && LONE_SURROGATE.test(m.key)))
            throw new ProblemError(400, 'invalid_request', `messages/${i}: a lone UTF-16 surrogate is not text`);
        });
        // MUTANT partial-batch: messages are appended one by one as they are routed, so a bad partition later in the
        // batch leaves the earlier ones appended.
        if (mutant === 'partial-batch') {
          const timestamp = Date.now();
          const records = body.messages.map((m) => {
            const [p] = route(t, [m]);
            const [{ offset }] = t.logs[p!]!.append(
              [{ key: m.key ?? null, value: m.value }],
              acks === 'all',
              timestamp,
            ) as [{ offset: number }];
            return { partition: p!, offset, timestamp };
          });
          if (acks === '0') return reply.code(202).send({ topic, acks, accepted: body.messages.length });
          return reply.code(200).send({ topic, acks, records });
        }
        // Every message is routed (and every partition checked) before anything is appended: all or nothing.
        const partitions = route(t, body.messages);
        // MUTANT delay-ignored: delayed messages are appended at once.
        // MUTANT delay-unsupported-appended-at-once: a broker that cannot keep them appends them at once (no 422).
        const delayOf = (m: OutgoingMessage) =>
          mutant === 'delay-ignored' || (mutant === 'delay-unsupported-appended-at-once' && !options.delays)
            ? 0
            : (m.delayMs ?? 0);
        const delayed = body.messages.flatMap((m, index) => (delayOf(m) > 0 ? [index] : []));
        if (delayed.length > 0 && !options.delays)
          throw new ProblemError(
            422,
            'delay_not_supported',
            `messages/${delayed[0]}: this broker is part of a cluster, where delayed messages are not replicated yet`,
          );
        const producer =
          body.producerId !== undefined ? { id: body.producerId, firstSequence: body.sequence ?? 0 } : undefined;
        // MUTANT producer-shape-explicit-partitions-only: keyed messages count as going to the first one's partition.
        if (producer && mutant === 'producer-shape-explicit-partitions-only')
          idempotentShape(body.messages.map((m) => m.partition ?? partitions[0]!));
        else if (producer) idempotentShape(partitions);
        const toLeader = leaderOnly(topic, [...new Set(partitions)], request);
        if (toLeader) return sendRedirect(reply, toLeader);
        // An idempotent batch the partition's log already has is answered with its records, appending nothing.
        // MUTANT producer-acks0-retry-appended: with acks 0 the sequence is not looked at, so a repeat is appended.
        if (producer && !(mutant === 'producer-acks0-retry-appended' && acks === '0')) {
          const p = partitions[0]!;
          const seen = sequenceCheck(t, p, producer, body.messages.length, mutant);
          if (seen) {
            const records = body.messages.map((_, i) => ({
              partition: p,
              offset: seen.firstOffset + i,
              timestamp: seen.timestamp,
            }));
            if (acks === '0') return reply.code(202).send({ topic, acks, accepted: body.messages.length });
            if (acks === 'all' && cluster) await replicated(cluster, t, p, seen.firstOffset + seen.count);
            else if (acks === 'all') t.logs[p]!.sync();
            return reply.code(200).send({ topic, acks, records });
          }
        }
        if (acks === 'all' && cluster)
          for (const p of new Set(partitions)) {
            try {
              cluster.checkInSync(topic, p, minInsyncOf(t));
            } catch (e) {
              if (e instanceof NotEnoughReplicas) throw notEnoughReplicas(topic, p, e);
              throw e;
            }
          }
        const now = Date.now();
        const records: ProducedRecord[] = new Array(partitions.length);
        // Delayed messages are kept aside (written, and fsynced for acks=all) before anything is appended.
        if (delayed.length > 0) {
          const kept = options.delays!.add(
            delayed.map((index) => {
              const { key, value, tags } = body.messages[index]!;
              // MUTANT delay-in-seconds: delayMs read as seconds.
              const unit = mutant === 'delay-in-seconds' ? 1000 : 1;
              const deliverAt = now + delayOf(body.messages[index]!) * unit;
              return { topic, partition: partitions[index]!, deliverAt, key: key ?? null, value, tags };
            }),
            acks === 'all',
          );
          delayed.forEach((index, k) => {
            records[index] = { partition: partitions[index]!, deliverAt: kept[k]!.deliverAt };
          });
        }
        const byPartition = new Map<number, { index: number; m: Appending }[]>();
        partitions.forEach((p, index) => {
          if (records[index]) return;
          const list = byPartition.get(p) ?? [];
          const { key, value, tags } = body.messages[index]!;
          list.push({ index, m: { key: key ?? null, value, tags } });
          byPartition.set(p, list);
        });
        // MUTANT timestamp-seconds: messages are stamped with Unix seconds, not milliseconds.
        const timestamp = mutant === 'timestamp-seconds' ? Math.floor(now / 1000) : now;
        for (const [p, list] of byPartition) {
          // MUTANT batch-reversed: the partition's share of the batch is appended last first.
          const ordered = mutant === 'batch-reversed' ? [...list].reverse() : list;
          // One write per partition (and one fsync for acks=all: every in-sync replica of one broker is itself).
          const appended = t.logs[p]!.append(
            ordered.map((x) => x.m),
            acks === 'all',
            timestamp,
            producer,
          );
          ordered.forEach((x, k) => {
            records[x.index] = { partition: p, offset: appended[k]!.offset, timestamp };
          });
        }
        if (acks === '0') return reply.code(202).send({ topic, acks, accepted: body.messages.length });
        // acks=all: every in-sync replica has the batch (the high watermark passed it) before the answer.
        // MUTANT acks-all-before-replicated: acks=all is answered once the leader has the batch, as acks=1.
        if (acks === 'all' && cluster && mutant !== 'acks-all-before-replicated')
          for (const p of byPartition.keys()) {
            // MUTANT acks-all-until-off-by-one: the wait ends when the high watermark reaches the last offset, not past it.
            const past = mutant === 'acks-all-until-off-by-one' ? 0 : 1;
            const offsets = records.flatMap((r) => (r.partition === p && 'offset' in r ? [r.offset] : []));
            await replicated(cluster, t, p, Math.max(...offsets) + past);
          }
        return reply.code(200).send({ topic, acks, records });
      },

      async fetch(request, reply) {
        const { topic, partition } = request.params as { topic: string; partition: number };
        const q = request.query as { offset: number; maxWait: number; maxBytes: number; tags?: string };
        const t = topicOr404(topic);
        const log = t.logs[partition];
        if (!log) throw new ProblemError(404, 'unknown_partition', `topic ${topic} has no partition ${partition}`);
        const toLeader = leaderOnly(topic, [partition], request);
        if (toLeader) return sendRedirect(reply, toLeader);
        // Consumers read below the high watermark: what every in-sync replica has, so a failover never takes back
        // a message a consumer saw.
        const visibleEnd = () => cluster?.highWatermark(topic, partition, log.endOffset) ?? log.endOffset;
        const outOfRange = () =>
          q.offset > visibleEnd() || q.offset < log.logStartOffset
            ? new ProblemError(
                422,
                'offset_out_of_range',
                `offset ${q.offset} is outside ${log.logStartOffset}..${visibleEnd()}`,
              )
            : null;
        const range = outOfRange();
        if (range) throw range;
        if (q.tags !== undefined) {
          const gone = new AbortController();
          request.raw.once('close', () => gone.abort());
          const found = await fetchFiltered({
            log,
            offset: q.offset,
            maxBytes: q.maxBytes,
            maxWait: q.maxWait,
            matches: tagMatcher(q.tags, mutant === 'tags-match-all', mutant === 'tags-match-ignores-case'),
            visibleEnd,
            signal: AbortSignal.any([gone.signal, stopping.signal]),
            limitBeforeFilter: mutant === 'tags-limit-before-filter',
            nextAtLastMatch: mutant === 'tags-next-offset-at-last-match',
            pastHighWatermark: mutant === 'tags-read-past-high-watermark',
          });
          return reply.code(200).send({
            topic,
            partition,
            logStartOffset: log.logStartOffset,
            endOffset: visibleEnd(),
            nextOffset: found.nextOffset,
            messages: found.records.map((r) => asMessage(topic, partition, r)),
          });
        }
        // MUTANT long-poll-ignored: no waiting for a message.
        if (q.offset === visibleEnd() && q.maxWait > 0 && mutant !== 'long-poll-ignored') {
          const gone = new AbortController();
          request.raw.once('close', () => gone.abort());
          await log.waitForAppend(q.maxWait, AbortSignal.any([gone.signal, stopping.signal]));
        }
        const messages =
          mutant === 'long-poll-ignored' && q.offset === log.endOffset
            ? []
            : log
                .read(q.offset, q.maxBytes)
                // MUTANT fetch-reads-past-high-watermark: records above the high watermark are served too.
                .filter((r) => r.offset < visibleEnd() || mutant === 'fetch-reads-past-high-watermark')
                .map((r) => asMessage(topic, partition, r));
        return reply.code(200).send({
          topic,
          partition,
          logStartOffset: log.logStartOffset,
          endOffset: visibleEnd(),
          nextOffset: (messages.at(-1)?.offset ?? q.offset - 1) + 1,
          messages,
        });
      },

      ...groupHandlers({
        groups,
        topics,
        topicOr404,
        mutant,
        viaController: (request, reply) => {
          const r = controllerOnly(request);
          return r ? sendRedirect(reply, r) : null;
        },
      }),
    },
  });
  if (cluster) registerInternalRoutes(app, cluster);
  if (mutant) installDelayMutants(app, mutant, topics, options.delays);
  app.addHook('preClose', (done) => {
    stopping.abort();
    done();
  });
  return app;
}

/** acks=all: every in-sync replica has the partition's records below `until`, else 503 not_enough_replicas. */
async function replicated(cluster: Cluster, t: Topic, p: number, until: number): Promise<void> {
  try {
    await cluster.awaitReplicated(t.name, p, until, minInsyncOf(t));
  } catch (e) {
    if (e instanceof NotEnoughReplicas) throw notEnoughReplicas(t.name, p, e);
    throw e;
  }
}

/** An idempotent batch goes to one partition (that it holds no delayed message, the request schema says: 400). */
function idempotentShape(partitions: readonly number[]): void {
  const distinct = [...new Set(partitions)];
  if (distinct.length > 1)
    throw new ProblemError(
      422,
      'several_partitions',
      `an idempotent batch goes to one partition; this one goes to ${distinct.join(', ')}`,
    );
}

/**
 * The producer's state on the partition's log: the batch this one repeats (answered with its records), null for the
 * next batch (appended), or 409 out_of_order_sequence.
 */
function sequenceCheck(
  t: Topic,
  p: number,
  producer: BatchProducer,
  count: number,
  mutant: MutantName | undefined,
): ProducedBatch | null {
  const seen = t.logs[p]!.producers.check(
    producer.id,
    producer.firstSequence,
    count,
    mutant === 'producer-repeat-ignores-length', // MUTANT producer-repeat-ignores-length
  );
  if (seen.kind === 'duplicate') return seen.batch;
  // MUTANT producer-sequence-gap-accepted: a batch past the next sequence is appended (a lost batch goes unnoticed).
  const gapAccepted =
    mutant === 'producer-sequence-gap-accepted' &&
    producer.firstSequence > (seen.kind === 'out-of-order' ? seen.expected : 0);
  if (seen.kind === 'out-of-order' && !gapAccepted)
    throw new ProblemError(
      409,
      'out_of_order_sequence',
      `producer ${producer.id} on ${t.name}/${p}: sequence ${producer.firstSequence} sent, ${seen.expected} expected`,
    );
  return null;
}

function notEnoughReplicas(topic: string, partition: number, e: Error): ProblemError {
  return new ProblemError(503, 'not_enough_replicas', `${topic}/${partition}: ${e.message}`, {
    headers: { 'retry-after': '1' },
  });
}
