// MQ-C7: retention removes whole closed segments past a topic's period and never a message younger.
import type { CheckContext } from '../../core/check-context.ts';
import { freshTopic, mqApi, okBody, produceAcked, readPartition, type Topic, verifyAcked } from './api.ts';

/** How long MQ-C7 waits for retention to remove a 1 s topic's closed segments before it says it cannot tell. */
const RETENTION_WAIT_MS = 60_000;

/**
 * MQ-C7: two topics of small segments, one with a 10 min period, one with the shortest (1 s), written at the same
 * time (the long one first, so its segments are the older). Once retention has removed the short topic's old
 * segments, it has run over the long topic too: every message of it must still be there from offset 0. The spec
 * names no retention schedule: a target that removes nothing within RETENTION_WAIT_MS is skipped with that reason.
 */
export async function retentionConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const SEGMENT = 1024;
  const N = 40;
  const batch = (tag: string) =>
    Array.from({ length: N }, (_, i) => ({ partition: 0, value: `${tag} ${i} ü😀 ${'r'.repeat(100)}` }));
  const long = await freshTopic(ctx, api, 1, { retentionMs: 600_000, segmentBytes: SEGMENT }, 'c7-long');
  const kept = await produceAcked(ctx, api, long, batch('kept'));
  const short = await freshTopic(ctx, api, 1, { retentionMs: 1000, segmentBytes: SEGMENT }, 'c7-short');
  await produceAcked(ctx, api, short, batch('expires'));
  const writtenAt = Date.now();

  let state: Topic | undefined;
  for (;;) {
    state = okBody<Topic>(ctx, await api.describeTopic(short), 200, 'describing the 1 s topic');
    if (state.partitionStates[0]!.logStartOffset > 0) break;
    if (Date.now() - writtenAt > RETENTION_WAIT_MS)
      ctx.skip(
        `retention removed nothing of a 1 s topic's ${N} messages in ${RETENTION_WAIT_MS} ms of small segments: the target runs it less often, so whether it removes too early cannot be seen`,
      );
    await ctx.sleep(250);
  }
  const removedAfterMs = Date.now() - writtenAt;
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
  ctx.evidence.retention = { removedAfterMs, shortLogStartOffset: ps.logStartOffset, longKept: kept.length };
}
