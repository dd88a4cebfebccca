// Delayed messages against a model of what the client produced: each delayed message is sent with a value no other
// message has, the harness's clock read just before its produce (sentAt) and after the answer; a long-polling
// watcher notes when each message first shows up. Never early: a message seen in an answer that arrived before
// sentAt + delayMs - DELAY_SKEW_MS was readable before its time (the broker's clock is never consulted: a delay is
// a duration, so clocks that disagree on the hour still agree on it). Within the bound: seen by the answer's arrival
// + DELIVERY_BOUND_MS plus the slack the harness measured (its own lag, capped). Once: one offset per value.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import {
  type Acked,
  type DelayedRecord,
  digestOf,
  type FetchResult,
  type Message,
  type MqApi,
  type OutgoingMessage,
  okBody,
  type ProduceResult,
  readPartition,
} from './api.ts';

/** The spec's bound: a delayed message is appended within this long after its time. */
export const DELIVERY_BOUND_MS = 1000;
/** Timer and clock granularity allowed between the harness's clock and the broker's timer (the spec README). */
export const DELAY_SKEW_MS = 50;
/** The most slack (the harness's measured lag) added to the delivery bound on a busy machine. */
const SLACK_CAP_MS = 5000;

/** A delayed message as the client produced it. */
export interface SentDelayed {
  partition: number;
  key: string | null;
  value: string;
  tags: string[];
  delayMs: number;
  /** The harness's clock just before the produce was sent and when its answer came. */
  sentAt: number;
  answeredAt: number;
  deliverAt: number;
  /** The last offset on its partition acknowledged before it was produced (-1: none known): it must come after. */
  after: number;
}

/**
 * Produces a batch (some messages with delayMs) that must be answered 200: the immediate ones come back as Acked,
 * the delayed ones as SentDelayed (each answered with its partition, deliverAt and no offset).
 */
export async function produceWithDelays(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  messages: OutgoingMessage[],
  acks: '1' | 'all' = 'all',
): Promise<{ acked: Acked[]; delayed: SentDelayed[] }> {
  const sentAt = Date.now();
  const x = await api.produce(topic, { acks, messages });
  const answeredAt = Date.now();
  const r = okBody<ProduceResult>(ctx, x, 200, `producing ${messages.length} messages, some delayed (acks ${acks})`);
  ctx.expect(r.records.length === messages.length, `${messages.length} messages, ${r.records.length} records`, x);
  const acked: Acked[] = [];
  const delayed: SentDelayed[] = [];
  messages.forEach((m, i) => {
    const rec = r.records[i]!;
    const base = { key: m.key ?? null, value: m.value, tags: m.tags ?? [] };
    if (m.delayMs) {
      ctx.expect(
        !('offset' in rec) && 'deliverAt' in rec,
        `message ${i} (delayMs ${m.delayMs}) was answered ${JSON.stringify(rec)}: appended at once, not kept until its time`,
        x,
      );
      const { deliverAt } = rec as DelayedRecord;
      delayed.push({ ...base, partition: rec.partition, delayMs: m.delayMs, sentAt, answeredAt, deliverAt, after: -1 });
    } else {
      ctx.expect('offset' in rec, `message ${i} (no delay) was answered without an offset: ${JSON.stringify(rec)}`, x);
      acked.push({ ...base, ...(rec as Acked) });
    }
  });
  // Its own batch's immediate messages are appended at once, so before it.
  for (const d of delayed)
    d.after = Math.max(-1, ...acked.filter((a) => a.partition === d.partition).map((a) => a.offset));
  return { acked, delayed };
}

/** Where and when a watched message first showed up. */
export interface Seen {
  message: Message;
  /** When the answer holding it arrived (harness clock). */
  at: number;
}

/**
 * Long-polls `partition` from `from` until every one of `wanted` (by value) has shown up, or its bound has passed.
 * Fails on a delayed message seen early, seen at two offsets, or not seen within its bound. Returns every message
 * seen by value (delayed or not).
 */
