// MQ-C11 and MQ-F8: the idempotent producer. A producer whose answer was lost retries the very batch it sent (to the
// broker a retry is that: the same batch again), so every retry here is the same request repeated, and the log is
// then read whole: each message must be in it exactly once, in the order sent. MQ-F8 repeats the retries across a
// kill -9 and restart of the broker, or, on a cluster, across the failover of the partition's leader.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  type AppendedRecord,
  appendedRecords,
  freshTopic,
  type MqApi,
  mqApi,
  okBody,
  type ProduceResult,
  partitionOfKey,
  readPartition,
} from './api.ts';
import { bound, brokers, describe, following, stateOf, waitForNewLeader } from './cluster-client.ts';

/** What the spec promises a producer ID looks like. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One producer's view: its ID, and per partition the next sequence and every value it had acknowledged, in order. */
interface Producer {
  id: string;
  name: string;
  next: Map<number, number>;
}

/** A batch as sent: kept so a retry is the identical request. */
interface Sent {
  producer: Producer;
  partition: number;
  sequence: number;
  values: string[];
  acks: 'all' | '1' | '0';
}

export async function newProducer(ctx: CheckContext, api: MqApi, name: string): Promise<Producer> {
  const x = await api.initProducer();
  const id = okBody<{ producerId: string }>(ctx, x, 201, `taking a producer ID for ${name}`).producerId;
  ctx.expect(UUID.test(id), `${name}'s producer ID ${JSON.stringify(id)} is not a lower-case UUID`, x);
  return { id, name, next: new Map() };
}

/** The next batch of `producer` to `partition` (its sequence counted here, never taken from the broker). */
function nextBatch(producer: Producer, partition: number, values: string[], acks: Sent['acks'] = 'all'): Sent {
  const sequence = producer.next.get(partition) ?? 0;
  producer.next.set(partition, sequence + values.length);
  return { producer, partition, sequence, values, acks };
}

function send(api: MqApi, topic: string, b: Sent): Promise<Exchange> {
  return api.produce(topic, {
    acks: b.acks,
    producerId: b.producer.id,
    sequence: b.sequence,
    messages: b.values.map((value) => ({ partition: b.partition, value })),
  });
}

/** Sends `b` (the first time or again); it must be answered 200 with one record per message, on its partition. */
async function sendAcked(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  b: Sent,
  what: string,
): Promise<AppendedRecord[]> {
  const x = await send(api, topic, b);
  const r = okBody<ProduceResult>(
    ctx,
    x,
    200,
    `${what}: ${b.producer.name}'s batch ${b.sequence} to ${topic}/${b.partition}`,
  );
  ctx.expect(
    r.records.length === b.values.length,
    `${what}: ${b.values.length} messages, ${r.records.length} records`,
    x,
  );
  const records = appendedRecords(ctx, r, x);
  for (const rec of records)
    ctx.expect(
      rec.partition === b.partition,
      `${what}: a record of a batch to partition ${b.partition} names ${rec.partition}`,
      x,
    );
  return records;
}

/** A retry of `b` must be answered with the records its first send got: the same offsets and timestamps. */
async function expectSameAnswer(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  b: Sent,
  first: readonly AppendedRecord[],
  what: string,
): Promise<void> {
  const again = await sendAcked(ctx, api, topic, b, what);
  const show = (rs: readonly AppendedRecord[]) => rs.map((r) => `${r.offset}@${r.timestamp}`).join(', ');
  ctx.expect(
    show(again) === show(first),
    `${what}: ${b.producer.name}'s batch ${b.sequence} to ${topic}/${b.partition} was first answered with offsets ${show(first)}, its retry with ${show(again)}: a retried batch must get its original records, not a second append`,
  );
}

/**
 * A batch whose sequence is not the next one must be refused 409 out_of_order_sequence, appending nothing, and the
 * 409 must name as `expectedSequence` the producer's next sequence there (the model's: refused batches never count).
 */
