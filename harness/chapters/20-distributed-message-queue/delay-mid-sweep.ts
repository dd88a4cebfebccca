// MQ-F6's kill in the middle of a due sweep: a broker that appends due delayed messages must be able to tell, after a
// kill -9, which of them the append had written (the spec README's note of the offsets, written before the append).
// The window is the append itself, so the check makes it long and times the kill by an event, not by a clock:
// 1,000 messages of 600 bytes due at once to a partition of 1 KiB segments roll a segment per record, and the kill
// is sent the moment the harness sees the first new segment file (inotify), with hundreds of files still to come.
import { existsSync, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { freshTopic, type MqApi } from './api.ts';
import { waitForState } from './cluster-client.ts';
import { expectDelayedLog, produceWithDelays } from './delayed.ts';

/** Messages due in one sweep, each in a segment of its own (the spec's smallest segment, two values do not fit). */
const COUNT = 1000;
const SEGMENT_BYTES = 1024;
const VALUE_CHARS = 600;
/** Scaled: the harness must have taken the produce's answer (1,000 records, validated) before the sweep starts. */
const DELAY_MS = 1500;
/** How long after they are due the check waits for the first new segment before it kills anyway. */
const SWEEP_WAIT_MS = 5000;

const segments = (dir: string) => readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f));

/**
 * Kills the broker as its due sweep starts writing, restarts it, and requires each message once. Answers why the
 * kill could not be timed (no segment files where the spec README's layout puts them), or null.
 */
export async function killedMidSweep(ctx: CheckContext, api: MqApi): Promise<string | null> {
  const topic = await freshTopic(ctx, api, 1, { segmentBytes: SEGMENT_BYTES }, 'f6sweep');
  const dataDir = ctx.target.dataDir?.();
  const dir = dataDir ? join(dataDir, `${topic}-0`) : '';
  if (!dataDir || !existsSync(dir)) {
    const why = `no ${dir || '<dataDir>/<topic>-0'} directory (the spec README's layout): a kill in the middle of a due sweep cannot be timed, so whether a restart appends again what it had written was not graded`;
    ctx.evidence.midSweep = why;
    return why;
  }
  const before = new Set(segments(dir));
  let killing: Promise<void> | undefined;
  let newFileSeen = false;
  const watcher = watch(dir, (_event, name) => {
    if (!name || !/^\d{20}\.log$/.test(name) || before.has(name) || killing) return;
    newFileSeen = true;
    killing = ctx.target.kill();
  });
  let killedAt = 0;
  let readyAt = 0;
  const delayMs = timeLimit(DELAY_MS);
  let delayed: Awaited<ReturnType<typeof produceWithDelays>>['delayed'];
  try {
    ({ delayed } = await produceWithDelays(
      ctx,
      api,
      topic,
      Array.from({ length: COUNT }, (_, i) => ({
        partition: 0,
        value: `sweep ${i} `.padEnd(VALUE_CHARS, '.'),
        delayMs,
      })),
    ));
    readyAt = Date.now();
    const until = Math.max(...delayed.map((d) => d.answeredAt)) + delayMs + timeLimit(SWEEP_WAIT_MS);
    while (!killing && Date.now() < until) await ctx.sleep(5);
    killing ??= ctx.target.kill();
    await killing;
    killedAt = Date.now();
  } finally {
    watcher.close();
  }
  // How far the append had come: a segment rolled per record written after the first.
  const rolled = segments(dir).length - before.size;
  await ctx.target.start();
  const upAgainAt = Date.now();
  ctx.changed(
    `killed (kill -9) the broker ${newFileSeen ? 'as its due sweep started writing' : 'after its messages were due'}, and restarted it`,
  );
  const what = 'after a kill -9 in the middle of a due sweep';
  // Once all are there (their timing is graded by the other parts: reading 1,000 records of 1 KiB segments on a
  // loaded machine is no delivery latency), each must be there once.
  await waitForState(
    ctx,
    api,
    topic,
    10_000,
    (t) => t.partitionStates[0]!.endOffset >= COUNT,
    `${what}: the ${COUNT} delayed messages were not all appended`,
  );
  await expectDelayedLog(ctx, api, topic, 0, [], delayed, what);
  // The fault bit when the append had written some records of the sweep but not all.
  const landedInAppend = rolled > 0 && rolled < COUNT - 1;
  ctx.evidence.midSweep = {
    messages: COUNT,
    timedByNewSegment: newFileSeen,
    rolledAtKill: rolled,
    landedInAppend,
    // How long before their time the harness had the answer and was watching (a kill cannot be timed otherwise).
    watchingBeforeDueMs: Math.min(...delayed.map((d) => d.deliverAt)) - readyAt,
    restartMs: upAgainAt - killedAt,
  };
  // A kill that came after the whole append (a harness slower than the broker's sweep) graded nothing of it: this
  // part is then skipped with the figures, never passed.
  if (newFileSeen && !landedInAppend)
    return `the kill landed after the due sweep's append had written ${rolled} of ${COUNT} segments: whether a restart appends again what a sweep had written was not graded`;
  if (newFileSeen) return null;
  return `no new segment file appeared in ${dir} within ${timeLimit(SWEEP_WAIT_MS)} ms of the ${COUNT} delayed messages' time (1 KiB segments): the kill could not be timed inside a due sweep, so whether a restart appends again what the sweep had written was not graded`;
}
