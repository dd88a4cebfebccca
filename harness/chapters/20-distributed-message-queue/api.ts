// The chapter's operations over the wire (every exchange validated against the spec by ctx.http), plus what the
// spec fixes that the harness computes itself, never taking the implementation's word: the key -> partition hash
// and each message's size and CRC.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { components } from '../../../specs/20-distributed-message-queue/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient } from '../../core/http-client.ts';

export type Topic = components['schemas']['Topic'];
export type Message = components['schemas']['Message'];
export type FetchResult = components['schemas']['FetchResult'];
export type ProduceResult = components['schemas']['ProduceResult'];
/** A produced message's record: appended at once (with its offset) or delayed (with when it will be). */
export type AppendedRecord = components['schemas']['RecordMetadata'];
export type DelayedRecord = components['schemas']['DelayedRecord'];
export type Membership = components['schemas']['Membership'];
export type Group = components['schemas']['Group'];
export type CommittedOffsets = components['schemas']['CommittedOffsets'];
export type OutgoingMessage = components['schemas']['OutgoingMessage'];
export type Acks = '0' | '1' | 'all';

/** The spec's default retention: two weeks, the book's requirement. */
export const DEFAULT_RETENTION_MS = 1_209_600_000;

/** Each partition's end offset, in partition order. */
export const endOffsets = (t: Topic): number[] => t.partitionStates.map((s) => s.endOffset);

/** The spec's key -> partition: CRC-32/ISO-HDLC of the key's UTF-8 bytes, unsigned, mod the partition count. */
export function partitionOfKey(key: string, partitions: number): number {
  return crc32(Buffer.from(key, 'utf8')) % partitions;
}

/** The spec's `size` and `crc` of a value. */
export function digestOf(value: string): { size: number; crc: number } {
  const bytes = Buffer.from(value, 'utf8');
  return { size: bytes.length, crc: crc32(bytes) };
}

/** A name no earlier check or run used on this target (topics and groups outlive a check). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

const enc = encodeURIComponent;

export function mqApi(ctx: CheckContext, http: Pick<HttpClient, 'send'> = ctx.http) {
  return {
    createTopic: (body: Record<string, unknown>) => http.send({ method: 'POST', path: '/api/v1/topics', json: body }),
    describeTopic: (topic: string) => http.send({ method: 'GET', path: `/api/v1/topics/${enc(topic)}` }),
    produce: (
      topic: string,
      body: { acks?: Acks; messages: OutgoingMessage[]; producerId?: string; sequence?: number },
    ) => http.send({ method: 'POST', path: `/api/v1/topics/${enc(topic)}/messages`, json: body }),
    initProducer: () => http.send({ method: 'POST', path: '/api/v1/producers' }),
    fetch: (
      topic: string,
      partition: number,
      q: { offset: number; maxWait?: number; maxBytes?: number; tags?: readonly string[] },
    ) => {
      const qs = new URLSearchParams({ offset: String(q.offset) });
      if (q.maxWait !== undefined) qs.set('maxWait', String(q.maxWait));
      if (q.maxBytes !== undefined) qs.set('maxBytes', String(q.maxBytes));
      if (q.tags !== undefined) qs.set('tags', q.tags.join(','));
      return http.send({
        method: 'GET',
        path: `/api/v1/topics/${enc(topic)}/partitions/${partition}/messages?${qs}`,
        timeoutMs: 10_000 + (q.maxWait ?? 0),
      });
    },
    join: (group: string, body: { topic: string; memberId?: string; sessionTimeoutMs?: number }) =>
      http.send({ method: 'POST', path: `/api/v1/groups/${enc(group)}/members`, json: body }),
    heartbeat: (group: string, memberId: string) =>
      http.send({ method: 'POST', path: `/api/v1/groups/${enc(group)}/members/${enc(memberId)}/heartbeat` }),
    leave: (group: string, memberId: string) =>
      http.send({ method: 'DELETE', path: `/api/v1/groups/${enc(group)}/members/${enc(memberId)}` }),
    describeGroup: (group: string) => http.send({ method: 'GET', path: `/api/v1/groups/${enc(group)}` }),
    commit: (
      group: string,
      body: { memberId: string; generation: number; offsets: { partition: number; offset: number }[] },
    ) => http.send({ method: 'POST', path: `/api/v1/groups/${enc(group)}/offsets`, json: body }),
    offsets: (group: string) => http.send({ method: 'GET', path: `/api/v1/groups/${enc(group)}/offsets` }),
  };
}

export type MqApi = ReturnType<typeof mqApi>;

/** The body of an answer that must have `status`; fails the check otherwise. */
export function okBody<T>(ctx: CheckContext, x: Exchange, status: number, what: string): T {
  ctx.expect(x.status === status, `${what}: expected ${status}, got ${x.status ?? x.error}`, x);
  return x.body as T;
}

/** Creates a fresh topic and returns its name. */
export async function freshTopic(
  ctx: CheckContext,
  api: MqApi,
  partitions: number,
  extra: Record<string, unknown> = {},
  prefix = 'mq',
): Promise<string> {
  const name = uniqueName(prefix);
  okBody(ctx, await api.createTopic({ name, partitions, ...extra }), 201, `creating topic ${name}`);
  return name;
}

/** An acknowledged message: where the broker said it put it, and what was sent. */
export interface Acked {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string;
  /** The tags it was produced with ([] for none). */
  tags: string[];
}

/** The records of a produce without `delayMs`: each must have been appended at once, with its offset. */
export function appendedRecords(ctx: CheckContext, r: ProduceResult, x: Exchange): AppendedRecord[] {
  for (const [i, rec] of r.records.entries())
    ctx.expect('offset' in rec, `record ${i} has no offset, but its message was sent without delayMs`, x);
  return r.records as AppendedRecord[];
}