async function expectRefused(ctx: CheckContext, api: MqApi, topic: string, b: Sent, what: string): Promise<void> {
  const x = await send(api, topic, b);
  const body = x.body as { code?: string; expectedSequence?: unknown } | undefined;
  ctx.expect(
    x.status === 409 && body?.code === 'out_of_order_sequence',
    `${what}: ${b.producer.name}'s batch with sequence ${b.sequence} to ${topic}/${b.partition} answered ${x.status ?? x.error} ${body?.code ?? ''}, not 409 out_of_order_sequence`,
    x,
  );
  const expected = b.producer.next.get(b.partition) ?? 0;
  ctx.expect(
    body?.expectedSequence === expected,
    `${what}: the 409 for ${b.producer.name}'s sequence ${b.sequence} on ${topic}/${b.partition} names expectedSequence ${JSON.stringify(body?.expectedSequence)}; its acknowledged batches there end at ${expected}`,
    x,
  );
}

/**
 * Reads the partition whole: its values must be exactly `expected`, in order, each once. `expected` is the model:
 * every batch acknowledged to this partition, in the order acknowledged.
 */
async function expectLog(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  partition: number,
  expected: readonly string[],
  what: string,
): Promise<void> {
  const { messages } = await readPartition(ctx, api, topic, partition);
  const got = messages.map((m) => m.value);
  const twice = got.filter((v, i) => got.indexOf(v) !== i);
  ctx.expect(
    twice.length === 0,
    `${what}: ${topic}/${partition} holds ${JSON.stringify(twice.slice(0, 3))} more than once (${got.length} messages): a retried batch was appended again`,
  );
  ctx.expect(
    JSON.stringify(got) === JSON.stringify(expected),
    `${what}: ${topic}/${partition} holds ${JSON.stringify(got)}, not ${JSON.stringify(expected)} (every acknowledged message once, in order)`,
  );
}

const values = (tag: string, k: number) => Array.from({ length: k }, (_, i) => `${tag} ${i} ü😀`);

