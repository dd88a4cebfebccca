// MQ-F7's first step: a new leader's high watermark across its election, with the window held open. The partition's
// leader is stopped (SIGSTOP) so that the controller elects itself (on the reference the next replica is elected;
// the partition is chosen so that is the controller), while the third replica, in the ISR, cannot fetch from it
// (its link to the controller is cut one way; the controller's health checks of it still pass, so it stays in the
// ISR). Until it fetches, the new leader knows nothing of how far that replica has come: its first answers must
// still reach every message acknowledged with acks=all before the election (a message once fetched survives the
// loss of its leader), not fall back to what the ISR's least known position allows.
import type { CheckContext } from '../../core/check-context.ts';
import type { FaultProxy } from '../../core/network-faults.ts';
import type { FetchResult } from './api.ts';
import { mqApi, okBody, produceAcked, uniqueName, verifyAcked } from './api.ts';
import { bound, describe, following, onNode, stateOf, waitForFullIsr, waitForState } from './cluster-client.ts';
import { controllerSeenBy } from './controller-failover.ts';

/**
 * From the kill of the old leader until `next` answers a fetch of `p` itself (200, no redirect): its first answer
 * must already reach past every message acknowledged with acks=all before the kill and known by `next` to be on every
 * in-sync replica (a message once fetched survives the loss of its leader).
 */
export async function firstAnswerOfNewLeader(
  ctx: CheckContext,
  topic: string,
  p: number,
  next: string,
  committed: number,
  ms: number,
): Promise<void> {
  const direct = onNode(ctx, next);
  const until = Date.now() + bound(ms);
  for (;;) {
    const x = await direct.fetch(topic, p, { offset: 0, maxWait: 0 });
    if (x.status === 200) {
      const r = x.body as FetchResult;
      ctx.expect(
        r.endOffset >= committed && r.messages.length > 0,
        `${topic}/${p}: the first fetch ${next} answered as the new leader ends at ${r.endOffset} with ${r.messages.length} messages, though all ${committed} messages acknowledged with acks=all before the failover were on every in-sync replica (${next} had described endOffset ${committed})`,
        x,
      );
      ctx.evidence.newLeaderFirstEnd = r.endOffset;
      return;
    }
    if (Date.now() > until) return; // not leading yet: the checks after the election say so with their own bound
    await ctx.sleep(5);
  }
}

type Linked = { link?: (from: string, to: string) => FaultProxy | undefined };

/** The step's outcome for the evidence, or why it was not made (the rest of MQ-F7 still runs). */
export async function hwAcrossElection(ctx: CheckContext, nodes: string[]): Promise<Record<string, unknown>> {
  const controller = (await controllerSeenBy(ctx, nodes[0]!)).name;
  if (!controller || !nodes.includes(controller))
    return { skipped: `no broker names a controller among the manifest's nodes (asked ${nodes[0]})` };
  const api = mqApi(ctx, following(ctx, controller));
  const topic = uniqueName('f7h');
  okBody(ctx, await api.createTopic({ name: topic, partitions: 3, replicationFactor: 3 }), 201, 'creating');
  const t = await describe(ctx, api, topic);
  const p = [0, 1, 2].find((x) => {
    const s = stateOf(ctx, t, x, nodes);
    return s.leader !== controller && s.replicas!.filter((b) => b !== s.leader)[0] === controller;
  });
  if (p === undefined)
    return { skipped: `no partition of ${topic} has the controller ${controller} as its next replica` };
  const s = stateOf(ctx, t, p, nodes);
  const leader = s.leader!;
  const third = s.replicas!.find((b) => b !== leader && b !== controller)!;
  const cut = (ctx.target as unknown as Linked).link?.(third, controller);
  if (!cut) return { skipped: `the links between the brokers are not proxied (${third} -> ${controller})` };

  const acked = await produceAcked(
    ctx,
    api,
    topic,
    Array.from({ length: 10 }, (_, i) => ({ partition: p, value: `f7h ${i}` })),
    'all',
  );
  const committed = acked.length;
  // The controller has heard that every acknowledged message is below the high watermark (it describes them).
  await waitForState(
    ctx,
    onNode(ctx, controller),
    topic,
    10_000,
    (x) => x.partitionStates[p]!.endOffset >= committed,
    `${controller} does not describe ${topic}/${p} past the ${committed} messages acknowledged with acks=all`,
  );
  await cut.setEnabled(false);
  await ctx.target.pause(leader);
  ctx.changed(`cut ${third} -> ${controller} and paused ${leader}, the leader`);
  try {
    await firstAnswerOfNewLeader(ctx, topic, p, controller, committed, 30_000);
  } finally {
    await cut.setEnabled(true);
    await ctx.target.resume(leader);
  }
  ctx.changed(`restored ${third} -> ${controller} and resumed ${leader}`);
  // Kept apart from the later failovers' first answers (they write the same evidence).
  const firstEnd = ctx.evidence.newLeaderFirstEnd;
  delete ctx.evidence.newLeaderFirstEnd;
  await verifyAcked(ctx, api, topic, acked, `after ${controller} took ${topic}/${p} over from the stopped ${leader}`);
  await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: ${leader}, resumed, is not back in the ISR`);
  // firstEnd null: the controller did not lead within the bound (another replica was elected): nothing graded here.
  return { topic, partition: p, leader, newLeader: controller, third, firstEnd: firstEnd ?? null };
}
