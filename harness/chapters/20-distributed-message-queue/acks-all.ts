// MQ-F4: acks=all against stopped followers. It is answered only once every in-sync replica has the batch, refused
// 503 not_enough_replicas below minInsyncReplicas; acks=1 needs the leader alone; endOffset is the high watermark
// on every broker and a fetch never serves past it.
import type { CheckContext } from '../../core/check-context.ts';
import { type IdempotentOne, retriedOnce, retryWaitsForWholeBatch } from './acks-all-retry.ts';
import {
  type Acked,
  type Acks,
  appendedRecords,
  type FetchResult,
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
  bound,
  brokers,
  describe,
  following,
  onNode,
  produceRetrying,
  stateOf,
  waitForFullIsr,
  whilePaused,
} from './cluster-client.ts';
import { expectAcksAllKept } from './failover.ts';

/**
 * One follower stopped (still in the ISR for the lag period), an acks=1 record: the other follower copies it, but it
 * is not below the high watermark until the stopped one has it too. endOffset is the high watermark on every broker,
 * so the running follower's may never be above the leader's (asked after it: the leader's only grows). Sampled for
 * a second; on a slow machine the ISR may shrink first, which makes the record committed and the check weaker for
 * that run, never wrong.
 */
async function endOffsetIsHighWatermarkEverywhere(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  leader: string,
  followers: string[],
): Promise<Acked[]> {
  const [running, stopped] = followers as [string, string];
  const value = `acks 1, ${stopped} stopped`;
  const samples: string[] = [];
  const acked = await whilePaused(ctx, [stopped], async () => {
    const one = await produceAcked(ctx, api, topic, [{ partition: p, value }], '1');
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      const f = await describe(ctx, onNode(ctx, running), topic);
      const l = await describe(ctx, onNode(ctx, leader), topic);
      const fe = f.partitionStates[p]!.endOffset;
      const le = l.partitionStates[p]!.endOffset;
      samples.push(`${running} ${fe} / ${leader} ${le}`);
      if (fe > le) {
        ctx.expect(
          false,
          `${topic}/${p}: follower ${running} describes endOffset ${fe}, above the leader ${leader}'s ${le} asked after it, while ${stopped} (in the ISR) was stopped: endOffset is the high watermark (what every in-sync replica has), not a replica's own log end`,
        );
        break;
      }
      await ctx.sleep(100);
    }
    return one;
  });
  ctx.evidence.endOffsetSamples = samples.slice(0, 12);
  return acked;
}

/**
 * Asks `follower` to describe `p` every 10 ms until its endOffset (the high watermark it last heard from the leader)
 * passes `offset`, and answers how long that took. A follower hears a new high watermark in a fetch answer and, idle,
 * sends its next fetch at once: that fetch is open at the leader now. Null if it does not within `ms`.
 */
async function followerHwPast(
  ctx: CheckContext,
  topic: string,
  p: number,
  follower: string,
  offset: number,
  ms: number,
): Promise<number | null> {
  const direct = onNode(ctx, follower);
  const started = Date.now();
  const until = started + bound(ms);
  for (;;) {
    const x = await direct.describeTopic(topic);
    if (x.status === 200 && (x.body as Topic).partitionStates[p]!.endOffset > offset) return Date.now() - started;
    // The spec lets a follower's high watermark lag its leader's: one that never passes the record (it may hear of it
    // only with the next records) is stopped at the bound instead, which weakens the step, never fails it.
    if (Date.now() > until) return null;
    await ctx.sleep(10);
  }
}