export async function idempotentProduce(ctx: CheckContext): Promise<void> {
  // Through redirects: on a cluster the batch goes to the partition's leader, where the producer's state is.
  const api = mqApi(ctx, following(ctx));
  const topic = await freshTopic(ctx, api, 2, {}, 'c11');
  const a = await newProducer(ctx, api, 'producer A');
  const b = await newProducer(ctx, api, 'producer B');
  ctx.expect(a.id !== b.id, `two initProducer calls answered the same ID ${a.id}`);
  const log: string[][] = [[], []];
  const acked = async (s: Sent, what: string) => {
    const r = await sendAcked(ctx, api, topic, s, what);
    log[s.partition]!.push(...s.values);
    return r;
  };

  // A batch, its answer "lost": the same batch again, and again, gets the same records.
  const a0 = nextBatch(a, 0, values('A0', 3));
  const a0r = await acked(a0, 'the first send');
  await expectSameAnswer(ctx, api, topic, a0, a0r, 'a retry');
  await expectSameAnswer(ctx, api, topic, a0, a0r, 'a second retry');
  // The next batch continues; a retry of the one before it (still among the last 5) keeps its records too.
  const a1 = nextBatch(a, 0, values('A1', 2), '1');
  const a1r = await acked(a1, 'the next batch');
  ctx.expect(
    a1r[0]!.offset === a0r.at(-1)!.offset + 1,
    `the next batch starts at ${a1r[0]!.offset}, not right after the first`,
  );
  await expectSameAnswer(ctx, api, topic, a0, a0r, 'a late retry of the first batch');
  // A retry with acks 0 is taken (202) and appends nothing either (the reads of the log below find it once).
  const quiet = await send(api, topic, { ...a1, acks: '0' });
  ctx.expect(
    quiet.status === 202,
    `a retry of the next batch with acks 0 answered ${quiet.status ?? quiet.error}, not 202`,
    quiet,
  );
  // Two sends of one batch at once (a retry racing the original): one append, both answered with its records.
  const a2 = nextBatch(a, 0, values('A2', 4));
  const [r1, r2] = await Promise.all([send(api, topic, a2), send(api, topic, a2)]);
  const race = [r1, r2].map((x) =>
    appendedRecords(ctx, okBody<ProduceResult>(ctx, x, 200, 'a batch sent twice at once'), x),
  );
  ctx.expect(
    JSON.stringify(race[0]) === JSON.stringify(race[1]),
    `one batch sent twice at once was answered with different records: ${JSON.stringify(race)}`,
  );
  log[0]!.push(...a2.values);

  // A gap (a batch lost in between), a batch overlapping the last one, a new producer starting past 0: refused.
  const gap: Sent = { producer: a, partition: 0, sequence: a.next.get(0)! + 2, values: ['A gap'], acks: 'all' };
  await expectRefused(ctx, api, topic, gap, 'a sequence gap');
  await expectRefused(
    ctx,
    api,
    topic,
    { ...a2, sequence: a2.sequence + 1, values: values('A-overlap', 3) },
    'a batch overlapping the last',
  );
  const late = await newProducer(ctx, api, 'producer C');
  await expectRefused(
    ctx,
    api,
    topic,
    { producer: late, partition: 0, sequence: 5, values: ['C first'], acks: 'all' },
    'a new producer starting at 5',
  );
  // The same sequence with another number of messages is no repeat (a repeat is the same sequence, as many
  // messages): refused, whether it is shorter than the first batch or longer than the last.
  await expectRefused(
    ctx,
    api,
    topic,
    { ...a0, values: values('A0-short', a0.values.length - 1) },
    "a batch with the first batch's sequence and fewer messages",
  );
  await expectRefused(
    ctx,
    api,
    topic,
    { ...a2, values: values('A2-long', a2.values.length + 1) },
    "a batch with the last batch's sequence and more messages",
  );
  await expectLog(ctx, api, topic, 0, log[0]!, 'after the refused batches');

  // Independent: A's sequences on partition 1 start at 0 again, and B's on partition 0 too.
  const ap1 = nextBatch(a, 1, values('A-p1', 2));
  await acked(ap1, "A's first batch to partition 1");
  await acked(nextBatch(b, 0, values('B0', 2)), "B's first batch to partition 0");
  await acked(nextBatch(a, 0, values('A3', 1)), "A's next batch to partition 0 after B's");
  // And on another topic's partition 0 too: A's first batch there starts at 0 and is appended (a new topic's log).
  const other = await freshTopic(ctx, api, 1, {}, 'c11b');
  const first = values('A-other', a0.values.length);
  await sendAcked(
    ctx,
    api,
    other,
    { producer: a, partition: 0, sequence: 0, values: first, acks: 'all' },
    "A's first batch to another topic",
  );
  await expectLog(ctx, api, other, 0, first, "after A's first batch to another topic");

  // The broker remembers a producer's last 5 batches on a partition: after 5 more, a retry of the one before them
  // is refused (409) and never appended again, while the oldest of the 5 still gets its records.
  const five: { s: Sent; r: AppendedRecord[] }[] = [];
  for (let i = 1; i <= 5; i++) {
    // acks=all: on a cluster an acks=1 answer comes before the followers have the batch, and a read sees only what
    // every in-sync replica holds (the end's read missed the last two in CI, 2026-12-06)
    const s = nextBatch(a, 1, [`A-p1 ${i}`]);
    five.push({ s, r: await acked(s, `A's batch ${i + 1} to partition 1`) });
  }
  await expectRefused(ctx, api, topic, ap1, "a retry of a batch older than its producer's last 5");
  await expectSameAnswer(ctx, api, topic, five[0]!.s, five[0]!.r, "a retry of the oldest of its producer's last 5");

  // Validation: both fields or neither; an idempotent batch goes to one partition.
  const half = await ctx.http.send({
    method: 'POST',
    path: `/api/v1/topics/${encodeURIComponent(topic)}/messages`,
    json: { producerId: a.id, messages: [{ partition: 0, value: 'no sequence' }] },
    validRequest: false,
  });
  ctx.expect(
    half.status === 400,
    `a producerId without a sequence answered ${half.status ?? half.error}, not 400`,
    half,
  );
  const two = await api.produce(topic, {
    producerId: b.id,
    sequence: b.next.get(0)!,
    messages: [
      { partition: 0, value: 'to 0' },
      { partition: 1, value: 'to 1' },
    ],
  });
  ctx.expect(
    two.status === 422 && (two.body as { code?: string }).code === 'several_partitions',
    `an idempotent batch to two partitions answered ${two.status ?? two.error}, not 422 several_partitions`,
    two,
  );
  // So does one whose keys (no explicit partition) hash to two partitions.
  const keyOf = (p: number) => {
    for (let i = 0; ; i++) if (partitionOfKey(`c11-key-${i}`, 2) === p) return `c11-key-${i}`;
  };
  const keyed = await api.produce(topic, {
    producerId: b.id,
    sequence: b.next.get(0)!,
    messages: [
      { key: keyOf(0), value: 'keyed to 0' },
      { key: keyOf(1), value: 'keyed to 1' },
    ],
  });
  ctx.expect(
    keyed.status === 422 && (keyed.body as { code?: string }).code === 'several_partitions',
    `an idempotent batch whose keys hash to two partitions answered ${keyed.status ?? keyed.error}, not 422 several_partitions`,
    keyed,
  );
  for (const p of [0, 1]) await expectLog(ctx, api, topic, p, log[p]!, 'at the end');
  ctx.evidence.idempotent = { producers: 3, messages: log.flat().length };
}

