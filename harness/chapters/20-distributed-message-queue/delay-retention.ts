// MQ-F6's retention part: a delayed message appended once stays appended once, also when retention has removed it
// (with its segment) before the kill. A broker that notes each append to check it against the log at the restart
// must not take a record retention removed for an append that never happened: that delivers the message again.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { freshTopic, type MqApi, okBody, produceAcked, readPartition, type Topic } from './api.ts';
import { produceWithDelays, watchDelayed } from './delayed.ts';

/** How long the check waits for retention to remove a 1 s topic's closed segment before it says it cannot tell. */
const RETENTION_WAIT_MS = 30_000;

export interface RemovedDelayed {
  topic: string;
  value: string;
  /** Null: retention removed nothing within the wait, so this part cannot be graded. */
  removedAfterMs: number | null;
}

/**
 * Before the kill: on a 1 s topic of 1 KiB segments, a delayed message (offset 0) is appended, then enough is
 * written behind it to close its segment, and the check waits until retention has removed it (logStartOffset > 0).
 */
export async function delayedRemovedByRetention(ctx: CheckContext, api: MqApi): Promise<RemovedDelayed> {
  const topic = await freshTopic(ctx, api, 1, { retentionMs: 1000, segmentBytes: 1024 }, 'f6ret');
  const value = 'delayed, appended, then removed by retention';
  const { delayed } = await produceWithDelays(ctx, api, topic, [{ partition: 0, value, delayMs: 200 }]);
  await watchDelayed(ctx, api, topic, 0, 0, delayed, 'before retention removed it');
  await produceAcked(
    ctx,
    api,
    topic,
    Array.from({ length: 8 }, (_, i) => ({ partition: 0, value: `behind it ${i} `.padEnd(300, '.') })),
  );
  const writtenAt = Date.now();
  const wait = timeLimit(RETENTION_WAIT_MS);
  for (;;) {
    const t = okBody<Topic>(ctx, await api.describeTopic(topic), 200, `describing ${topic} (1 s retention)`);
    if (t.partitionStates[0]!.logStartOffset > 0) return { topic, value, removedAfterMs: Date.now() - writtenAt };
    if (Date.now() - writtenAt > wait) return { topic, value, removedAfterMs: null };
    await ctx.sleep(250);
  }
}

/**
 * After the restart (and the time a due message takes to be appended): the removed message is not there again.
 * Answers why this part could not be graded (the caller skips the check with it once every other part passed), or null.
 */
export async function notAppendedAgain(ctx: CheckContext, api: MqApi, r: RemovedDelayed): Promise<string | null> {
  if (r.removedAfterMs === null) {
    const why = `retention removed nothing of a 1 s topic within ${timeLimit(RETENTION_WAIT_MS)} ms, so whether a delayed message removed by retention is appended again after a restart was not graded`;
    ctx.evidence.delayedRemovedByRetention = why;
    return why;
  }
  ctx.evidence.delayedRemovedByRetention = `removed ${r.removedAfterMs} ms after the writes behind it`;
  const t = okBody<Topic>(ctx, await api.describeTopic(r.topic), 200, `describing ${r.topic} after the restart`);
  const { messages } = await readPartition(ctx, api, r.topic, 0, t.partitionStates[0]!.logStartOffset);
  const again = messages.filter((m) => m.value === r.value).map((m) => m.offset);
  ctx.expect(
    again.length === 0,
    `${r.topic}/0: the delayed message appended at offset 0 and removed by retention before the kill was appended again after the restart (offsets ${again.join(', ')}): delivered twice`,
  );
  return null;
}
