// MQ-F6's ordering part: several delayed messages due at once are appended in deliverAt order, ties in produce
// order (README "Delayed messages"). Only a restart makes several due at once deterministically, so: messages
// produced with deliverAt the reverse of produce order (and a tie within one batch), the broker killed (kill -9)
// well before the first is due, restarted only once all are due. The expected order comes from the deliverAt each
// produce was answered with (the broker's clock), so the reference passes however slow the machine is; a broker
// that appends them in produce order is caught whenever the kill came before the first was due (the evidence says).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { freshTopic, type MqApi, readPartition } from './api.ts';
import { DELAY_SKEW_MS, produceWithDelays, type SentDelayed, watchDelayed } from './delayed.ts';

/** The shortest delay: far more than a kill takes after the last produce, even on a busy runner. */
const SHORTEST_MS = 2000;
/** Between the deliverAt of messages produced one after another, so produce order and deliverAt order differ. */
const STEP_MS = 1000;

export async function delayedOrderAfterRestart(ctx: CheckContext, api: MqApi): Promise<void> {
  const topic = await freshTopic(ctx, api, 1, {}, 'f6order');
  const shortest = timeLimit(SHORTEST_MS);
  const step = timeLimit(STEP_MS);
  // Produced longest delay first: deliverAt order is the reverse of produce order; the last batch is a tie.
  const batches = [[2], [1], [0, 0]].map((steps, b) =>
    steps.map((s, i) => ({ partition: 0, value: `order-${b}-${i}`, delayMs: shortest + s * step })),
  );
  const sent: SentDelayed[] = [];
  for (const messages of batches) sent.push(...(await produceWithDelays(ctx, api, topic, messages)).delayed);
  const lastAnswered = Math.max(...sent.map((d) => d.answeredAt));
  await ctx.target.kill();
  const killedAfterMs = Date.now() - lastAnswered;
  // All due before the restart, on the harness's clock (each deliverAt is at most its answer + its delay).
  const allDue = Math.max(...sent.map((d) => d.answeredAt + d.delayMs)) + DELAY_SKEW_MS;
  await ctx.sleep(Math.max(0, allDue - Date.now()));
  await ctx.target.start();
  const upAgainAt = Date.now();
  ctx.changed('killed (kill -9) the broker with delayed messages pending, and restarted it once all were due');
  // Appended within the delivery bound after the restart (the reference does it before it answers).
  await watchDelayed(ctx, api, topic, 0, 0, sent, 'all due at the restart', upAgainAt);
  // deliverAt order, ties in produce order (sent is in produce order, and sort is stable).
  const expected = [...sent].sort((a, b) => a.deliverAt - b.deliverAt).map((d) => d.value);
  const { messages } = await readPartition(ctx, api, topic, 0);
  const got = messages.map((m) => m.value);
  ctx.expect(
    JSON.stringify(got) === JSON.stringify(expected),
    `delayed messages all due at the restart were appended as ${JSON.stringify(got)}, not in deliverAt order (ties in produce order) ${JSON.stringify(expected)}; deliverAt ${JSON.stringify(sent.map((d) => [d.value, d.deliverAt]))}`,
  );
  ctx.evidence.delayOrder = {
    expected,
    // The scenario bites when the kill came before the first was due and deliverAt order is not produce order.
    killedBeforeDue: killedAfterMs < shortest - DELAY_SKEW_MS,
    reversed: expected.join() !== sent.map((d) => d.value).join(),
  };
}
