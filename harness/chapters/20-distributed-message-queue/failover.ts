// MQ-F5: kill -9 of a partition's leader while one follower is out of sync. A broker from the ISR takes over, nothing
// acknowledged with acks=all is lost, offsets are never reused, redirects name the new leader and every broker agrees
// on leader, epoch and ISR.
import type { CheckContext } from '../../core/check-context.ts';
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
  waitForNewLeader,
  waitForState,
} from './cluster-client.ts';

/**
 * What an acks=all answer promises, checked against the model the moment it comes: every in-sync replica has the
 * batch, so `stopped` (SIGSTOPped by the harness: it cannot have it) is out of the ISR by then, and the batch is below
 * the high watermark, so a fetch reads it at once. The ISR is asked of the first node and of the leader; only both
 * still naming the stopped broker fails (one broker's view may lag the other's).
 */
export async function expectAcksAllKept(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  batch: readonly Acked[],
  stopped: string,
  leader: string,
): Promise<void> {
  const last = batch.at(-1)!;
  const views = await Promise.all([api, onNode(ctx, leader)].map((a) => a.describeTopic(topic)));
  const isrs = views.map((x) => (x.status === 200 ? ((x.body as Topic).partitionStates[p]?.isr ?? []) : []));
  ctx.expect(
    !isrs.every((isr) => isr.includes(stopped)),
    `acks=all acknowledged ${topic}/${p} offset ${last.offset} while ${stopped} was stopped, yet the ISR still names it (${isrs.map((i) => `[${i.join(', ')}]`).join(' and ')}): an in-sync replica lacked the record`,
    views[1],
  );
  const x = await api.fetch(topic, p, { offset: batch[0]!.offset });
  const r = okBody<FetchResult>(ctx, x, 200, `fetching ${topic}/${p} right after acks=all`);
  ctx.expect(
    r.endOffset > last.offset && r.messages.some((m) => m.offset === last.offset),
    `acks=all acknowledged ${topic}/${p} offset ${last.offset}, but a fetch right after ends at ${r.endOffset}: what acks=all acknowledged is on every in-sync replica, so below the high watermark`,
    x,
  );
}

/** Within a bound, a broker that does not lead `p` sends its fetch on to `leader` (307 naming it), and following works. */
async function expectRedirectsTo(
  ctx: CheckContext,
  topic: string,
  p: number,
  via: string,
  leader: string,
): Promise<void> {
  const until = Date.now() + bound(5000);
  for (;;) {
    const x = await onNode(ctx, via).fetch(topic, p, { offset: 0 });
    const body = x.body as { code?: string; broker?: string };
    if (x.status === 307 && body.code === 'not_leader' && body.broker === leader) break;
    if (Date.now() > until)
      ctx.fail(
        `${via} answers a fetch of ${topic}/${p} with ${x.status} ${JSON.stringify(x.body)} ${bound(5000)} ms after ${leader} took the lead, not 307 not_leader naming ${leader}`,
        { exchange: x },
      );
    await ctx.sleep(250);
  }
  const followed = await mqApi(ctx, following(ctx, via)).fetch(topic, p, { offset: 0 });
  ctx.expect(
    followed.status === 200,
    `following ${via}'s 307 for ${topic}/${p} answered ${followed.status ?? followed.error}, not 200`,
    followed,
  );
}

/** Within a bound, every broker's describeTopic names the same leader, leader epoch and ISR for `p` (any broker answers it). */
async function expectBrokersAgree(
  ctx: CheckContext,
  topic: string,
  p: number,
  nodes: readonly string[],
): Promise<void> {
  const until = Date.now() + bound(5000);
  for (;;) {
    const views = await Promise.all(nodes.map((b) => onNode(ctx, b).describeTopic(topic)));
    const seen = views.map((x, i) => {
      const s = x.status === 200 ? (x.body as Topic).partitionStates[p] : undefined;
      return `${nodes[i]}: ${s ? `leader ${s.leader}, epoch ${s.leaderEpoch}, isr [${[...(s.isr ?? [])].sort().join(', ')}]` : x.status}`;
    });
    const said = new Set(seen.map((v) => v.slice(v.indexOf(':'))));
    if (said.size === 1) return;
    if (Date.now() > until)
      ctx.fail(`${topic}/${p}: the brokers still describe it differently after ${bound(5000)} ms: ${seen.join('; ')}`);
    await ctx.sleep(250);
  }
}