/** MQ-F8: retries across a kill -9 and restart (one broker), or across a leader's failover (a cluster). */
export async function idempotentAcrossFaults(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const cluster = ctx.target.nodes.length >= 3;
  const nodes = cluster ? brokers(ctx, 3) : [];
  const api = mqApi(ctx, following(ctx));
  // Small segments (the spec's least segmentBytes), so the producer's batches span several segment files and its
  // state must come back from the closed ones as well as the active one.
  const topic = await freshTopic(
    ctx,
    api,
    3,
    { segmentBytes: 1024, ...(cluster ? { replicationFactor: 3 } : {}) },
    'f8',
  );
  // On a cluster, a partition whose leader is not the first node (the node the harness talks to stays up).
  let p = 0;
  let leader: string | undefined;
  if (cluster) {
    const t = await describe(ctx, api, topic);
    const found = [0, 1, 2].find((x) => stateOf(ctx, t, x, nodes).leader !== nodes[0]);
    if (found === undefined) ctx.skip('no partition is led by another broker than the first node');
    p = found;
    leader = stateOf(ctx, t, p, nodes).leader!;
  }
  const a = await newProducer(ctx, api, 'producer A');
  const log: string[] = [];
  const sent: { batch: Sent; records: AppendedRecord[] }[] = [];
  for (let i = 0; i < 4; i++) {
    const batch = nextBatch(a, p, values(`F${i}`, 5), i % 2 ? '1' : 'all');
    sent.push({ batch, records: await sendAcked(ctx, api, topic, batch, 'before the fault') });
    log.push(...batch.values);
  }
  // The last batch goes out with acks=all, so every in-sync replica has it before the fault.
  const last = nextBatch(a, p, values('F-last', 3), 'all');
  sent.push({ batch: last, records: await sendAcked(ctx, api, topic, last, 'before the fault') });
  log.push(...last.values);

  let when: string;
  if (leader) {
    await ctx.target.kill(leader);
    ctx.changed(`killed (kill -9) ${leader}, the leader of ${topic}/${p}`);
    const after = await waitForNewLeader(ctx, api, topic, p, leader);
    when = `after ${leader} was killed and ${after.partitionStates[p]!.leader} took over`;
  } else {
    await ctx.target.kill();
    const down = await api.describeTopic(topic);
    ctx.expect(down.status === null, 'the broker still answered after kill -9: the fault did not bite');
    await ctx.target.start();
    ctx.changed('killed (kill -9) and restarted the broker');
    when = 'after kill -9 and a restart';
  }
  // The answer to the last batch was "lost" in the fault: it is retried (a 503 while the ISR regrows is retried
  // too, bounded: the spec's answer to it), and must get its original records, as must the ones before it.
  const until = Date.now() + bound(30_000);
  for (;;) {
    const x = await send(api, topic, last);
    if (x.status !== 503 || Date.now() > until) break;
    await ctx.sleep(500);
  }
  for (const s of [...sent].reverse()) await expectSameAnswer(ctx, api, topic, s.batch, s.records, `${when}, a retry`);
  // The producer goes on where it was; a gap is still refused.
  const next = nextBatch(a, p, values('F-next', 2));
  const nr = await sendAcked(ctx, api, topic, next, `${when}, the next batch`);
  ctx.expect(
    nr[0]!.offset === sent.at(-1)!.records.at(-1)!.offset + 1,
    `${when}: the producer's next batch took offset ${nr[0]!.offset}, not the one after its last acknowledged batch`,
  );
  log.push(...next.values);
  const gap: Sent = { producer: a, partition: p, sequence: a.next.get(p)! + 1, values: ['gap'], acks: 'all' };
  await expectRefused(ctx, api, topic, gap, `${when}, a gap`);
  await expectLog(ctx, api, topic, p, log, when);
  if (leader) await ctx.target.start(leader);
  ctx.evidence.idempotentFault = {
    fault: leader ? `failover of ${leader}` : 'kill -9 and restart',
    partition: p,
    messages: log.length,
  };
}
