// MQ-C10: delayed messages (the book's "delayed messages & scheduled messages"). Checked against the model of what
// the client produced (delayed.ts): never readable before its delay on the harness's clock, nor stamped before the
// deliverAt it was answered with (a ladder of delays 20 ms apart), readable within the spec's bound after (a long
// poll woken by it), once, with its key and tags, at an offset taken when it is appended.
import type { CheckContext } from '../../core/check-context.ts';
import { type Acked, type FetchResult, freshTopic, mqApi, okBody } from './api.ts';
import { expectDelayedLog, produceWithDelays, type SentDelayed, watchDelayed } from './delayed.ts';

/** The spec's longest delay: seven days. */
const MAX_DELAY_MS = 604_800_000;
/** Delayed messages due one after another, LADDER_STEP_MS apart, after late-600 (a broker's sweep must not run ahead). */
const LADDER = 15;
const LADDER_STEP_MS = 20;
/** How far the broker's clock may be from the harness's for deliverAt (a broker on another machine). */
const CLOCK_SKEW_MS = 5 * 60_000;

export async function delayConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const topic = await freshTopic(ctx, api, 1, {}, 'c10');
  // Bad delays: 400, and nothing appended or kept (the batch's good message neither).
  for (const delayMs of [-1, MAX_DELAY_MS + 1, 1.5, '100', null, true]) {
    const x = await ctx.http.send({
      method: 'POST',
      path: `/api/v1/topics/${topic}/messages`,
      json: {
        messages: [
          { partition: 0, value: 'fine' },
          { partition: 0, value: 'bad delay', delayMs },
        ],
      },
      validRequest: false,
    });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  // The longest delay is valid: answered with its deliverAt seven days on (never readable during this check).
  const week = await produceWithDelays(ctx, api, topic, [{ partition: 0, value: 'a-week', delayMs: MAX_DELAY_MS }]);
  for (const d of week.delayed)
    ctx.expect(
      d.deliverAt >= d.sentAt + MAX_DELAY_MS - CLOCK_SKEW_MS &&
        d.deliverAt <= d.answeredAt + MAX_DELAY_MS + CLOCK_SKEW_MS,
      `a-week: deliverAt ${d.deliverAt} is not ${MAX_DELAY_MS} ms (seven days) after the produce (${d.sentAt}) on the harness's clock, give or take ${CLOCK_SKEW_MS} ms`,
    );
  // A batch refused for an unknown partition keeps nothing, its delayed message neither (due long before the end of
  // this check, it must never be appended: the partition is read whole against the model below).
  const refused = await api.produce(topic, {
    messages: [
      { partition: 0, value: 'refused-delayed', delayMs: 300 },
      { partition: 1, value: 'to a partition the topic does not have' },
    ],
  });
  ctx.expectStatus(refused, 422, 'unknown_partition');
  const acked: Acked[] = [];
  const delayed: SentDelayed[] = [];
  // A batch mixing delayed and immediate messages, then a shorter delay produced after it (due ~2.9 s before it: a
  // broker that does not move its timer earlier for it delivers it far outside the bound), then one of delayMs 0.
  const first = await produceWithDelays(ctx, api, topic, [
    { partition: 0, value: 'now-a', tags: ['x'] },
    { partition: 0, key: 'payment-88', value: 'late-3500', tags: ['late', 'x'], delayMs: 3500 },
    { partition: 0, value: 'now-b' },
  ]);
  ctx.expect(
    first.acked.map((a) => a.offset).join() === '0,1',
    `the immediate messages of the first batch took offsets ${first.acked.map((a) => a.offset)}, not 0,1 (the delayed one between them takes none yet)`,
  );
  // With it, in the same batch (one deliverAt base), a ladder of delays 20 ms apart: however late the broker's timer
  // fires for one, the next is due just after it, so a sweep that takes messages not quite due (to spare a timer)
  // appends one before its deliverAt, which its timestamp shows (watchDelayed).
  const ladder = Array.from({ length: LADDER }, (_, i) => 600 + LADDER_STEP_MS * (i + 1));
  const second = await produceWithDelays(
    ctx,
    api,
    topic,
    [
      { key: 'k', value: 'late-600', delayMs: 600 },
      ...ladder.map((delayMs) => ({ partition: 0, value: `late-${delayMs}`, delayMs })),
    ],
    '1',
  );
  const third = await produceWithDelays(ctx, api, topic, [{ partition: 0, value: 'now-c', delayMs: 0 }]);
  for (const b of [first, second, third]) {
    acked.push(...b.acked);
    delayed.push(...b.delayed);
  }
  for (const d of delayed) {
    d.after = Math.max(d.after, 1); // now-a and now-b were acknowledged before any delayed one could be appended
    ctx.expect(
      d.deliverAt >= d.sentAt + d.delayMs - CLOCK_SKEW_MS && d.deliverAt <= d.answeredAt + d.delayMs + CLOCK_SKEW_MS,
      `${d.value}: deliverAt ${d.deliverAt} is not ${d.delayMs} ms after the produce (${d.sentAt}) on the harness's clock, give or take ${CLOCK_SKEW_MS} ms`,
    );
  }
  // Nothing delayed is readable yet: the partition ends after the three immediate messages.
  const now = okBody<FetchResult>(ctx, await api.fetch(topic, 0, { offset: 0 }), 200, 'fetching at once');
  ctx.expect(
    now.messages.map((m) => m.value).join() === 'now-a,now-b,now-c',
    `right after the produces the partition holds ${JSON.stringify(now.messages.map((m) => m.value))}, not the three immediate messages alone`,
  );
  // Long polls from the end: each delayed message wakes one, not before its time, within the bound after it.
  await watchDelayed(ctx, api, topic, 0, 3, delayed, 'waiting for the delayed messages');
  // The shorter delay, produced later, is due first: appended first.
  const log = await expectDelayedLog(ctx, api, topic, 0, acked, delayed, 'after both delays');
  const inOrder = ['now-a', 'now-b', 'now-c', 'late-600', ...ladder.map((ms) => `late-${ms}`), 'late-3500'];
  ctx.expect(
    log.map((m) => m.value).join() === inOrder.join(),
    `the partition reads ${JSON.stringify(log.map((m) => m.value))}: delayed messages must take the next offsets when they are due, the earlier due first`,
  );
  // Its tags came with it: a fetch filtered by one finds it at its new offset.
  const tagged = okBody<FetchResult>(ctx, await api.fetch(topic, 0, { offset: 0, tags: ['late'] }), 200, 'tags=late');
  ctx.expect(
    tagged.messages.map((m) => `${m.offset}:${m.value}`).join() === `${inOrder.length - 1}:late-3500`,
    `a fetch with tags=late answered ${JSON.stringify(tagged.messages.map((m) => `${m.offset}:${m.value}`))}, not the delayed message at offset ${inOrder.length - 1}`,
  );
  // Delivered once: a while later nothing more was appended.
  await ctx.sleep(1000);
  await expectDelayedLog(ctx, api, topic, 0, acked, delayed, 'a second after both delays');
  ctx.evidence.delayed = delayed.map((d) => ({ value: d.value, delayMs: d.delayMs }));
}
