// MQ-F9: the ISR around a failover, with one replica kept behind by a slow link instead of a pause. The first node
// (in the reference, the controller: it must stay up to elect leaders) gets the other brokers' answers at a trickle
// (a Toxiproxy bandwidth toxic on its links to them), so it cannot catch up while it keeps answering health checks.
// Each race is then decided by a failover: the first node is elected only if it is in the ISR when the leader stops,
// and what it lacks must then be nothing a client was given (acknowledged with acks=all, or fetched).
import type { CheckContext } from '../../core/check-context.ts';
import type { FaultProxy } from '../../core/network-faults.ts';
import {
  type Acked,
  type FetchResult,
  type MqApi,
  mqApi,
  okBody,
  produceAcked,
  type Topic,
  uniqueName,
  verifyAcked,
} from './api.ts';
import {
  bound,
  brokers,
  describe,
  following,
  onNode,
  produceRetrying,
  stateOf,
  waitForFullIsr,
  waitForState,
} from './cluster-client.ts';
import { fetchingReplicaLeavesIsr } from './isr-lag.ts';

/** KB/s the first node receives from the others: a follower fetch of the tails below takes far longer than 30 s. */
const TRICKLE_KBS = 4;
/** Values of 30,000 characters: six are 180 KB, most of a minute through the trickle. */
const BIG = 30_000;

type Linked = { link?: (from: string, to: string) => FaultProxy | undefined };

/** Slows what `to` answers `from` (the downstream of the link `from` uses) until the returned function is called. */
export async function trickle(
  ctx: CheckContext,
  from: string,
  to: readonly string[],
  kbs = TRICKLE_KBS,
): Promise<() => Promise<void>> {
  ctx.require('network-faults');
  const added: [FaultProxy, string][] = [];
  const undo = async () => {
    for (const [p, name] of added.splice(0)) await p.removeToxic(name).catch(() => {});
  };
  for (const b of to) {
    const link = (ctx.target as unknown as Linked).link?.(from, b);
    if (!link) {
      await undo();
      ctx.skip(
        `the links between the brokers are not proxied (${from} -> ${b}): no slow link to keep a replica behind`,
      );
    }
    added.push([link, await link.addToxic({ type: 'bandwidth', stream: 'downstream', attributes: { rate: kbs } })]);
  }
  ctx.changed(`${from} receives from ${to.join(', ')} at ${kbs} KB/s`);
  return undo;
}

/** A new topic and one of its partitions the first node does not lead: its leader and the other (non-first) replica. */
export async function racePartition(ctx: CheckContext, api: MqApi, nodes: readonly string[], prefix: string) {
  const first = nodes[0]!;
  const topic = uniqueName(prefix);
  okBody(ctx, await api.createTopic({ name: topic, partitions: 3, replicationFactor: 3 }), 201, 'creating');
  const t = await describe(ctx, api, topic);
  const p = [0, 1, 2].find((x) => stateOf(ctx, t, x, nodes).leader !== first);
  if (p === undefined) ctx.skip(`the first node leads every partition of ${topic}`);
  const leader = stateOf(ctx, t, p, nodes).leader!;
  const other = nodes.find((b) => b !== first && b !== leader)!;
  const msgs = (tag: string, k: number, pad = 0) =>
    Array.from({ length: k }, (_, i) => ({ partition: p, value: `${tag} ${i} ${'x'.repeat(pad)}` }));
  return { topic, p, leader, other, first, msgs };
}

/**
 * With `paused` stopped (SIGSTOP), waits until the partition is led by another broker or its ISR no longer names
 * `candidate` (then nothing will change: no in-sync replica is up), bounded like any failover.
 */
async function failoverOrNone(
  ctx: CheckContext,
  topic: string,
  p: number,
  paused: string,
  candidate: string,
): Promise<Topic> {
  return waitForState(
    ctx,
    onNode(ctx, candidate),
    topic,
    30_000,
    (x) => x.partitionStates[p]!.leader !== paused || !x.partitionStates[p]!.isr?.includes(candidate),
    `${topic}/${p}: ${paused} was stopped while ${candidate} was in the ISR, yet neither leads another broker nor leaves the ISR`,
  );
}

/** Fetched messages as the model keeps acknowledged ones: each must stay at its offset (a fetched message survives). */
const asAcked = (r: FetchResult): Acked[] =>
  r.messages.map((m) => ({
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key ?? null,
    value: m.value,
    tags: m.tags ?? [],
  }));

/**
 * The first node in the ISR but without an acks=1 tail the other follower has: the leader dies, the other follower is
 * elected, and its first answers may serve only what every in-sync replica has, so not the tail (its high watermark
 * starts where it last heard it, not at its log end). Then the new leader stops and the first node, still in the ISR
 * and still behind, is elected: every message fetched before must be there.
 */
