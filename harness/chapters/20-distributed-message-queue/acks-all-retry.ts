// MQ-F4, an idempotent batch's retry with acks=all: a repeat is answered with its original records, and with acks
// all only once every in-sync replica has the whole batch (openapi.yaml produce), not once the high watermark passed
// its first record. A follower copies a large batch in several fetches, so the high watermark can stand inside it:
// both followers are stopped before the batch and let run a few milliseconds at a time until the leader describes
// it there (timed by what the leader says, not by a clock), and the retry is then sent with both stopped.
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Acked,
  appendedRecords,
  type MqApi,
  okBody,
  type ProduceResult,
  readPartition,
  type Topic,
} from './api.ts';
import { bound, onNode, waitForFullIsr, whilePaused } from './cluster-client.ts';

/** A batch of about 2.6 MB: three fetches of 1 MiB for a follower, and quick to send again under load. */
const BATCH = 40;
const VALUE_CHARS = 65_000;
const ATTEMPTS = 6;
/**
 * Runs of the followers per attempt, in ms: stopped again at once first (the signals are sent back to back), then
 * longer while a run moves nothing. Every run must fit in the ISR's lag period after the append (a follower out of
 * the ISR lets the high watermark past the batch), so they are short.
 */
const STEPS = [0, 2, 4, 8, 16, 32, 64];

/** The leader's view of `p` (its endOffset is the high watermark), or null when it does not answer 200. */
async function leaderView(ctx: CheckContext, leader: string, topic: string, p: number) {
  const x = await onNode(ctx, leader).describeTopic(topic);
  return x.status === 200 ? { ...(x.body as Topic).partitionStates[p]!, exchange: x } : null;
}

/**
 * The leader's high watermark once the stopped followers' last fetches have reached it: read until two reads 50 ms
 * apart agree (a fetch sent just before the stop may still arrive).
 */
async function settledHw(ctx: CheckContext, leader: string, topic: string, p: number): Promise<number | null> {
  let before = (await leaderView(ctx, leader, topic, p))?.endOffset ?? null;
  for (let i = 0; i < 5; i++) {
    await ctx.sleep(50);
    const now = (await leaderView(ctx, leader, topic, p))?.endOffset ?? null;
    if (now === before) return now;
    before = now;
  }
  return null;
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
    const outcome = await whilePaused(ctx, [...followers], async () => {
      const x = await api.produce(topic, { ...body, acks: '1' });
      const r = okBody<ProduceResult>(ctx, x, 200, `a batch of ${BATCH} large messages (producer ${producerId})`);
      const batch = appendedRecords(ctx, r, x).map((rec, i) => ({ ...rec, key: null, value: values[i]!, tags: [] }));
      acked.push(...batch);
      const first = batch[0]!.offset;
      const last = batch.at(-1)!.offset;
      // The followers run a few milliseconds at a time until the leader's high watermark has entered the batch.
      const seen: (number | null)[] = [];
      let hw: number | null = first;
      for (let k = 0; k < STEPS.length && hw !== null && hw <= first; ) {
        for (const b of followers) await ctx.target.resume(b);
        if (STEPS[k]! > 0) await ctx.sleep(STEPS[k]!);
        for (const b of followers) await ctx.target.pause(b);
        hw = await settledHw(ctx, leader, topic, p);
        seen.push(hw);
        // A run that left the high watermark at the batch's start is followed by a longer one.
        if (hw !== null && hw <= first) k++;
      }
      if (hw === null || hw <= first || hw > last) return { first, last, seen, graded: false };
      // A repeat is the same sequence with as many messages (the spec): short values reach the broker at once.
      const repeat = values.map((_, i) => ({ partition: p, value: `repeat ${i}` }));
      const started = Date.now();
      const retry = await api.produce(topic, { producerId, sequence: body.sequence, messages: repeat, acks: 'all' });
      const afterMs = Date.now() - started;
      if (retry.status === 200) {
        // What acks=all answers is on every in-sync replica: one of the stopped followers lacks the batch's end, so
        // they cannot both still be in the ISR, and the batch is below the high watermark.
        const v = await leaderView(ctx, leader, topic, p);
        ctx.expect(
          v !== null && !followers.every((b) => v.isr?.includes(b)) && v.endOffset > last,
          `the acks=all retry of an idempotent batch at ${topic}/${p} offsets ${first}..${last} was answered 200 after ${afterMs} ms with both followers stopped and the high watermark at ${hw}, inside the batch; right after, the leader describes ISR [${(v?.isr ?? []).join(', ')}] and endOffset ${v?.endOffset}: a repeat with acks all is answered only once every in-sync replica has the whole batch`,
          v?.exchange ?? retry,
        );
      } else
        ctx.expect(
          retry.status === null ||
            (retry.status === 503 && (retry.body as { code?: string }).code === 'not_enough_replicas'),
          `the acks=all retry with both followers stopped answered ${retry.status}, not 200, 503 not_enough_replicas (or no answer)`,
          retry,
        );
      return { first, last, seen, graded: true, status: retry.status ?? retry.error, afterMs };
    });
    tries.push({ attempt, ...outcome });
    await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: the resumed followers are not back in the ISR`);
    if (outcome.graded) break;
  }
  // Whether the step bit: a run where the high watermark never stood inside a batch grades nothing here.
  ctx.evidence.acksAllRetryInsideBatch = tries;
}

/** An idempotent batch of one message, sent again as is (the spec's retry). */
export interface IdempotentOne {
  producerId: string;
  sequence: number;
  messages: { partition: number; value: string }[];
}

/**
 * After a batch was answered 503 (not_enough_replicas, maybe after its append): its retry until 200, 503 retried
 * (bounded, counted), then the partition holds its message once, at the offset the 200 names: a batch the replicas did
 * not confirm may be kept or not, never appended a second time by its retry.
 */
export async function retriedOnce(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  batch: IdempotentOne,
  ms: number,
): Promise<Acked> {
  const { partition: p, value } = batch.messages[0]!;
  const until = Date.now() + bound(ms);
  for (;;) {
    const x = await api.produce(topic, { ...batch, acks: 'all' });
    if (x.status === 200) {
      const r = okBody<ProduceResult>(ctx, x, 200, `the retry of producer ${batch.producerId}'s batch`);
      const [rec] = appendedRecords(ctx, r, x);
      const { messages } = await readPartition(ctx, api, topic, p);
      const at = messages.filter((m) => m.value === value).map((m) => m.offset);
      ctx.expect(
        at.length === 1 && at[0] === rec?.offset,
        `${topic}/${p}: the idempotent batch answered 503 with both followers stopped, retried until 200 (offset ${rec?.offset}) after they resumed, is in the partition at offsets [${at.join(', ')}]: its retry must not append it again`,
        x,
      );
      return { ...rec!, key: null, value, tags: [] };
    }
    if (Date.now() > until || (x.status !== 503 && x.status !== null))
      ctx.fail(`the retry of an idempotent batch to ${topic}/${p}: ${x.status ?? x.error}, never 200`, { exchange: x });
    ctx.evidence.acksAllRetries = ((ctx.evidence.acksAllRetries as number | undefined) ?? 0) + 1;
    await ctx.sleep(500);
  }
}