export async function leaderFailover(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  const api = mqApi(ctx, following(ctx));
  const topic = uniqueName('f5');
  okBody(ctx, await api.createTopic({ name: topic, partitions: 3, replicationFactor: 3 }), 201, 'creating');
  const t = await describe(ctx, api, topic);
  // A partition whose leader and first follower (its successor by replica order) are not the first node, so the
  // node the harness talks to stays up and in sync throughout.
  const p = [0, 1, 2].find((x) => {
    const s = stateOf(ctx, t, x, nodes);
    const next = s.replicas!.filter((b) => b !== s.leader)[0];
    return s.leader !== nodes[0] && next !== nodes[0];
  });
  if (p === undefined) ctx.skip('no partition has a leader and a first follower other than the first node');
  const s = stateOf(ctx, t, p, nodes);
  const leader = s.leader!;
  const [lagging, inSync] = s.replicas!.filter((b) => b !== leader) as [string, string];
  const batch = (tag: string, k: number) =>
    Array.from({ length: k }, (_, i) => ({ partition: p, value: `${tag} ${i}` }));
  const acked = await produceAcked(ctx, api, topic, batch('A', 20), 'all');

  // One follower stops; acks=all waits until the leader drops it from the ISR, then goes on with the other.
  await ctx.target.pause(lagging);
  ctx.changed(`paused ${lagging}`);
  try {
    // A lone message first: acks=all may answer it only once the stopped follower is out of the ISR (it cannot have
    // it), and then it is readable at once (an off-by-one or a quorum of copies shows on one record).
    const lone = await produceRetrying(ctx, api, topic, p, ['B lone'], 30_000);
    await expectAcksAllKept(ctx, api, topic, p, lone, lagging, leader);
    acked.push(...lone);
    acked.push(
      ...(await produceRetrying(
        ctx,
        api,
        topic,
        p,
        batch('B', 20).map((m) => m.value),
        30_000,
      )),
    );
    await waitForState(
      ctx,
      api,
      topic,
      15_000,
      (x) => !x.partitionStates[p]!.isr?.includes(lagging),
      `${topic}/${p}: acks=all was answered while ${lagging} was stopped, yet the ISR still names it`,
    );
    acked.push(...(await produceAcked(ctx, api, topic, batch('C', 20), 'all')));
    // The leader dies; the out-of-sync follower is back (alive, but missing B and C) before a new leader is chosen.
    await ctx.target.kill(leader);
    ctx.changed(`killed (kill -9) ${leader}`);
  } finally {
    await ctx.target.resume(lagging);
  }
  const after = await waitForNewLeader(ctx, api, topic, p, leader);
  const newLeader = after.partitionStates[p]!.leader!;
  await verifyAcked(ctx, api, topic, acked, `after ${leader} was killed and ${newLeader} took over`);
  // The live broker that does not lead now sends clients to the new leader, not the old (or preferred) one.
  const bystander = nodes.find((b) => b !== leader && b !== newLeader);
  if (bystander) await expectRedirectsTo(ctx, topic, p, bystander, newLeader);
  const before = Math.max(...acked.map((a) => a.offset));
  const fresh = await produceRetrying(
    ctx,
    api,
    topic,
    p,
    batch('D', 10).map((m) => m.value),
    30_000,
  );
  ctx.expect(
    fresh[0]!.offset > before,
    `the first message after the failover took offset ${fresh[0]!.offset}, already acknowledged with acks=all (up to ${before})`,
  );
  acked.push(...fresh);

  // The old leader comes back as a follower and catches up; then the new leader dies too: whoever leads next must
  // hold every acknowledged message at its offset (the old leader's copy included, if it is chosen).
  await ctx.target.start(leader);
  await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: ${leader} and ${lagging} are not both back in the ISR`);
  await expectBrokersAgree(ctx, topic, p, nodes);
  // The first node is not killed (a cluster's controller usually lives there, and the reference's is not failed
  // over yet): when it leads now, the old leader's copy is graded only by its rejoining the ISR; said in evidence.
  ctx.evidence.secondKill = newLeader !== nodes[0];
  if (newLeader !== nodes[0]) {
    await ctx.target.kill(newLeader);
    ctx.changed(`killed (kill -9) ${newLeader}`);
    const third = await waitForNewLeader(ctx, api, topic, p, newLeader);
    await verifyAcked(
      ctx,
      api,
      topic,
      acked,
      `after ${newLeader} was killed too, led by ${third.partitionStates[p]!.leader}`,
    );
    await ctx.target.start(newLeader);
  }
  ctx.evidence.failover = { partition: p, killed: leader, lagging, inSync, newLeader, acknowledged: acked.length };
}
