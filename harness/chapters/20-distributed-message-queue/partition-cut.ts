// MQ-F10: a network partition between brokers. The links between a partition's leader and one follower are cut both
// ways (the harness's fault proxy), while both still reach the first node (the reference's controller) and every
// client. Two topics share the placement: one with the default minInsyncReplicas (2), one with 3. The book's
// promises: acks=all is never answered while the ISR names a replica that cannot have the batch; the cut follower
// leaves the ISR within the lag period; then acks=all is answered where the ISR still holds the minimum and refused
// (503 not_enough_replicas) where it does not; after the heal the follower catches up and rejoins the ISR, and
// every acknowledged message is on it: the leader is killed once the ISR is whole, and its successor serves them all.
// Before that, a leader cut off from the controller, every other broker and etcd (leader-isolation.ts).
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import type { FaultProxy } from '../../core/network-faults.ts';
import {
  type Acked,
  appendedRecords,
  type MqApi,
  mqApi,
  okBody,
  type ProduceResult,
  produceAcked,
  type Topic,
  uniqueName,
  verifyAcked,
} from './api.ts';
import {
  brokers,
  describe,
  following,
  onNode,
  produceRetrying,
  stateOf,
  waitForFullIsr,
  waitForNewLeader,
  waitForState,
} from './cluster-client.ts';
import { isolatedLeaderFenced } from './leader-isolation.ts';

/** The spec README's REPLICA_LAG_MS (3 s), doubled for the ISR change to be made and stored (scaled by `bound`). */
const LAG_BOUND_MS = 6000;

type Linked = { link?: (from: string, to: string) => FaultProxy | undefined };

const isNotEnough = (x: Exchange) =>
  x.status === 503 && (x.body as { code?: string } | undefined)?.code === 'not_enough_replicas';

/**
 * An acks=all batch of one message; its answer, when it came, and for a 200 the ISR as the first node and the leader
 * describe it the moment it came (never failing here: the caller judges it).
 */
async function acksAll(ctx: CheckContext, api: MqApi, leader: string, topic: string, p: number, value: string) {
  const x = await api.produce(topic, { acks: 'all', messages: [{ partition: p, value }] });
  const answeredAt = Date.now();
  const views =
    x.status === 200 ? await Promise.all([api, onNode(ctx, leader)].map((v) => v.describeTopic(topic))) : [];
  const isrs = views.map((v) => (v.status === 200 ? ((v.body as Topic).partitionStates[p]?.isr ?? []) : []));
  return { x, value, answeredAt, views, isrs };
}

/** The acknowledged records of an acks=all answer 200, as the model keeps them. */
const ackedOf = (ctx: CheckContext, topic: string, a: { x: Exchange; value: string }): Acked[] =>
  appendedRecords(ctx, okBody<ProduceResult>(ctx, a.x, 200, `acks=all to ${topic}`), a.x).map((r) => ({
    ...r,
    key: null,
    value: a.value,
    tags: [],
  }));

