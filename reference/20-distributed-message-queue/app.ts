// The HTTP surface of chapter 20: handlers by operationId; routes, validation and errors come from the spec (kit).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import type { Cluster } from './cluster.ts';
import { installDelayMutants } from './delay-mutants.ts';
import type { DelayStore } from './delay-store.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import { groupHandlers } from './group-handlers.ts';
import { registerInternalRoutes } from './internal-routes.ts';
import type { MutantName } from './mutants.ts';
import { minInsyncOf, produceHandlers } from './produce-handler.ts';
import { type LogRecord, valueDigest } from './record.ts';
import { fetchFiltered, tagMatcher } from './tag-filter.ts';
import { type Topic, TopicExists, type TopicRegistry } from './topic-registry.ts';

export const SPEC_URL = new URL('../../specs/20-distributed-message-queue/openapi.yaml', import.meta.url);

/** The spec's defaults for what a create leaves out (a join's are in group-handlers.ts). */
const DEFAULT_RETENTION_MS = 14 * 24 * 3600 * 1000;
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
/** The spec's body limit (batches of up to 1,000 messages). */
export const BODY_LIMIT = 4 * 1024 * 1024;

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

export interface Redirect {
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
  /** Producer IDs given since this start (only for the producer-ids-reused-after-restart mutant). */
  let producersIssued = 0;

  const topicOr404 = (name: string): Topic => {
    const t = topics.get(name);
    if (!t) throw new ProblemError(404, 'topic_not_found', `no topic ${name}`);
    return t;
  };

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
        // MUTANT producer-ids-reused-after-restart: IDs from a counter in memory, which starts again at every start.
        if (mutant === 'producer-ids-reused-after-restart')
          return reply
            .code(201)
            .send({ producerId: `00000000-0000-4000-8000-${(++producersIssued).toString(16).padStart(12, '0')}` });
        return reply.code(201).send({ producerId: randomUUID() });
      },

      ...produceHandlers({ options, topicOr404, leaderOnly, sendRedirect }),

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
        groupsReady: cluster ? () => cluster.groupsReady() : undefined,
        leaderEndOffset: cluster ? (t, p) => cluster.leaderEndOffset(t, p) : undefined,
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
