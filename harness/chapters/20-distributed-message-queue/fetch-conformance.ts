// MQ-C4: fetching from an offset with every field, maxBytes, long polling (woken by acks all and acks 1) and the
// documented errors. Each response is also validated against the spec by ctx.http.
import type { CheckContext } from '../../core/check-context.ts';
import { digestOf, type FetchResult, freshTopic, type MqApi, mqApi, okBody, produceAcked, uniqueName } from './api.ts';

export async function fetchConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const topic = await freshTopic(ctx, api, 2, {}, 'c4');
  const values = ['plain', 'ünïcödé', '😀 non-BMP 𝄞', '', 'x'.repeat(1000)];
  const acked = await produceAcked(
    ctx,
    api,
    topic,
    values.map((value, i) => ({ partition: 0, value, key: i % 2 ? `key-${i}` : null })),
  );
  const x = await api.fetch(topic, 0, { offset: 0 });
  const r = okBody<FetchResult>(ctx, x, 200, 'fetching from 0');
  ctx.expect(r.topic === topic && r.partition === 0, 'the fetch names another partition', x);
  ctx.expect(r.endOffset === 5 && r.logStartOffset === 0, `offsets ${r.logStartOffset}..${r.endOffset}, not 0..5`, x);
  ctx.expect(r.messages.length === 5, `5 messages produced, ${r.messages.length} fetched`, x);
  r.messages.forEach((m, i) => {
    const a = acked[i]!;
    ctx.expect(
      m.topic === topic &&
        m.partition === 0 &&
        m.offset === a.offset &&
        m.offset === i &&
        m.value === a.value &&
        m.key === a.key &&
        m.timestamp === a.timestamp,
      `message ${i} is ${JSON.stringify(m)}; acknowledged ${JSON.stringify(a)}`,
      x,
    );
    const d = digestOf(a.value);
    ctx.expect(
      m.size === d.size && m.crc === d.crc,
      `message ${i}: size ${m.size} crc ${m.crc}, not ${d.size} ${d.crc}`,
      x,
    );
  });
  const mid = okBody<FetchResult>(ctx, await api.fetch(topic, 0, { offset: 3 }), 200, 'fetching from 3');
  ctx.expect(
    mid.messages.map((m) => m.offset).join() === '3,4',
    `from 3: offsets ${mid.messages.map((m) => m.offset)}`,
  );

  // maxBytes: at least one message whatever the bound; beyond the first, within it.
  const one = okBody<FetchResult>(ctx, await api.fetch(topic, 0, { offset: 4, maxBytes: 1 }), 200, 'maxBytes 1');
  ctx.expect(one.messages.length === 1, `maxBytes 1 answered ${one.messages.length} messages, not the one due`);
  await produceAcked(
    ctx,
    api,
    topic,
    Array.from({ length: 6 }, () => ({ partition: 1, value: 'z'.repeat(1000) })),
  );
  const some = okBody<FetchResult>(ctx, await api.fetch(topic, 1, { offset: 0, maxBytes: 2500 }), 200, 'maxBytes');
  const bytes = some.messages.reduce((s, m) => s + m.size, 0);
  ctx.expect(
    some.messages.length >= 1 && (some.messages.length === 1 || bytes <= 2500),
    `maxBytes 2500 answered ${some.messages.length} messages of ${bytes} bytes`,
  );
  ctx.evidence.boundedAcrossSegments = await maxBytesAcrossSegments(ctx, api);

  // Long polling. At the end offset with maxWait, an empty answer comes only after maxWait ...
  const waited = await api.fetch(topic, 0, { offset: 5, maxWait: 400 });
  ctx.expect(okBody<FetchResult>(ctx, waited, 200, 'an empty long poll').messages.length === 0, 'no message was due');
  ctx.expect(
    waited.durationMs >= 350,
    `a long poll with maxWait 400 answered empty after ${Math.round(waited.durationMs)} ms: it did not wait`,
    waited,
  );
  // ... and a message produced meanwhile is answered as soon as it is appended, long before maxWait.
  const maxWait = 20_000;
  const polling = api.fetch(topic, 0, { offset: 5, maxWait });
  await ctx.sleep(200);
  const [late] = await produceAcked(ctx, api, topic, [{ partition: 0, value: 'woke the poll' }]);
  const woke = await polling;
  const w = okBody<FetchResult>(ctx, woke, 200, 'the long poll');
  ctx.expect(
    w.messages[0]?.offset === late!.offset && w.messages[0].value === 'woke the poll',
    `the long poll answered ${JSON.stringify(w.messages.map((m) => m.offset))}, not the message produced meanwhile`,
    woke,
  );
  ctx.expect(
    woke.durationMs < maxWait,
    `the long poll answered only after its maxWait (${Math.round(woke.durationMs)} ms)`,
    woke,
  );
  // The same with acks 1 (written, not fsynced): an append wakes a long poll whatever its acks.
  const polling1 = api.fetch(topic, 0, { offset: late!.offset + 1, maxWait });
  await ctx.sleep(200);
  const [late1] = await produceAcked(ctx, api, topic, [{ partition: 0, value: 'woke it with acks 1' }], '1');
  const woke1 = await polling1;
  const w1 = okBody<FetchResult>(ctx, woke1, 200, 'the long poll woken by acks 1');
  ctx.expect(
    w1.messages[0]?.offset === late1!.offset && woke1.durationMs < maxWait,
    `a long poll answered ${JSON.stringify(w1.messages.map((m) => m.offset))} after ${Math.round(woke1.durationMs)} ms (maxWait ${maxWait}): an acks 1 message did not wake it`,
    woke1,
  );
  ctx.evidence.longPoll = {
    emptyAfterMs: Math.round(waited.durationMs),
    wokeAfterMs: Math.round(woke.durationMs),
    wokeByAcks1AfterMs: Math.round(woke1.durationMs),
  };

  ctx.expectStatus(await api.fetch(topic, 0, { offset: 8 }), 422, 'offset_out_of_range');
  ctx.expectStatus(await api.fetch(topic, 2, { offset: 0 }), 404, 'unknown_partition');
  ctx.expectStatus(await api.fetch(uniqueName('c4-none'), 0, { offset: 0 }), 404, 'topic_not_found');
  const base = `/api/v1/topics/${topic}/partitions/0/messages`;
  for (const q of ['', '?offset=-1', '?offset=a', '?offset=0&maxWait=30001', '?offset=0&maxBytes=0', '?offset=1.5']) {
    const bad = await ctx.http.send({ method: 'GET', path: base + q, validRequest: false });
    ctx.expectStatus(bad, 400, 'invalid_request');
  }
}