export async function acksAllWaitsForIsr(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  const api = mqApi(ctx, following(ctx));
  const topic = uniqueName('f4');
  okBody(ctx, await api.createTopic({ name: topic, partitions: 3, replicationFactor: 3 }), 201, 'creating');
  const t = await describe(ctx, api, topic);
  // A partition led by the first node (where a cluster's controller usually is, so stopping the others leaves it).
  const p = [0, 1, 2].find((x) => stateOf(ctx, t, x, nodes).leader === nodes[0]) ?? 0;
  const s = stateOf(ctx, t, p, nodes);
  const followers = s.replicas!.filter((b) => b !== s.leader);
  const acked = await produceAcked(ctx, api, topic, [{ partition: p, value: 'before: acks all' }], 'all');
  acked.push(...(await endOffsetIsHighWatermarkEverywhere(ctx, api, topic, p, s.leader!, followers)));
  // The acks=all batch sent with both followers stopped is idempotent: it is retried, stopped and after.
  const producerId = okBody<{ producerId: string }>(ctx, await api.initProducer(), 201, 'initProducer').producerId;
  const stoppedBatch: IdempotentOne = {
    producerId,
    sequence: 0,
    messages: [{ partition: p, value: 'acks all, followers stopped' }],
  };
  const outcome = await whilePaused(ctx, followers, async () => {
    // acks=1 needs the leader alone.
    const one = await api.produce(topic, {
      acks: '1',
      messages: [{ partition: p, value: 'acks 1, followers stopped', tags: ['hw'] }],
    });
    ctx.expect(one.status === 200, `acks=1 with the followers stopped answered ${one.status ?? one.error}`, one);
    acked.push({
      ...(one.body as { records: Acked[] }).records[0]!,
      key: null,
      value: 'acks 1, followers stopped',
      tags: ['hw'],
    });
    // Consumers read below the high watermark only: the acks=1 message is on the leader alone (until the ISR shrinks
    // to it), so a fetch may not answer it above the endOffset it reports.
    const read = await api.fetch(topic, p, { offset: 0 });
    const r = okBody<FetchResult>(ctx, read, 200, `fetching ${topic}/${p} with the followers stopped`);
    const beyond = r.messages.filter((m) => m.offset >= r.endOffset).map((m) => m.offset);
    ctx.expect(
      beyond.length === 0,
      `a fetch of ${topic}/${p} with both followers stopped answered offset ${beyond.join(', ')} at or past its endOffset ${r.endOffset} (the high watermark: what every in-sync replica has)`,
      read,
    );
    // The same for a fetch filtered by tags (the broker filters on the leader: below the high watermark too).
    const filtered = await api.fetch(topic, p, { offset: 0, tags: ['hw'] });
    const fr = okBody<FetchResult>(ctx, filtered, 200, `fetching ${topic}/${p} filtered by tag hw, followers stopped`);
    const beyondFiltered = fr.messages.filter((m) => m.offset >= fr.endOffset).map((m) => m.offset);
    ctx.expect(
      beyondFiltered.length === 0 && fr.nextOffset <= fr.endOffset,
      `a fetch of ${topic}/${p} filtered by tag hw with both followers stopped answered offset ${beyondFiltered.join(', ')} (nextOffset ${fr.nextOffset}) at or past its endOffset ${fr.endOffset} (the high watermark)`,
      filtered,
    );
    const started = Date.now();
    const all = await api.produce(topic, { acks: 'all' as Acks, ...stoppedBatch });
    ctx.expect(
      all.status !== 200,
      `acks=all to ${topic}/${p} was answered 200 after ${Date.now() - started} ms while both followers (${followers.join(', ')}) were stopped: acknowledged before any follower had the record`,
      all,
    );
    ctx.expect(
      all.status === null || (all.status === 503 && (all.body as { code?: string }).code === 'not_enough_replicas'),
      `acks=all with the followers stopped answered ${all.status}, not 503 not_enough_replicas (or no answer)`,
      all,
    );
    const afterMs = Date.now() - started;
    // Its retry, the followers still stopped: a repeat is answered (acks all) only while minInsyncReplicas are in
    // sync, as a new batch is; its first try having been appended changes nothing.
    const again = await api.produce(topic, { acks: 'all' as Acks, ...stoppedBatch });
    ctx.expect(
      again.status === null ||
        (again.status === 503 && (again.body as { code?: string }).code === 'not_enough_replicas'),
      `the retry of the idempotent acks=all batch with both followers stopped answered ${again.status}, not 503 not_enough_replicas (or no answer): a repeat with acks all needs minInsyncReplicas in sync too`,
      again,
    );
    return { status: all.status ?? all.error, afterMs, retry: again.status ?? again.error };
  });
  // Back: the followers catch up, rejoin the ISR, and acks=all is answered again.
  acked.push(...(await produceRetrying(ctx, api, topic, p, ['after: acks all'], 30_000)));
  acked.push(await retriedOnce(ctx, api, topic, stoppedBatch, 30_000));
  await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: the resumed followers are not back in the ISR`);
  await verifyAcked(ctx, api, topic, acked, 'after the followers came back');
  // One follower stopped while it has a fetch open at the leader, then acks=all at once: the leader may send the
  // record out on that fetch, but the stopped follower never appends it, so an answer 200 must find it out of the ISR
  // (a leader that counts what it sent as what the follower has acknowledges at once, the follower still named).
  // The stop is timed by an event, not by a clock: a follower that describes its high watermark past a record has
  // just had a fetch answered, and opens its next one at once (it is idle). The leader keeps that fetch open for its
  // long poll, from the moment the harness sees the high watermark, not from a sample taken every N ms.
  const rightAfterFetch: unknown[] = [];
  for (const stopped of followers) {
    const [mark] = await produceRetrying(ctx, api, topic, p, [`mark before stopping ${stopped}`], 30_000);
    acked.push(mark!);
    const seen = await followerHwPast(ctx, topic, p, stopped, mark!.offset, 10_000);
    rightAfterFetch.push(
      await whilePaused(ctx, [stopped], async () => {
        const started = Date.now();
        const x = await api.produce(topic, {
          acks: 'all',
          messages: [{ partition: p, value: `acks all, ${stopped} stopped after a fetch` }],
        });
        const afterMs = Date.now() - started;
        if (x.status === 200) {
          const r = okBody<ProduceResult>(ctx, x, 200, `acks=all to ${topic}/${p} with ${stopped} stopped`);
          const batch = appendedRecords(ctx, r, x).map((rec) => ({
            ...rec,
            key: null,
            value: `acks all, ${stopped} stopped after a fetch`,
            tags: [],
          }));
          // Checked the moment it comes: the stopped follower cannot have the record, so it is out of the ISR.
          await expectAcksAllKept(ctx, api, topic, p, batch, stopped, s.leader!);
          acked.push(...batch);
        } else
          ctx.expect(
            x.status === null || (x.status === 503 && (x.body as { code?: string }).code === 'not_enough_replicas'),
            `acks=all with ${stopped} stopped answered ${x.status}, not 200, 503 not_enough_replicas (or no answer)`,
            x,
          );
        return { stopped, status: x.status ?? x.error, afterMs, hwSeenAfterMs: seen };
      }),
    );
    acked.push(...(await produceRetrying(ctx, api, topic, p, [`after: ${stopped} stopped after a fetch`], 30_000)));
    await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: ${stopped}, resumed, is not back in the ISR`);
  }
  await retryWaitsForWholeBatch(ctx, api, topic, p, s.leader!, followers, acked);
  await verifyAcked(ctx, api, topic, acked, 'after the followers came back again');
  ctx.evidence.partition = { partition: p, leader: s.leader, stopped: followers };
  ctx.evidence.acksAllWhileStopped = outcome;
  ctx.evidence.acksAllRightAfterFetch = rightAfterFetch;
}
