// MQ-F7: two failovers in a row on a partition the first node (in the reference, the controller) neither leads nor
// follows first, then a restart of the first node. The old leader's unacknowledged acks=1 tail must not come back
// beside other data at the same offsets, a broker restarted behind must have caught up before it is in sync (it may be
// elected next), the new leader's first answer still serves what was acknowledged, filtered fetches on a leader that
// got its records by replication answer the model's matches, and partition states survive the first node's restart.
// The tail is an idempotent producer's batch: lost with the failover, its retry must be appended (a broker that cut it
// from its log forgets its sequence too), never answered with the offsets other messages took.
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Acked,
  appendedRecords,
  type FetchResult,
  type MqApi,
  mqApi,
  type OutgoingMessage,
  okBody,
  type ProduceResult,
  produceAcked,
  uniqueName,
  verifyAcked,
} from './api.ts';
import { brokers, describe, following, onNode, stateOf, waitForNewLeader, waitForState } from './cluster-client.ts';
import { firstAnswerOfNewLeader, hwAcrossElection } from './hw-across-election.ts';

/** Reads `p` filtered by `tag` from 0 up to its endOffset and checks the offsets answered are the model's matches. */
async function expectFilteredMatches(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  tag: string,
  acked: readonly Acked[],
  when: string,
): Promise<void> {
  const want = acked.filter((a) => a.partition === p && a.tags.includes(tag)).map((a) => a.offset);
  const got: number[] = [];
  let at = 0;
  for (let round = 0; round < 1000; round++) {
    const x = await api.fetch(topic, p, { offset: at, tags: [tag] });
    const r = okBody<FetchResult>(ctx, x, 200, `${when}: fetching ${topic}/${p} from ${at} filtered by ${tag}`);
    for (const m of r.messages) {
      ctx.expect(
        (m.tags ?? []).includes(tag),
        `${when}: a fetch of ${topic}/${p} filtered by ${tag} answered offset ${m.offset} tagged [${(m.tags ?? []).join(', ')}]`,
        x,
      );
      got.push(m.offset);
    }
    ctx.expect(r.nextOffset > at || r.nextOffset >= r.endOffset, `${when}: a filtered fetch did not move on`, x);
    at = r.nextOffset;
    if (at >= r.endOffset || at > Math.max(...want)) break;
  }
  const missing = want.filter((o) => !got.includes(o));
  ctx.expect(
    missing.length === 0,
    `${when}: a fetch of ${topic}/${p} filtered by ${tag} does not answer offsets ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''} (${missing.length} of ${want.length} acknowledged messages carrying it)`,
  );
}

/** An idempotent batch that must be answered 200 with a record per message; each as acknowledged where it went. */
async function produceIdempotent(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  messages: OutgoingMessage[],
  acks: '1' | 'all',
  producerId: string,
  sequence: number,
  what: string,
): Promise<Acked[]> {
  const x = await api.produce(topic, { acks, messages, producerId, sequence });
  const r = okBody<ProduceResult>(ctx, x, 200, `${what} (producer ${producerId}, sequence ${sequence}, acks ${acks})`);
  ctx.expect(r.records.length === messages.length, `${what}: ${messages.length} sent, ${r.records.length} answered`, x);
  return appendedRecords(ctx, r, x).map((rec, i) => ({
    ...rec,
    key: messages[i]!.key ?? null,
    value: messages[i]!.value,
    tags: messages[i]!.tags ?? [],
  }));
}