export async function watchDelayed(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  partition: number,
  from: number,
  wanted: readonly SentDelayed[],
  what: string,
  /** When the broker answered again after a restart: one due while it was down is due at the restart. */
  upAgainAt = 0,
): Promise<Map<string, Seen>> {
  const slack = checkSlack(ctx.evidence, SLACK_CAP_MS);
  const byValue = new Map(wanted.filter((d) => d.partition === partition).map((d) => [d.value, d]));
  const seen = new Map<string, Seen>();
  const dueAt = (d: SentDelayed) => Math.max(d.answeredAt + d.delayMs, upAgainAt);
  const latest = Math.max(...[...byValue.values()].map(dueAt), Date.now());
  let at = from;
  while ([...byValue.keys()].some((v) => !seen.has(v))) {
    const x = await api.fetch(topic, partition, { offset: at, maxWait: 2000 });
    const arrived = Date.now();
    const r = okBody<FetchResult>(ctx, x, 200, `${what}: long-polling ${topic}/${partition} from ${at}`);
    for (const m of r.messages) {
      const d = byValue.get(m.value);
      const before = seen.get(m.value);
      ctx.expect(
        !before || before.message.offset === m.offset,
        `${what}: ${JSON.stringify(m.value)} is at offset ${before?.message.offset} and again at ${m.offset}: a delayed message appended twice`,
        x,
      );
      if (d) {
        const early = d.sentAt + d.delayMs - DELAY_SKEW_MS - arrived;
        ctx.expect(
          early <= 0,
          `${what}: ${JSON.stringify(m.value)} (delayMs ${d.delayMs}) was readable at offset ${m.offset} ${early} ms before its time on the harness's clock`,
          x,
        );
        ctx.expect(
          m.timestamp >= d.deliverAt,
          `${what}: ${JSON.stringify(m.value)} is stamped ${m.timestamp}, before the deliverAt ${d.deliverAt} its produce was answered with`,
          x,
        );
        expectDelivered(ctx, m, d, what);
      }
      if (!before) seen.set(m.value, { message: m, at: arrived });
      at = m.offset + 1;
    }
    if (r.messages.length === 0 && at < r.endOffset) at = r.nextOffset;
    const missing = [...byValue.values()].filter((d) => !seen.has(d.value));
    const bound = slack.bound(DELIVERY_BOUND_MS, x.durationMs);
    if (missing.length && Date.now() > latest + bound)
      ctx.fail(
        `${what}: ${missing.length} delayed message(s) not readable ${bound} ms after their time, e.g. ${JSON.stringify(missing[0]!.value)} (delayMs ${missing[0]!.delayMs}, sent ${Date.now() - missing[0]!.sentAt} ms ago)`,
      );
  }
  for (const d of byValue.values()) {
    const late = seen.get(d.value)!.at - dueAt(d);
    ctx.expect(
      late <= slack.bound(DELIVERY_BOUND_MS),
      `${what}: ${JSON.stringify(d.value)} (delayMs ${d.delayMs}) became readable ${late} ms after its time${upAgainAt ? ' (or the restart, when later)' : ''}`,
    );
  }
  return seen;
}

/** A delayed message as fetched: its key, value, tags, size and CRC are those produced. */
export function expectDelivered(ctx: CheckContext, m: Message, d: SentDelayed, what: string): void {
  const digest = digestOf(d.value);
  ctx.expect(
    m.key === d.key && JSON.stringify(m.tags ?? []) === JSON.stringify(d.tags),
    `${what}: delayed ${JSON.stringify(d.value)} came with key ${JSON.stringify(m.key)} and tags ${JSON.stringify(m.tags ?? [])}, produced with ${JSON.stringify(d.key)} and ${JSON.stringify(d.tags)}`,
  );
  ctx.expect(
    m.size === digest.size && m.crc === digest.crc,
    `${what}: delayed ${JSON.stringify(d.value)} has size ${m.size} crc ${m.crc}, not ${digest.size} ${digest.crc}`,
  );
}

/**
 * Reads the whole partition and checks it against the model: every immediate message at its acknowledged offset,
 * every delayed one exactly once, after every message acknowledged before its produce was sent, nothing else.
 */
export async function expectDelayedLog(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  partition: number,
  acked: readonly Acked[],
  delayed: readonly SentDelayed[],
  what: string,
): Promise<Message[]> {
  const { messages } = await readPartition(ctx, api, topic, partition);
  const mine = acked.filter((a) => a.partition === partition);
  const late = delayed.filter((d) => d.partition === partition);
  for (const a of mine) {
    const m = messages[a.offset];
    ctx.expect(
      m?.value === a.value,
      `${what}: offset ${a.offset} holds ${JSON.stringify(m?.value)}, acknowledged ${JSON.stringify(a.value)}`,
    );
  }
  for (const d of late) {
    const at = messages.filter((m) => m.value === d.value);
    ctx.expect(
      at.length === 1,
      `${what}: delayed ${JSON.stringify(d.value)} is in the log ${at.length} times, not once`,
    );
    expectDelivered(ctx, at[0]!, d, what);
    ctx.expect(
      at[0]!.offset > d.after,
      `${what}: delayed ${JSON.stringify(d.value)} took offset ${at[0]!.offset}, not after ${d.after}, acknowledged before it was appended`,
    );
  }
  ctx.expect(
    messages.length === mine.length + late.length,
    `${what}: ${topic}/${partition} holds ${messages.length} messages; ${mine.length} were acknowledged and ${late.length} delayed`,
  );
  return messages;
}
