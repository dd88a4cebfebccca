// MQ-C7: retention removes whole closed segments past a topic's period and never a message younger.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { freshTopic, type MqApi, mqApi, okBody, produceAcked, readPartition, type Topic, verifyAcked } from './api.ts';
import { following } from './cluster-client.ts';

/** How long MQ-C7 waits for retention to remove a 1 s topic's closed segments before it says it cannot tell. */
const RETENTION_WAIT_MS = 60_000;

/** The spec's default retention check interval (Kafka's log.retention.check.interval.ms); a target declares its own. */
const SPEC_RETENTION_CHECK_INTERVAL_MS = 300_000;

/**
 * The period of MQ-C7's third topic, whose first closed segment holds one message written more than a period before
 * the others: longer than the reference's 5 s between retention passes, so one falls while the others are young.
 */
const MIXED_RETENTION_MS = 8000;

/**
 * MQ-C7: two topics of small segments, one with a 10 min period, one with the shortest (1 s), written at the same
 * time (the long one first, so its segments are the older). Once retention has removed the short topic's old
 * segments, it has run over the long topic too: every message of it must still be there from offset 0. And over a
 * third topic whose first closed segment holds a message past its period and younger ones written behind it: that
 * segment must stay (retention goes by a segment's newest message). And retention removes: the 1 s topic's closed
 * segments must be gone within its period + the declared retentionCheckIntervalMs (scaled, plus the measured slack).
 * A target whose bound is past RETENTION_WAIT_MS and that removes nothing by then, or only once the young ones are
 * past the period, is skipped.
 */
export async function retentionConformance(ctx: CheckContext): Promise<void> {
  // Through the spec's 307s: on a cluster the controller (topics, groups) need not be the first broker.
  const api = mqApi(ctx, following(ctx));
  const SEGMENT = 1024;
  const N = 40;
  const batch = (tag: string) =>
    Array.from({ length: N }, (_, i) => ({ partition: 0, value: `${tag} ${i} ü😀 ${'r'.repeat(100)}` }));
  // The mixed topic: one message, then (past its period) a batch that fills the segment behind it and rolls. Its
  // first segment's newest messages are young while its oldest is past the period: it must stay.
  const period = timeLimit(MIXED_RETENTION_MS);
  const mixed = await freshTopic(ctx, api, 1, { retentionMs: period, segmentBytes: SEGMENT }, 'c7-mixed');
  const firstAt = Date.now();
  await produceAcked(ctx, api, mixed, [{ partition: 0, value: 'written a period before the rest' }]);
  const long = await freshTopic(ctx, api, 1, { retentionMs: 600_000, segmentBytes: SEGMENT }, 'c7-long');
  const kept = await produceAcked(ctx, api, long, batch('kept'));
  const short = await freshTopic(ctx, api, 1, { retentionMs: 1000, segmentBytes: SEGMENT }, 'c7-short');
  await ctx.sleep(Math.max(0, firstAt + period + 300 - Date.now()));
  // Taken before the produce: the broker stamps these messages no earlier, so they are young until restAt + period.
  const restAt = Date.now();
  await produceAcked(ctx, api, mixed, batch('young'));
  // Written after the mixed topic's batch: a pass that removes these ran while that batch was young.
  await produceAcked(ctx, api, short, batch('expires'));
  const writtenAt = Date.now();
  // The upper bound: every closed segment of the 1 s topic is past its period 1 s after the writes, and a pass
  // comes within the interval after that (both on the broker's timers: scaled, plus this process's measured lag).
  const interval = ctx.setting('retentionCheckIntervalMs', SPEC_RETENTION_CHECK_INTERVAL_MS);
  const slack = checkSlack(ctx.evidence, 5000);
  const removalBound = () => slack.bound(timeLimit(1000 + interval));

  let state: Topic | undefined;
  for (;;) {
    // From when the question was sent: an answer that comes late may describe the log as it was before.
    const waited = Date.now() - writtenAt;
    state = okBody<Topic>(ctx, await api.describeTopic(short), 200, 'describing the 1 s topic');
    if (state.partitionStates[0]!.logStartOffset > 0) break;
    if (waited > removalBound() && removalBound() <= RETENTION_WAIT_MS)
      ctx.fail(
        `retention removed nothing of a 1 s topic's ${N} messages in 1 KiB segments ${waited} ms after they were written: past the bound of ${removalBound()} ms (its period + retentionCheckIntervalMs ${interval}, scaled, with the measured slack)`,
      );
    if (waited > RETENTION_WAIT_MS)
      ctx.skip(
        `retention removed nothing of a 1 s topic's ${N} messages in ${RETENTION_WAIT_MS} ms of small segments (its declared retentionCheckIntervalMs, ${interval}, is longer than this check waits), so whether it removes too early cannot be seen`,
      );
    await ctx.sleep(250);
  }
  const removedAfterMs = Date.now() - writtenAt;
  // At once: the mixed topic's young messages age while the rest is read.
  const mixedGraded = await mixedSegmentKept(ctx, api, mixed, restAt + period);
  const ps = state.partitionStates[0]!;
  // The active segment is never removed; what is left reads back intact from the new start, and the start itself
  // is now out of range.
  ctx.expect(
    ps.endOffset === N && ps.logStartOffset < N,
    `the 1 s topic kept offsets ${ps.logStartOffset}..${ps.endOffset}: ${N} were written and the active segment must stay`,
  );
  const rest = await readPartition(ctx, api, short, 0, ps.logStartOffset);
  ctx.expect(
    rest.messages.length === N - ps.logStartOffset &&
      rest.messages.every((m, i) => m.value === batch('expires')[ps.logStartOffset + i]!.value),
    `the 1 s topic's messages from ${ps.logStartOffset} do not read back as written`,
  );
  ctx.expectStatus(await api.fetch(short, 0, { offset: 0 }), 422, 'offset_out_of_range');
  // The 10 min topic: retention has run since its messages were written, and removed none of them.
  await verifyAcked(ctx, api, long, kept, "after retention removed the 1 s topic's segments (10 min topic)");
  ctx.evidence.retention = {
    removedAfterMs,
    removalBoundMs: removalBound(),
    shortLogStartOffset: ps.logStartOffset,
    longKept: kept.length,
    mixedPeriodMs: period,
    mixedGraded,
  };
  if (!mixedGraded)
    ctx.skip(
      `retention removed the 1 s topic's segments only ${removedAfterMs} ms after the writes, near or past the ${period} ms period of the topic whose closed segment mixes an old message with young ones: whether it removes a segment by its oldest message cannot be seen`,
    );
}

/**
 * The mixed topic once a retention pass has run (it removed the 1 s topic's segments written after the young
 * batch): described before `youngUntil`, its first segment holds messages younger than the period, so it must still
 * start at 0. False when the answer came too late to tell (every message may be past the period by then).
 */
async function mixedSegmentKept(ctx: CheckContext, api: MqApi, topic: string, youngUntil: number): Promise<boolean> {
  const x = await api.describeTopic(topic);
  const answeredAt = Date.now();
  if (answeredAt > youngUntil - 100) return false;
  const start = okBody<Topic>(ctx, x, 200, `describing ${topic}`).partitionStates[0]!.logStartOffset;
  ctx.expect(
    start === 0,
    `${topic} starts at ${start}, ${youngUntil - answeredAt} ms before the messages written behind its first one are past the period: a closed segment holding messages younger than retentionMs was removed (by its oldest message's age)`,
    x,
  );
  return true;
}
