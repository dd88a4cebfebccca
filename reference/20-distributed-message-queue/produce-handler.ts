// The produce operation of chapter 20's API: every message routed (its partition, its key's hash, or round robin)
// before anything is appended, delayed messages kept aside, an idempotent producer's sequence checked, and the answer
// sent when the acks asked for hold. Moved out of app.ts whole, the idempotent producer's rules with it.
import type { FastifyReply } from 'fastify';
import type { OperationHandler } from '../kit/create-app.ts';
import { type ProblemBody, ProblemError, problemBody, sendProblem } from '../kit/problem.ts';
import type { OutgoingMessage, QueueAppOptions, Redirect } from './app.ts';
import { type Cluster, NotEnoughReplicas } from './cluster.ts';
import type { MutantName } from './mutants.ts';
import type { Appending, BatchProducer } from './partition-log.ts';
import type { ProducedBatch } from './producer-state.ts';
import { partitionForKey, type Topic } from './topic-registry.ts';

/** A lone UTF-16 surrogate cannot be stored as UTF-8 text; JSON can carry one, the spec's text cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type ProducedRecord =
  | { partition: number; offset: number; timestamp: number }
  | { partition: number; deliverAt: number };

/** The spec's default: acks=all needs two replicas in sync when there are two or more. */
export function minInsyncOf(t: Topic): number {
  return t.minInsyncReplicas ?? Math.min(2, t.replicationFactor);
}

export interface ProduceDeps {
  options: QueueAppOptions;
  topicOr404: (name: string) => Topic;
  /** The 307 to the partitions' leader when this broker does not lead them, else null. */
  leaderOnly: (topic: string, partitions: readonly number[], request: { url: string }) => Redirect | null;
  sendRedirect: (reply: FastifyReply, r: Redirect) => FastifyReply;
}

export function produceHandlers(d: ProduceDeps): Record<string, OperationHandler> {
  const { options, topicOr404, leaderOnly, sendRedirect } = d;
  const { mutant, cluster } = options;

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

  return {
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
        if (seen && 'refused' in seen) return sendProblem(reply, seen.refused);
        if (seen) {
          const records = body.messages.map((_, i) => ({
            partition: p,
            offset: seen.firstOffset + i,
            timestamp: seen.timestamp,
          }));
          if (acks === '0') return reply.code(202).send({ topic, acks, accepted: body.messages.length });
          // MUTANT producer-dup-acks-all-until-first: a repeat with acks all waits for its first record only.
          const until = seen.firstOffset + (mutant === 'producer-dup-acks-all-until-first' ? 1 : seen.count);
          // MUTANT producer-dup-skips-min-insync: a repeat waits for the high watermark only, not minInsyncReplicas.
          const minInsync = mutant === 'producer-dup-skips-min-insync' ? 1 : minInsyncOf(t);
          if (acks === 'all' && cluster) await replicated(cluster, t, p, until, minInsync);
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
          // MUTANT acks-all-until-across-partitions: every partition waits for the batch's highest offset on any.
          const across = mutant === 'acks-all-until-across-partitions';
          const offsets = records.flatMap((r) => ((across || r.partition === p) && 'offset' in r ? [r.offset] : []));
          await replicated(cluster, t, p, Math.max(...offsets) + past);
        }
      return reply.code(200).send({ topic, acks, records });
    },
  };
}

/** acks=all: every in-sync replica has the partition's records below `until`, else 503 not_enough_replicas. */
async function replicated(cluster: Cluster, t: Topic, p: number, until: number, minInsync = minInsyncOf(t)) {
  try {
    await cluster.awaitReplicated(t.name, p, until, minInsync);
  } catch (e) {
    // MUTANT producer-state-recorded-at-ack: the batch appended last leaves the producer state when not confirmed.
    if (e instanceof NotEnoughReplicas && cluster.o.unconfirmedBatchForgotten) t.logs[p]!.producers.forgetLast();
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
 * next batch (appended), or the 409 out_of_order_sequence to answer.
 */
function sequenceCheck(
  t: Topic,
  p: number,
  producer: BatchProducer,
  count: number,
  mutant: MutantName | undefined,
): ProducedBatch | OutOfOrder | null {
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
  if (seen.kind === 'out-of-order' && !gapAccepted) {
    const who = `producer ${producer.id} on ${t.name}/${p}`;
    // MUTANT producer-409-expected-swapped: the sequence sent is answered as the one expected, and the other way round.
    if (mutant === 'producer-409-expected-swapped') return outOfOrder(who, seen.expected, producer.firstSequence);
    return outOfOrder(who, producer.firstSequence, seen.expected);
  }
  return null;
}

interface OutOfOrder {
  refused: ProblemBody & { expectedSequence: number };
}

/** The 409 of a batch out of order: the sequence the producer's next batch here must start at, as a field. */
function outOfOrder(who: string, sent: number, expected: number): OutOfOrder {
  const detail = `${who}: sequence ${sent} sent, ${expected} expected`;
  return { refused: { ...problemBody(409, 'out_of_order_sequence', detail), expectedSequence: expected } };
}

function notEnoughReplicas(topic: string, partition: number, e: Error): ProblemError {
  return new ProblemError(503, 'not_enough_replicas', `${topic}/${partition}: ${e.message}`, {
    headers: { 'retry-after': '1' },
  });
}