async function newLeaderServesOnlyCommitted(ctx: CheckContext, api: MqApi, nodes: readonly string[]): Promise<void> {
  const { topic, p, leader, other, first, msgs } = await racePartition(ctx, api, nodes, 'f9a');
  const acked = await produceAcked(ctx, api, topic, msgs('f9a', 10), 'all');
  for (const b of nodes)
    await waitForState(
      ctx,
      onNode(ctx, b),
      topic,
      10_000,
      (x) => x.partitionStates[p]!.endOffset >= acked.length,
      `${b} does not describe ${topic}/${p} past the ${acked.length} messages acknowledged with acks=all`,
    );
  const undo = await trickle(ctx, first, [leader, other]);
  let fetched: Acked[] = [];
  let firstEnd = 0;
  try {
    // The tail reaches the other follower at once; the first node, in the ISR for the lag period yet, is stuck on it.
    await produceAcked(ctx, onNode(ctx, leader), topic, msgs('f9t', 6, BIG), '1');
    await ctx.sleep(300);
    await ctx.target.kill(leader);
    ctx.changed(`killed (kill -9) ${leader}`);
    // The new leader's first answer, polled from the kill on; then it stops at once, the first node still in its ISR.
    const direct = onNode(ctx, other);
    const until = Date.now() + bound(30_000);
    for (;;) {
      const x = await direct.fetch(topic, p, { offset: acked.length, maxWait: 0 });
      if (x.status === 200) {
        fetched = asAcked(x.body as FetchResult);
        firstEnd = (x.body as FetchResult).endOffset;
        break;
      }
      if (Date.now() > until)
        ctx.fail(`${topic}/${p}: ${other} never answered a fetch itself after ${leader} was killed`);
      await ctx.sleep(5);
    }
    await ctx.target.pause(other);
    ctx.changed(`paused ${other}`);
    try {
      const t = await failoverOrNone(ctx, topic, p, other, first);
      ctx.evidence.tailRace = {
        newLeaderFirstEnd: firstEnd,
        served: fetched.length,
        electedNext: t.partitionStates[p]!.leader,
        isr: t.partitionStates[p]!.isr,
      };
    } finally {
      await ctx.target.resume(other);
    }
  } finally {
    await undo();
  }
  await ctx.target.start(leader);
  await verifyAcked(ctx, api, topic, acked, `after ${leader} was killed and ${other} stopped`);
  await verifyAcked(
    ctx,
    api,
    topic,
    fetched,
    `after ${other} stopped: messages its first answer as the new leader served (a fetched message survives the loss of its leader; consumers read only what every in-sync replica has)`,
  );
  await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: the replicas are not all back in the ISR`);
}

/**
 * The first node behind and out of the ISR; acks=all batches are acknowledged by the other two. The leader dies and
 * the other follower is elected: the first node must not be named in sync (not by the election, not by a fetch before
 * it has caught up). The new leader then stops within the lag period: unless the first node is in the ISR, nothing
 * is elected; if it is, it must hold every acknowledged message.
 */
async function behindReplicaStaysOut(ctx: CheckContext, api: MqApi, nodes: readonly string[]): Promise<void> {
  const { topic, p, leader, other, first, msgs } = await racePartition(ctx, api, nodes, 'f9b');
  const undo = await trickle(ctx, first, [leader, other]);
  const acked: Acked[] = [];
  try {
    await produceAcked(ctx, onNode(ctx, leader), topic, msgs('f9f', 8, BIG), '1');
    await waitForState(
      ctx,
      onNode(ctx, leader),
      topic,
      15_000,
      (x) => !x.partitionStates[p]!.isr?.includes(first),
      `${topic}/${p}: ${first} is behind by 240 KB it receives at ${TRICKLE_KBS} KB/s, yet ${leader} keeps it in the ISR`,
    );
    acked.push(...(await produceRetrying(ctx, api, topic, p, ['f9b 0', 'f9b 1', 'f9b 2', 'f9b 3'], 30_000)));
    await ctx.target.kill(leader);
    ctx.changed(`killed (kill -9) ${leader}`);
    await waitForState(
      ctx,
      onNode(ctx, first),
      topic,
      30_000,
      (x) => x.partitionStates[p]!.leader === other,
      `${topic}/${p}: ${other} was not elected after ${leader} was killed`,
    );
    // Within the lag period of the election (unscaled: a later stop only makes a wrong ISR less likely to be seen),
    // until the first node's first fetches have reached the new leader.
    const until = Date.now() + 1500;
    let isr: string[] = [];
    while (Date.now() < until) {
      const x = await onNode(ctx, first).describeTopic(topic);
      if (x.status === 200) isr = (x.body as Topic).partitionStates[p]!.isr ?? [];
      if (isr.includes(first)) break;
      await ctx.sleep(10);
    }
    ctx.evidence.isrWhenNewLeaderStopped = isr;
    await ctx.target.pause(other);
    ctx.changed(`paused ${other}`);
    try {
      const t = await failoverOrNone(ctx, topic, p, other, first);
      ctx.evidence.behindRace = { electedNext: t.partitionStates[p]!.leader, isr: t.partitionStates[p]!.isr };
    } finally {
      await ctx.target.resume(other);
    }
  } finally {
    await undo();
  }
  await ctx.target.start(leader);
  await verifyAcked(ctx, api, topic, acked, `after ${leader} was killed and ${other} stopped (${first} was behind)`);
  await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: the replicas are not all back in the ISR`);
}

export async function isrRaces(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  ctx.require('network-faults');
  const api = mqApi(ctx, following(ctx));
  await newLeaderServesOnlyCommitted(ctx, api, nodes);
  await behindReplicaStaysOut(ctx, api, nodes);
  await fetchingReplicaLeavesIsr(ctx, api, nodes);
}
