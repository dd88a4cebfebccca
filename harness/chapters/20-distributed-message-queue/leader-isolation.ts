// MQ-F10's second part: a partition that cuts a leader off from the controller. Every link between the leader and the
// other brokers is cut both ways, and its link to etcd where the manifest routes it through a proxy of its own
// (`${link:SDGRADE_ETCD_URL}`), while producers still reach it. The book's (and Kafka's) promise: the leader cannot
// shrink its ISR without the controller, so acks=all sent to it stalls or is refused, never acknowledged alone; the
// controller elects another in-sync replica, which takes acks=all; after the heal the old leader truncates to the new
// leader's log and rejoins, every acknowledged message is at its offset, and with the new leader then stopped the old
// one (elected on the reference) serves them all: its own unacknowledged tail is gone.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import type { FaultProxy } from '../../core/network-faults.ts';
import {
  type Acked,
  appendedRecords,
  mqApi,
  okBody,
  type ProduceResult,
  produceAcked,
  uniqueName,
  verifyAcked,
} from './api.ts';
import {
  describe,
  following,
  onNode,
  produceRetrying,
  stateOf,
  waitForFullIsr,
  waitForState,
  whilePaused,
} from './cluster-client.ts';
import { controllerSeenBy } from './controller-failover.ts';

type Linked = {
  link?: (from: string, to: string) => FaultProxy | undefined;
  envLink?: (node: string, name: string) => FaultProxy | undefined;
};

/** The acknowledged records of a 200 to one message, as the model keeps them. */
function ackedOf(ctx: CheckContext, x: Exchange, value: string, what: string): Acked[] {
  return appendedRecords(ctx, okBody<ProduceResult>(ctx, x, 200, what), x).map((r) => ({
    ...r,
    key: null,
    value,
    tags: [],
  }));
}