/**
 * maxBytes also bounds a batch that goes on into the next segment: 300-byte values in 1 KiB segments (three a
 * segment), fetched from every offset with maxBytes 400 and 700. A batch from a segment's last message has little of
 * its budget left for the next segment's first, which must not be answered beyond it (only a batch's first is).
 */
async function maxBytesAcrossSegments(ctx: CheckContext, api: MqApi): Promise<number> {
  const topic = await freshTopic(ctx, api, 1, { segmentBytes: 1024 }, 'c4-seg');
  const acked = await produceAcked(
    ctx,
    api,
    topic,
    Array.from({ length: 12 }, (_, i) => ({ partition: 0, value: `${i}`.padEnd(300, '.') })),
  );
  let fetches = 0;
  for (const maxBytes of [400, 700])
    for (let from = 0; from < acked.length; from++) {
      const x = await api.fetch(topic, 0, { offset: from, maxBytes });
      const got = okBody<FetchResult>(ctx, x, 200, `fetching ${topic}/0 from ${from}`).messages;
      const bytes = got.reduce((s, m) => s + m.size, 0);
      ctx.expect(
        got.length >= 1 && (got.length === 1 || bytes <= maxBytes),
        `${topic}/0 (1 KiB segments) from ${from} with maxBytes ${maxBytes}: answered offsets [${got.map((m) => m.offset)}], ${bytes} value bytes: beyond its first message a batch stays within maxBytes`,
        x,
      );
      ctx.expect(
        got.every((m, k) => m.offset === from + k && m.value === acked[from + k]?.value),
        `${topic}/0 from ${from} with maxBytes ${maxBytes}: answered offsets [${got.map((m) => m.offset)}], not the acknowledged messages from ${from} on`,
        x,
      );
      fetches++;
    }
  return fetches;
}
