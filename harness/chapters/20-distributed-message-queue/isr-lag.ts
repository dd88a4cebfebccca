// MQ-F9's third race: a follower that keeps fetching but falls behind must leave the ISR. The first node's link from
// the leader carries a 1 MiB fetch answer in about 2.5 s (within the lag period, so it fetches again and again) while
// the leader takes acks=1 writes several times faster: the first node never catches up with the leader's end. A
// leader that counts a fetch as being caught up keeps it in the ISR, and the high watermark crawls behind it.
import type { CheckContext } from '../../core/check-context.ts';
import { type Acked, type MqApi, okBody, produceAcked, type Topic, verifyAcked } from './api.ts';
import { bound, onNode, waitForFullIsr } from './cluster-client.ts';
import { racePartition, trickle } from './isr-races.ts';

/** KB/s the first node receives from the leader: a 1 MiB fetch answer takes about 2.5 s. */
const STEADY_KBS = 400;
/** The spec README's REPLICA_LAG_MS (3 s), doubled for the ISR change to be made and stored (scaled by `bound`). */
const LAG_BOUND_MS = 6000;
/** How long the leader is written to, at most: past the lag bound and the time to fall that far behind. */
const WRITE_MS = 12_000;
/** Values of 30,000 characters, ten a batch, a batch every 150 ms: about 2 MB/s, five times the link. */
const VALUE = 30_000;
const PACE_MS = 150;

/**
 * Writes to the leader (acks=1) while the first node's link trickles, and describes the partition on the leader after
 * each batch. The leader's end as of a batch's answer is known from its offsets; once the first node has been in the
 * ISR for LAG_BOUND_MS with the high watermark still below an end the leader had that long before, an in-sync replica
 * has not caught up with the leader's end for longer than the lag period: it must have been dropped.
 */
export async function fetchingReplicaLeavesIsr(ctx: CheckContext, api: MqApi, nodes: readonly string[]): Promise<void> {
  const { topic, p, leader, first, msgs } = await racePartition(ctx, api, nodes, 'f9c');
  const lead = onNode(ctx, leader);
  const acked: Acked[] = [];
  const ends: { at: number; end: number }[] = [];
  const undo = await trickle(ctx, first, [leader], STEADY_KBS);
  const started = Date.now();
  let leftAfterMs: number | null = null;
  try {
    for (let i = 0; Date.now() - started < bound(WRITE_MS); i++) {
      const batch = await produceAcked(ctx, lead, topic, msgs(`f9c ${i}`, 10, VALUE), '1');
      acked.push(...batch);
      ends.push({ at: Date.now(), end: Math.max(...batch.map((a) => a.offset)) + 1 });
      const askedAt = Date.now();
      const x = await lead.describeTopic(topic);
      const s = okBody<Topic>(ctx, x, 200, `describing ${topic} on ${leader}`).partitionStates[p]!;
      if (!s.isr?.includes(first)) {
        leftAfterMs = Date.now() - started;
        break;
      }
      const old = ends.filter((e) => e.at <= askedAt - bound(LAG_BOUND_MS)).at(-1);
      ctx.expect(
        old === undefined || s.endOffset >= old.end,
        `${topic}/${p}: ${leader} still names ${first} in the ISR with the high watermark at ${s.endOffset}, below the end ${old?.end} it had ${askedAt - (old?.at ?? 0)} ms before: an in-sync replica has not caught up with the leader's end for longer than the lag period (${first} keeps fetching through a ${STEADY_KBS} KB/s link, behind)`,
        x,
      );
      await ctx.sleep(PACE_MS);
    }
  } finally {
    await undo();
  }
  ctx.evidence.fetchingBehind = { leftAfterMs, written: acked.length };
  await verifyAcked(ctx, api, topic, acked, `after ${first} fetched behind through a slow link`);
  await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: ${first} did not rejoin the ISR once its link was fast`);
}
