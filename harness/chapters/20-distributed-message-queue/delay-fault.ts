// MQ-F6: kill -9 of the broker with acknowledged delayed messages pending, some due during the outage and some
// after it, and others already appended before the kill; more produced right after the restart beside them. After
// the restart each is appended exactly once (none lost, none twice), none before its time on the harness's clock,
// with its key and tags (delayed.ts's model), and one appended and then removed by retention before the kill is not
// appended again (delay-retention.ts). Then a second kill: messages all due at the restart are appended in deliverAt
// order, ties in produce order. Last, a kill in the middle of a due sweep's append (delay-mid-sweep.ts): each message
// once after the restart. It comes last because its 1,000 messages move a broker's id counter far past the few
// pending before the first kill, where a store that numbers new ones from the count it found pending (mutant
// delay-ids-from-pending-count) must collide with one of them: run first, it hid that bug (CI, 2026-12-07).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { type Acked, freshTopic, mqApi, partitionOfKey } from './api.ts';
import { killedMidSweep } from './delay-mid-sweep.ts';
import { delayedOrderAfterRestart } from './delay-order.ts';
import { delayedRemovedByRetention, notAppendedAgain } from './delay-retention.ts';
import { expectDelayedLog, produceWithDelays, type SentDelayed, watchDelayed } from './delayed.ts';

const P = 2;
/** The delay of the messages due after the restart (scaled by SDGRADE_TIME_SCALE). */
const LATER_MS = 6000;

export async function killWithDelaysPending(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const api = mqApi(ctx);
  const removed = await delayedRemovedByRetention(ctx, api);
  const topic = await freshTopic(ctx, api, P, {}, 'f6');
  const acked: Acked[] = [];
  const delayed: SentDelayed[] = [];
  const add = (b: { acked: Acked[]; delayed: SentDelayed[] }) => {
    acked.push(...b.acked);
    delayed.push(...b.delayed);
    return b;
  };
  // Appended before the kill: a restart must not append them again.
  const early = add(
    await produceWithDelays(
      ctx,
      api,
      topic,
      Array.from({ length: 6 }, (_, i) => ({ partition: i % P, value: `before-${i}`, tags: ['moved'], delayMs: 300 })),
    ),
  );
  // Each partition watched on its own (at once): when a message is seen is not held up by another partition's wait.
  const partitions = Array.from({ length: P }, (_, p) => p);
  await Promise.all(partitions.map((p) => watchDelayed(ctx, api, topic, p, 0, early.delayed, 'before the kill')));
  // Pending at the kill: due during the outage (200 ms) and after the restart (6 s, scaled: a restart on a slow
  // machine takes seconds, and the later ones must still be pending once it is up); acks all and 1; keyed, tagged.
  const laterMs = timeLimit(LATER_MS);
  // A keyed one names no partition: it goes where its key hashes (the delayed ones' keys to partition 1, the
  // immediate one's to 0), so a broker that keeps a delayed message for another partition than its key's is seen.
  for (const acks of ['all', '1'] as const) {
    const b = add(
      await produceWithDelays(
        ctx,
        api,
        topic,
        Array.from({ length: 8 }, (_, i) => ({
          value: `pending-${acks}-${i}`,
          ...(i % 3 === 0 ? { key: `key-${acks}-${i}` } : { partition: i % P }),
          ...(i % 2 === 0 ? { tags: ['pending', `n${i}`] } : {}),
          ...(i < 6 ? { delayMs: i < 3 ? 200 : laterMs } : {}),
        })),
        acks,
      ),
    );
    for (const m of [...b.acked, ...b.delayed])
      if (m.key !== null)
        ctx.expect(
          m.partition === partitionOfKey(m.key, P),
          `${m.value} (key ${m.key}) was answered for partition ${m.partition}, not crc32(key) mod ${P} = ${partitionOfKey(m.key, P)}`,
        );
  }
  const pendingAtKill = delayed.length - early.delayed.length;
  const killedAt = Date.now();
  await ctx.target.kill();
  ctx.expect((await api.describeTopic(topic)).status === null, 'the broker still answered after kill -9');
  await ctx.target.start();
  const upAgainAt = Date.now();
  ctx.changed('killed (kill -9) the broker with delayed messages pending, and restarted it');
  // Delayed messages produced right after the restart, while the 6 s ones are still pending: each is kept beside
  // them, none in the place of one (a store that numbers new ones from what it found pending, say, loses some).
  add(
    await produceWithDelays(
      ctx,
      api,
      topic,
      Array.from({ length: 8 }, (_, i) => ({ partition: i % P, value: `after-restart-${i}`, delayMs: 300 })),
    ),
  );
  // Whether the later ones were still pending when these were produced: else this part graded nothing, and a restart
  // slower than the scaled delay (the machine's speed, not the broker's fault) makes the check skipped, never passed.
  const laterDueAt = Math.min(...delayed.filter((d) => d.delayMs === laterMs).map((d) => d.answeredAt)) + laterMs;
  const producedAfterRestartAt = Date.now();
  ctx.evidence.afterRestartProducedBeforeLaterDue = producedAfterRestartAt < laterDueAt;
  const besidePendingNotGraded =
    producedAfterRestartAt < laterDueAt
      ? null
      : `the restart took ${upAgainAt - killedAt} ms, so the messages produced after it came ${producedAfterRestartAt - laterDueAt} ms after the pending ones (delay ${laterMs} ms) were due: produced beside pending ones was not graded`;
  const pending = delayed.slice(early.delayed.length);
  await Promise.all(partitions.map((p) => watchDelayed(ctx, api, topic, p, 0, pending, 'after kill -9', upAgainAt)));
  for (let p = 0; p < P; p++) await expectDelayedLog(ctx, api, topic, p, acked, delayed, 'after kill -9');
  // Once (the ones appended before the kill too): a while later nothing more was appended.
  await ctx.sleep(1000);
  for (let p = 0; p < P; p++) await expectDelayedLog(ctx, api, topic, p, acked, delayed, 'a second later');
  const retentionNotGraded = await notAppendedAgain(ctx, api, removed);
  ctx.evidence.delayedBeforeKill = early.delayed.length;
  ctx.evidence.pendingAtKill = pendingAtKill;
  // A second kill: several due at once at the restart go in deliverAt order (delay-order.ts).
  await delayedOrderAfterRestart(ctx, api);
  // Last: a kill in the middle of a due sweep (delay-mid-sweep.ts; why last: the head comment).
  const midSweepNotGraded = await killedMidSweep(ctx, api);
  // Every other part passed: a part that could not run makes the check skipped with its reason, never passed.
  if (midSweepNotGraded) ctx.skip(midSweepNotGraded);
  if (besidePendingNotGraded) ctx.skip(besidePendingNotGraded);
  if (retentionNotGraded) ctx.skip(retentionNotGraded);
}