export async function isolatedLeaderFenced(ctx: CheckContext, nodes: string[]): Promise<Record<string, unknown>> {
  const target = ctx.target as unknown as Linked;
  // The controller as the cluster names it (after MQ-F11 it need not be the first node).
  const controller = (await controllerSeenBy(ctx, nodes[0]!)).name;
  // A part that cannot be made is not made (its reason in the evidence, as MQ-F7's held window): the rest of MQ-F10
  // (partition-cut.ts) still grades, rather than the whole check being skipped.
  if (!controller || !nodes.includes(controller))
    return { skipped: `no broker names a controller among the manifest's nodes (asked ${nodes[0]})` };
  const viaController = mqApi(ctx, following(ctx, controller));
  // minInsyncReplicas 1: the leader alone could be the whole ISR, so only the fence keeps it from acknowledging.
  const topic = uniqueName('f10i');
  okBody(
    ctx,
    await viaController.createTopic({ name: topic, partitions: 3, replicationFactor: 3, minInsyncReplicas: 1 }),
    201,
    'creating',
  );
  const t = await describe(ctx, viaController, topic);
  // The leader is not the controller (that is MQ-F11's deposed controller); on the reference the next replica, not
  // the controller, is elected in its place, so stopping it later elects the old leader, whose log is then read.
  const fits = (x: number, strict: boolean) => {
    const s = stateOf(ctx, t, x, nodes);
    return s.leader !== controller && (!strict || s.replicas!.filter((b) => b !== s.leader)[0] !== controller);
  };
  const p = [0, 1, 2].find((x) => fits(x, true)) ?? [0, 1, 2].find((x) => fits(x, false));
  if (p === undefined) return { skipped: `every partition of ${topic} is led by the controller ${controller}` };
  await waitForFullIsr(ctx, viaController, topic, p, `${topic}/${p}: the ISR of a new topic never held its 3 replicas`);
  const before = stateOf(ctx, await describe(ctx, viaController, topic), p, nodes);
  const leader = before.leader!;
  const cuts = nodes.filter((b) => b !== leader).flatMap((b) => [target.link?.(leader, b), target.link?.(b, leader)]);
  if (cuts.some((l) => !l))
    return { skipped: `the links between the brokers are not proxied: ${leader} cannot be isolated` };
  const etcd = target.envLink?.(leader, 'SDGRADE_ETCD_URL');
  const outcome: Record<string, unknown> = { topic, partition: p, leader, controller, etcdCut: Boolean(etcd) };

  const acked = await produceAcked(ctx, viaController, topic, [{ partition: p, value: 'f10i before' }], 'all');
  const isolated: Acked[] = [];
  const toLeader = onNode(ctx, leader);
  const newer = (e?: number) => before.leaderEpoch === undefined || (e ?? -1) > before.leaderEpoch;
  for (const l of [...cuts, ...(etcd ? [etcd] : [])]) await l!.setEnabled(false);
  const cutAt = Date.now();
  ctx.changed(`cut ${leader} off from every other broker${etcd ? ' and from etcd' : ''}, both ways`);
  try {
    // An acks=1 tail only the isolated leader has (it may be lost: acks 1), then acks=all, which must not be answered
    // 200 alone. Held until it is answered (or the client gives up): a leader that shrinks its ISR without the
    // controller does so within its lag period, long before.
    const tail = await toLeader.produce(topic, {
      acks: '1',
      messages: [{ partition: p, value: 'f10i isolated, acks 1' }],
    });
    outcome.acks1Isolated = tail.status ?? tail.error;
    const pending = toLeader
      .produce(topic, { acks: 'all', messages: [{ partition: p, value: 'f10i isolated, acks all' }] })
      .then((x) => ({ x, afterMs: Date.now() - cutAt }));
    const elected = await waitForState(
      ctx,
      viaController,
      topic,
      30_000,
      (x) => x.partitionStates[p]!.leader !== leader && newer(x.partitionStates[p]!.leaderEpoch),
      `${topic}/${p}: the controller ${controller} elected no new leader while ${leader} was cut off from it`,
    );
    outcome.newLeader = elected.partitionStates[p]!.leader;
    outcome.electedAfterMs = Date.now() - cutAt;
    acked.push(...(await produceRetrying(ctx, viaController, topic, p, ['f10i new leader'], 10_000)));
    const { x, afterMs } = await pending;
    outcome.acksAllIsolated = { status: x.status ?? x.error, afterMs };
    if (x.status === 200) isolated.push(...ackedOf(ctx, x, 'f10i isolated, acks all', `acks=all to ${leader}`));
    else
      ctx.expect(
        x.status === null || (x.status === 503 && (x.body as { code?: string }).code === 'not_enough_replicas'),
        `acks=all to ${topic}/${p} on ${leader}, cut off from every broker, answered ${x.status}, not 503 not_enough_replicas (or no answer)`,
        x,
      );
  } finally {
    for (const l of [...cuts, ...(etcd ? [etcd] : [])]) await l!.setEnabled(true);
  }
  ctx.changed(`restored ${leader}'s links`);
  // The new leader's log is the partition's now: what the isolated leader acknowledged alone must be in it.
  if (isolated.length)
    await verifyAcked(
      ctx,
      viaController,
      topic,
      isolated,
      `acks=all acknowledged by ${leader} ${(outcome.acksAllIsolated as { afterMs: number }).afterMs} ms after it was cut off from every broker${etcd ? ' and etcd' : ''} (no other replica could have it), read from the new leader ${outcome.newLeader} after the heal`,
    );
  await verifyAcked(ctx, viaController, topic, acked, `after ${leader}'s isolation was healed`);
  await waitForFullIsr(ctx, viaController, topic, p, `${topic}/${p}: ${leader} did not rejoin the ISR after the heal`);
  // The old leader's copy, not the new leader's account of it: the new leader stopped, its successor serves all.
  const newLeader = outcome.newLeader as string;
  if (newLeader === controller) {
    outcome.oldLeaderRead = false; // stopping the controller would grade its failover (MQ-F11), not this
    return outcome;
  }
  await whilePaused(ctx, [newLeader], async () => {
    const after = await waitForState(
      ctx,
      viaController,
      topic,
      30_000,
      (x) => x.partitionStates[p]!.leader !== newLeader,
      `${topic}/${p}: no new leader after ${newLeader} was stopped`,
    );
    outcome.oldLeaderRead = after.partitionStates[p]!.leader === leader;
    const last = Math.max(...acked.map((m) => m.offset));
    await waitForState(
      ctx,
      viaController,
      topic,
      10_000,
      (x) => x.partitionStates[p]!.endOffset > last,
      `${topic}/${p}: with ${newLeader} stopped its successor's endOffset never passed offset ${last}, acknowledged with acks=all`,
    );
    await verifyAcked(ctx, viaController, topic, acked, `with ${newLeader} stopped after ${leader}'s isolation`);
  });
  await waitForFullIsr(ctx, viaController, topic, p, `${topic}/${p}: ${newLeader}, resumed, is not back in the ISR`);
  return outcome;
}