export async function partitionBetweenBrokers(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  ctx.require('network-faults');
  // First, so that a leader acknowledging alone shows within seconds; its leader changes precede this part's topics.
  ctx.evidence.leaderIsolation = await isolatedLeaderFenced(ctx, nodes);
  const api = mqApi(ctx, following(ctx));
  const lenient = uniqueName('f10');
  const strict = uniqueName('f10s');
  okBody(ctx, await api.createTopic({ name: lenient, partitions: 3, replicationFactor: 3 }), 201, 'creating');
  okBody(
    ctx,
    await api.createTopic({ name: strict, partitions: 3, replicationFactor: 3, minInsyncReplicas: 3 }),
    201,
    'creating',
  );
  // The leader and the cut follower are not the first node; the follower is next in the replica list (on the
  // reference the first in the ISR after the leader: the one a failover elects, so its copy is read at the end).
  const t = await describe(ctx, api, lenient);
  const p = [0, 1, 2].find((x) => {
    const s = stateOf(ctx, t, x, nodes);
    return s.leader !== nodes[0] && s.replicas!.filter((b) => b !== s.leader)[0] !== nodes[0];
  });
  // Skipped, not failed, when no partition fits: which broker leads what is the target's placement, not a promise of
  // the spec, and cutting the first node (the controller) would grade a controller partition, a fault this check
  // does not make. On the reference's placement a partition always fits (the grade test asserts MQ-F10 passes).
  if (p === undefined) ctx.skip(`every partition of ${lenient} has the first node as its leader or first follower`);
  const s = stateOf(ctx, t, p, nodes);
  const leader = s.leader!;
  const cut = s.replicas!.filter((b) => b !== leader)[0]!;
  const ts = await describe(ctx, api, strict);
  const q = [0, 1, 2].find((x) => stateOf(ctx, ts, x, nodes).leader === leader);
  if (q === undefined) ctx.skip(`no partition of ${strict} is led by ${leader}, the leader of ${lenient}/${p}`);
  const links = [
    (ctx.target as unknown as Linked).link?.(cut, leader),
    (ctx.target as unknown as Linked).link?.(leader, cut),
  ];
  // A cluster whose brokers talk directly (no fault proxy between them) cannot be partitioned here: skipped, never passed.
  if (!links[0] || !links[1])
    ctx.skip(`the links between the brokers are not proxied (${cut} <-> ${leader}): no partition to make`);

  const acked = await produceAcked(ctx, api, lenient, [{ partition: p, value: 'f10 before' }], 'all');
  const ackedStrict = await produceAcked(ctx, api, strict, [{ partition: q, value: 'f10s before' }], 'all');
  for (const l of links) await l!.setEnabled(false);
  const cutAt = Date.now();
  ctx.changed(`cut the links between ${cut} and ${leader}, both ways`);
  const outcome: Record<string, unknown> = { partition: p, leader, cut };
  try {
    // Sent at once: neither may be answered 200 while the ISR names the cut follower (it cannot have the batch).
    const during = acksAll(ctx, api, leader, lenient, p, 'f10 cut, acks all');
    const duringStrict = acksAll(ctx, api, leader, strict, q, 'f10s cut, acks all');
    acked.push(...(await produceAcked(ctx, api, lenient, [{ partition: p, value: 'f10 cut, acks 1' }], '1')));
    await waitForState(
      ctx,
      onNode(ctx, leader),
      lenient,
      LAG_BOUND_MS,
      (x) => !x.partitionStates[p]!.isr?.includes(cut),
      `${lenient}/${p}: ${cut} has been cut off from its leader ${leader}, yet the leader still names it in the ISR`,
    );
    outcome.leftIsrAfterMs = Date.now() - cutAt;
    const [a, b] = await Promise.all([during, duringStrict]);
    outcome.acksAllDuringCut = { status: a.x.status ?? a.x.error, afterMs: a.answeredAt - cutAt };
    outcome.acksAllDuringCutStrict = { status: b.x.status ?? b.x.error, afterMs: b.answeredAt - cutAt };
    if (a.x.status === 200) {
      const got = ackedOf(ctx, lenient, a);
      // Answered: the cut follower cannot have it, so the ISR must have let it go by then (described at the answer).
      ctx.expect(
        !a.isrs.every((isr) => isr.includes(cut)),
        `acks=all acknowledged ${lenient}/${p} offset ${got[0]?.offset} ${a.answeredAt - cutAt} ms after ${cut} was cut off from ${leader}, yet the ISR still names it (${a.isrs.map((i) => `[${i.join(', ')}]`).join(' and ')}): an in-sync replica lacked the record`,
        a.views[1],
      );
      acked.push(...got);
    } else
      ctx.expect(
        a.x.status === null || isNotEnough(a.x),
        `acks=all to ${lenient}/${p} during the cut answered ${a.x.status}, not 200 or 503 not_enough_replicas`,
        a.x,
      );
    ctx.expect(
      b.x.status === null || isNotEnough(b.x),
      `acks=all to ${strict}/${q} (minInsyncReplicas 3) answered ${b.x.status} while ${cut} was cut off from its leader ${leader}: three in-sync copies cannot have existed, so 503 not_enough_replicas (or no answer)`,
      b.x,
    );
    // With the follower out: two in sync are enough for one topic (answered) and too few for the other (refused).
    acked.push(...(await produceRetrying(ctx, api, lenient, p, ['f10 cut, out of the ISR'], 10_000)));
    const refused = await acksAll(ctx, api, leader, strict, q, 'f10s cut, out of the ISR');
    ctx.expect(
      isNotEnough(refused.x),
      `acks=all to ${strict}/${q} (minInsyncReplicas 3) with ${cut} out of the ISR answered ${refused.x.status ?? refused.x.error}, not 503 not_enough_replicas`,
      refused.x,
    );
  } finally {
    for (const l of links) await l!.setEnabled(true);
  }
  const healedAt = Date.now();
  ctx.changed(`restored the links between ${cut} and ${leader}`);
  await waitForFullIsr(
    ctx,
    api,
    lenient,
    p,
    `${lenient}/${p}: ${cut} did not rejoin the ISR after the links were restored`,
  );
  await waitForFullIsr(
    ctx,
    api,
    strict,
    q,
    `${strict}/${q}: ${cut} did not rejoin the ISR after the links were restored`,
  );
  outcome.rejoinedAfterMs = Date.now() - healedAt;
  ackedStrict.push(...(await produceRetrying(ctx, api, strict, q, ['f10s healed'], 30_000)));
  acked.push(...(await produceRetrying(ctx, api, lenient, p, ['f10 healed'], 30_000)));
  // The follower's copy, not the leader's account of it: the leader dies and its successor must serve every message.
  await ctx.target.kill(leader);
  ctx.changed(`killed (kill -9) ${leader}, the leader`);
  try {
    const after = await waitForNewLeader(ctx, api, lenient, p, leader);
    outcome.electedAfterHeal = after.partitionStates[p]!.leader;
    await waitForNewLeader(ctx, api, strict, q, leader);
    // A new leader may start below what was acknowledged (its high watermark is the one it last heard, spec README):
    // it must get there once the other in-sync replica fetches from it, not lose it.
    for (const [topic, part, list] of [
      [lenient, p, acked],
      [strict, q, ackedStrict],
    ] as const) {
      const last = Math.max(...list.map((m) => m.offset));
      await waitForState(
        ctx,
        api,
        topic,
        10_000,
        (x) => x.partitionStates[part]!.endOffset > last,
        `${topic}/${part}: after ${leader} was killed its successor's endOffset never passed offset ${last}, acknowledged with acks=all`,
      );
    }
    await verifyAcked(ctx, api, lenient, acked, `after the cut was healed and ${leader} killed`);
    await verifyAcked(ctx, api, strict, ackedStrict, `after the cut was healed and ${leader} killed`);
  } finally {
    await ctx.target.start(leader);
  }
  await waitForFullIsr(ctx, api, lenient, p, `${lenient}/${p}: ${leader}, restarted, is not back in the ISR`);
  ctx.evidence.partitionCut = outcome;
}