export async function failoverChain(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  // First: the window in which a new leader's high watermark could fall back, held open (seen within seconds).
  ctx.evidence.hwAcrossElection = await hwAcrossElection(ctx, nodes);
  const first = nodes[0]!;
  const api = mqApi(ctx, following(ctx));
  const topic = uniqueName('f7');
  // Segments of 64 KiB: the old leader's tail (records of about 40 KB) spans several, so cutting it back reaches into
  // closed segments, not only the active one.
  const created = { name: topic, partitions: 3, replicationFactor: 3, segmentBytes: 65_536 };
  okBody(ctx, await api.createTopic(created), 201, 'creating');
  const t = await describe(ctx, api, topic);
  // A partition whose leader and next replica are not the first node: both can be killed in turn.
  const p = [0, 1, 2].find((x) => {
    const s = stateOf(ctx, t, x, nodes);
    return s.leader !== first && s.replicas!.filter((b) => b !== s.leader)[0] !== first;
  });
  if (p === undefined) ctx.skip('no partition has a leader and a next replica other than the first node');
  const s0 = stateOf(ctx, t, p, nodes);
  const leader = s0.leader!;
  const other = s0.replicas!.find((b) => b !== leader && b !== first)!;
  const msgs = (tag: string, k: number, pad = 0) =>
    Array.from({ length: k }, (_, i) => ({ partition: p, value: `${tag} ${i} ${'x'.repeat(pad)}`, tags: [tag] }));

  const acked = await produceAcked(ctx, api, topic, msgs('f7a', 10), 'all');
  const committed = acked.length;
  // Every broker has said A is below its high watermark (each describes endOffset past it).
  for (const b of nodes)
    await waitForState(
      ctx,
      onNode(ctx, b),
      topic,
      10_000,
      (x) => x.partitionStates[p]!.endOffset >= committed,
      `${b} does not describe ${topic}/${p} past the ${committed} messages acknowledged with acks=all`,
    );

  // The followers stop long enough for any fetch they had open to be answered; the leader then takes an acks=1 tail
  // no follower has, and is killed. The tail was never acknowledged with acks=all: it may go, but never come back
  // at offsets other data took.
  // The tail is a new producer's first batch (no record of it survives anywhere once it is cut): its retry is the
  // producer's first batch again, to be appended where it is answered.
  const producerId = okBody<{ producerId: string }>(ctx, await api.initProducer(), 201, 'initProducer').producerId;
  const tail = msgs('f7t', 5, 40_000);
  const retryTail = async (on: string) =>
    acked.push(
      ...(await produceIdempotent(ctx, api, topic, tail, 'all', producerId, 0, `retrying the tail, led by ${on}`)),
    );
  await ctx.target.pause(other);
  await ctx.target.pause(first);
  ctx.changed(`paused ${other}, ${first}`);
  try {
    await ctx.sleep(1500);
    await produceIdempotent(ctx, onNode(ctx, leader), topic, tail, '1', producerId, 0, 'the tail on the leader');
    await ctx.target.kill(leader);
    ctx.changed(`killed (kill -9) ${leader}`);
  } finally {
    await ctx.target.resume(first);
    await ctx.target.resume(other);
  }
  await firstAnswerOfNewLeader(ctx, topic, p, other, committed, 10_000);
  const t1 = await waitForNewLeader(ctx, api, topic, p, leader);
  const l1 = t1.partitionStates[p]!.leader!;
  await verifyAcked(ctx, api, topic, acked, `after ${leader} was killed and ${l1} took over`);
  await expectFilteredMatches(ctx, api, topic, p, 'f7a', acked, `led by ${l1} after the failover`);

  // While the old leader is down, the new one takes more than a fetch's worth of records (about 3 MB), so the old
  // leader, restarted, is behind for several fetches and holds a tail at offsets the new records took.
  for (let i = 0; i < 3; i++) acked.push(...(await produceAcked(ctx, api, topic, msgs('f7n', 100, 10_000), 'all')));
  await ctx.target.start(leader);
  // Back in the ISR (asked of the leader): in sync means caught up, which the second failover grades (a broker named
  // in sync before it has caught up is seen only if it is still behind when the leader dies; see the spec README).
  const whole = await waitForState(
    ctx,
    onNode(ctx, l1),
    topic,
    60_000,
    (x) => x.partitionStates[p]!.isr?.length === x.partitionStates[p]!.replicas?.length,
    `${topic}/${p}: ${leader} is not back in the ISR`,
  );
  const epochBefore = whole.partitionStates[p]!.leaderEpoch!;
  ctx.evidence.chain = { partition: p, killed: leader, newLeader: l1, secondKill: l1 !== first };
  if (l1 === first) {
    // Only the first node could be killed next: what the old leader holds is graded by its rejoining alone.
    await retryTail(l1);
    await verifyAcked(ctx, api, topic, acked, `after ${leader} rejoined`);
    return;
  }
  // In sync means caught up: the next leader can be the broker that just rejoined, and must hold every message
  // acknowledged with acks=all at its offset (not the old tail), its tags filtered as produced.
  // The restarted broker is stopped for the moment of the kill, so it cannot catch up from the dying leader then:
  // it has what it had when the ISR named it, and that must be everything acknowledged.
  await ctx.target.pause(leader);
  try {
    await ctx.target.kill(l1);
  } finally {
    await ctx.target.resume(leader);
  }
  ctx.changed(`killed (kill -9) ${l1}`);
  const t2 = await waitForNewLeader(ctx, api, topic, p, l1);
  const l2 = t2.partitionStates[p]!.leader!;
  const epoch2 = t2.partitionStates[p]!.leaderEpoch!;
  ctx.expect(epoch2 > epochBefore, `${topic}/${p}: the leader moved to ${l2} but its epoch ${epoch2} did not grow`);
  // Before the tail's retry: the new leader holds every acknowledged message at its offset (no part of the old tail).
  await verifyAcked(ctx, api, topic, acked, `after ${l1} was killed too, led by ${l2}, before the tail's retry`);
  // On the reference l2 is the old leader, whose log cut the tail when it rejoined: the retry is graded on it.
  await retryTail(l2);
  ctx.evidence.tailRetriedOnOldLeader = l2 === leader;
  await verifyAcked(ctx, api, topic, acked, `after ${l1} was killed too, led by ${l2}`);
  for (const tag of ['f7a', 'f7n', 'f7t'])
    await expectFilteredMatches(ctx, api, topic, p, tag, acked, `led by ${l2} after the second failover`);

  // The first node (the controller of the reference) restarts: leaders, epochs and ISRs are as they were (an epoch
  // never goes back, a dead broker does not lead again).
  await ctx.target.kill(first);
  ctx.changed(`killed (kill -9) ${first}`);
  await ctx.target.start(first);
  const t3 = await waitForState(
    ctx,
    api,
    topic,
    30_000,
    (x) => x.partitionStates[p]!.leaderEpoch !== undefined,
    `${topic}/${p}: not described after ${first} restarted`,
  );
  const s3 = t3.partitionStates[p]!;
  ctx.expect(
    s3.leaderEpoch! >= epoch2 && s3.leader !== l1 && !(s3.isr ?? []).includes(l1),
    `${topic}/${p}: after ${first} restarted it is described led by ${s3.leader} in epoch ${s3.leaderEpoch} with ISR [${(s3.isr ?? []).join(', ')}]; before, ${l2} led it in epoch ${epoch2} and ${l1} was down (an epoch never goes back)`,
  );
  await verifyAcked(ctx, api, topic, acked, `after ${first} restarted`);
  await ctx.target.start(l1);
  ctx.evidence.chain = { partition: p, killed: leader, newLeader: l1, nextLeader: l2, secondKill: true };
}
