// MQ-F4, an idempotent batch's retry with acks=all: a repeat is answered with its original records, and with acks
// all only once every in-sync replica has the whole batch (openapi.yaml produce), not once the high watermark passed
// its first record. A follower copies a large batch in several fetches, so the high watermark can stand inside it:
// both followers are stopped the moment the leader describes it there, and the retry must then not be a 200.
import type { CheckContext } from '../../core/check-context.ts';
import { type Acked, appendedRecords, type MqApi, okBody, type ProduceResult, type Topic } from './api.ts';
import { bound, onNode, waitForFullIsr, whilePaused } from './cluster-client.ts';

/** A batch of about 3.6 MB (under the 4 MiB body limit): several fetches' worth for a follower. */
const BATCH = 56;
const VALUE_CHARS = 65_000;
const ATTEMPTS = 6;

/** The leader's high watermark for `p` (its endOffset), or null when it does not answer 200. */
async function leaderHw(ctx: CheckContext, leader: string, topic: string, p: number): Promise<number | null> {
  const x = await onNode(ctx, leader).describeTopic(topic);
  return x.status === 200 ? (x.body as Topic).partitionStates[p]!.endOffset : null;
}

export async function retryWaitsForWholeBatch(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  leader: string,
  followers: readonly string[],
  acked: Acked[],
): Promise<void> {
  const producerId = okBody<{ producerId: string }>(ctx, await api.initProducer(), 201, 'initProducer').producerId;
  let sequence = 0;
  const tries: unknown[] = [];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const values = Array.from({ length: BATCH }, (_, i) => `r${attempt}.${i} ${'x'.repeat(VALUE_CHARS)}`);
    const body = { producerId, sequence, messages: values.map((value) => ({ partition: p, value })) };
    sequence += BATCH;
    const x = await api.produce(topic, { ...body, acks: '1' });
    const r = okBody<ProduceResult>(ctx, x, 200, `a batch of ${BATCH} large messages (producer ${producerId})`);
    const batch = appendedRecords(ctx, r, x).map((rec, i) => ({ ...rec, key: null, value: values[i]!, tags: [] }));
    acked.push(...batch);
    const first = batch[0]!.offset;
    const last = batch.at(-1)!.offset;
    // Watched on the leader until its high watermark is inside the batch; both followers are stopped at once.
    const until = Date.now() + bound(10_000);
    let hw = await leaderHw(ctx, leader, topic, p);
    while (hw !== null && hw <= first && Date.now() < until) {
      ctx.throwIfStopped();
      hw = await leaderHw(ctx, leader, topic, p);
    }
    if (hw === null || hw <= first || hw > last) {
      tries.push({ attempt, first, last, hw, paused: false });
      await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: the followers are not back in the ISR`);
      continue;
    }
    const outcome = await whilePaused(ctx, [...followers], async () => {
      // A fetch a follower sent before it stopped may still reach the leader: the high watermark read twice, apart.
      await ctx.sleep(300);
      const a = await leaderHw(ctx, leader, topic, p);
      await ctx.sleep(300);
      const b = await leaderHw(ctx, leader, topic, p);
      if (a === null || a !== b || a <= first || a > last) return { hw: b, graded: false };
      const started = Date.now();
      const retry = await api.produce(topic, { ...body, acks: 'all' });
      ctx.expect(
        retry.status !== 200,
        `the acks=all retry of an idempotent batch at ${topic}/${p} offsets ${first}..${last} was answered 200 after ${Date.now() - started} ms while both followers (${followers.join(', ')}) were stopped and the high watermark stood at ${a}, inside the batch: a repeat with acks all is answered only once every in-sync replica has the whole batch`,
        retry,
      );
      ctx.expect(
        retry.status === null ||
          (retry.status === 503 && (retry.body as { code?: string }).code === 'not_enough_replicas'),
        `the acks=all retry with both followers stopped answered ${retry.status}, not 503 not_enough_replicas (or no answer)`,
        retry,
      );
      return { hw: a, graded: true, status: retry.status ?? retry.error, afterMs: Date.now() - started };
    });
    tries.push({ attempt, first, last, paused: true, ...outcome });
    await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: the resumed followers are not back in the ISR`);
    if (outcome.graded) break;
  }
  // Evidence of whether the step bit: a run where the high watermark never stood inside a batch grades nothing here.
  ctx.evidence.acksAllRetryInsideBatch = tries;
}