/** Produces a batch that must be acknowledged (200) and returns each message with its acknowledged place. */
export async function produceAcked(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  messages: OutgoingMessage[],
  acks: '1' | 'all' = 'all',
): Promise<Acked[]> {
  const x = await api.produce(topic, { acks, messages });
  const r = okBody<ProduceResult>(ctx, x, 200, `producing ${messages.length} messages (acks ${acks})`);
  ctx.expect(
    r.records.length === messages.length,
    `${messages.length} messages produced, ${r.records.length} records acknowledged`,
    x,
  );
  return appendedRecords(ctx, r, x).map((rec, i) => ({
    ...rec,
    key: messages[i]!.key ?? null,
    value: messages[i]!.value,
    tags: messages[i]!.tags ?? [],
  }));
}

/**
 * Reads a partition from `from` up to its end offset (as the fetches report it) in as many fetches as it takes, and
 * checks that the offsets come dense and increasing. Returns the messages and the end offset.
 */
export async function readPartition(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  partition: number,
  from = 0,
): Promise<{ messages: Message[]; endOffset: number; logStartOffset: number }> {
  const messages: Message[] = [];
  let at = from;
  for (let round = 0; round < 10_000; round++) {
    const x = await api.fetch(topic, partition, { offset: at });
    const r = okBody<FetchResult>(ctx, x, 200, `fetching ${topic}/${partition} from ${at}`);
    for (const m of r.messages) {
      ctx.expect(
        m.offset === at,
        `${topic}/${partition}: the fetch from ${from} answered offset ${m.offset} where ${at} was next (offsets must be dense and in order)`,
        x,
      );
      // endOffset is the end of what consumers may read (with replicas, the high watermark): nothing is served past it.
      ctx.expect(
        m.offset < r.endOffset,
        `${topic}/${partition}: the fetch from ${at} answered offset ${m.offset}, at or past the endOffset ${r.endOffset} it reports`,
        x,
      );
      ctx.expect(
        m.topic === topic && m.partition === partition,
        `${topic}/${partition}: offset ${m.offset} says it is from ${m.topic}/${m.partition}`,
        x,
      );
      messages.push(m);
      at++;
    }
    if (at >= r.endOffset || r.messages.length === 0) {
      ctx.expect(
        at >= r.endOffset,
        `${topic}/${partition}: the end offset is ${r.endOffset} but a fetch from ${at} answered no message`,
        x,
      );
      return { messages, endOffset: r.endOffset, logStartOffset: r.logStartOffset };
    }
  }
  ctx.fail(`${topic}/${partition}: still reading after 10,000 fetches`);
}

/**
 * Fails unless `m` is exactly the acknowledged message: same key and value, the spec's size and CRC of that value,
 * and the timestamp the acknowledgement gave.
 */
export function expectSameMessage(ctx: CheckContext, m: Message, a: Acked, where: string): void {
  const show = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
  ctx.expect(
    m.value === a.value,
    `${where}: offset ${m.offset} holds ${show(m.value)}, but ${show(a.value)} was acknowledged there`,
  );
  ctx.expect(
    m.key === a.key,
    `${where}: offset ${m.offset} has key ${JSON.stringify(m.key)}, not ${JSON.stringify(a.key)}`,
  );
  ctx.expect(
    JSON.stringify(m.tags ?? []) === JSON.stringify(a.tags),
    `${where}: offset ${m.offset} has tags ${JSON.stringify(m.tags ?? [])}, not ${JSON.stringify(a.tags)}`,
  );
  const d = digestOf(a.value);
  ctx.expect(m.size === d.size, `${where}: offset ${m.offset} has size ${m.size}; its value is ${d.size} UTF-8 bytes`);
  ctx.expect(m.crc === d.crc, `${where}: offset ${m.offset} has crc ${m.crc}; the CRC-32 of its value is ${d.crc}`);
  ctx.expect(
    m.timestamp === a.timestamp,
    `${where}: offset ${m.offset} has timestamp ${m.timestamp}; produce acknowledged ${a.timestamp}`,
  );
}

/** Fails unless `m` is internally sound: its size and CRC are those of its value (never garbage). */
export function expectIntact(ctx: CheckContext, m: Message, where: string): void {
  const d = digestOf(m.value);
  ctx.expect(
    m.size === d.size && m.crc === d.crc,
    `${where}: offset ${m.offset} fails its CRC (size ${m.size}, crc ${m.crc}; its value gives ${d.size}, ${d.crc})`,
  );
}

/** Checks every acknowledged message is at its place in the topic, read back partition by partition. */
export async function verifyAcked(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  acked: readonly Acked[],
  when: string,
): Promise<Map<number, Message[]>> {
  const partitions = [...new Set(acked.map((a) => a.partition))].sort((a, b) => a - b);
  const read = new Map<number, Message[]>();
  for (const p of partitions) {
    const { messages, logStartOffset } = await readPartition(ctx, api, topic, p);
    ctx.expect(logStartOffset === 0, `${when}: ${topic}/${p} starts at ${logStartOffset}: messages were dropped`);
    read.set(p, messages);
    for (const a of acked.filter((x) => x.partition === p)) {
      const m = messages[a.offset];
      ctx.expect(m, `${when}: ${topic}/${p} offset ${a.offset} was acknowledged but is gone (end ${messages.length})`);
      expectSameMessage(ctx, m, a, `${when}: ${topic}/${p}`);
    }
  }
  return read;
}
