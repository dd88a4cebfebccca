// MQ-C3: producing with acks 0, 1 and all, keys and explicit partitions, timestamps, all-or-nothing batches, bad
// bodies and the body size limit. Each response is also validated against the spec by ctx.http.
import type { CheckContext } from '../../core/check-context.ts';
import {
  appendedRecords,
  digestOf,
  endOffsets,
  type FetchResult,
  freshTopic,
  mqApi,
  okBody,
  type ProduceResult,
  partitionOfKey,
  produceAcked,
  type Topic,
  uniqueName,
} from './api.ts';
import { postOversized } from './oversized-body.ts';

/** How far the broker's clock may be from the harness's (a broker on another machine): timestamps are checked to it. */
const CLOCK_SKEW_MS = 5 * 60_000;

export async function produceConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const topic = await freshTopic(ctx, api, 3, {}, 'c3');
  const keyed = 'customer-17';
  for (const acks of ['all', '1'] as const) {
    const sentAt = Date.now();
    const x = await api.produce(topic, {
      acks,
      messages: [{ key: keyed, value: 'k' }, { partition: 2, key: keyed, value: 'explicit wins' }, { value: 'any' }],
    });
    const r = okBody<ProduceResult>(ctx, x, 200, `producing with acks ${acks}`);
    ctx.expect(r.topic === topic && r.acks === acks, `the answer names ${r.topic} acks ${r.acks}`, x);
    ctx.expect(r.records.length === 3, `3 messages, ${r.records.length} records`, x);
    ctx.expect(
      r.records[0]!.partition === partitionOfKey(keyed, 3),
      `key ${keyed} went to partition ${r.records[0]!.partition}, not crc32 mod 3 = ${partitionOfKey(keyed, 3)}`,
      x,
    );
    ctx.expect(r.records[1]!.partition === 2, `an explicit partition 2 went to ${r.records[1]!.partition}`, x);
    // Timestamps are ms since the epoch, when the broker stored the message: within the harness's own clock of the
    // request, give or take CLOCK_SKEW_MS for a broker on another machine (seconds would be 1,000 times smaller).
    for (const rec of appendedRecords(ctx, r, x))
      ctx.expect(
        Math.abs(rec.timestamp - sentAt) <= CLOCK_SKEW_MS + x.durationMs,
        `acks ${acks}: timestamp ${rec.timestamp} is not ms since the epoch near the harness's clock (${sentAt})`,
        x,
      );
  }
  // The default is acks all: answered 200 with records.
  const dflt = await api.produce(topic, { messages: [{ partition: 0, value: 'default acks' }] });
  ctx.expect(
    okBody<ProduceResult>(ctx, dflt, 200, 'producing without acks').acks === 'all',
    'default acks not all',
    dflt,
  );
  const zero = await api.produce(topic, { acks: '0', messages: [{ value: 'a' }, { value: 'b' }] });
  const z = okBody<{ accepted: number; acks: string }>(ctx, zero, 202, 'producing with acks 0');
  ctx.expect(z.accepted === 2 && z.acks === '0', `acks 0 answered ${JSON.stringify(z)}`, zero);

  ctx.expectStatus(await api.produce(uniqueName('c3-none'), { messages: [{ value: 'x' }] }), 404, 'topic_not_found');

  // All or nothing: a batch with an unknown partition appends nothing, not even the valid messages before it.
  const before = okBody<Topic>(ctx, await api.describeTopic(topic), 200, 'describing before a bad batch');
  const bad = await api.produce(topic, {
    messages: [
      { partition: 0, value: 'must not land' },
      { key: 'x', value: 'nor this' },
      { partition: 3, value: 'x' },
    ],
  });
  ctx.expectStatus(bad, 422, 'unknown_partition');
  const after = okBody<Topic>(ctx, await api.describeTopic(topic), 200, 'describing after a bad batch');
  ctx.expect(
    endOffsets(after).join() === endOffsets(before).join(),
    `a refused batch changed the end offsets from ${endOffsets(before)} to ${endOffsets(after)}: it was partly appended`,
  );

  const path = `/api/v1/topics/${topic}/messages`;
  for (const body of [
    { messages: [] },
    { messages: Array.from({ length: 1001 }, () => ({ value: 'x' })) },
    { acks: '2', messages: [{ value: 'x' }] },
    { acks: 1, messages: [{ value: 'x' }] },
    { messages: [{ key: 'no value' }] },
    { messages: [{ value: 42 }] },
    { messages: [{ value: 'x', partition: -1 }] },
    { messages: [{ value: 'x', partition: 1024 }] },
    { messages: [{ value: 'x'.repeat(65_537) }] },
    { messages: [{ value: 'x', key: 'k'.repeat(1025) }] },
    { messages: [{ value: 'x', headers: {} }] },
    { messages: [{ value: 'x' }], extra: 1 },
    // Not text: a lone UTF-16 surrogate (JSON can escape one; it has no UTF-8 form, so it could not read back).
    { messages: [{ value: 'half \ud83d of an emoji' }] },
    { messages: [{ key: '\ude00', value: 'x' }] },
  ]) {
    const x = await ctx.http.send({ method: 'POST', path, json: body, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  // The largest value is 65,536 characters, counted as characters: 65,536 non-BMP ones (256 KiB of UTF-8) are fine.
  const wide = '😀'.repeat(65_536);
  const [big] = await produceAcked(ctx, api, topic, [{ partition: 1, value: wide }]);
  const read = await api.fetch(topic, 1, { offset: big!.offset });
  const m = okBody<FetchResult>(ctx, read, 200, 'fetching the largest value').messages[0];
  ctx.expect(
    m?.value === wide && m.size === 4 * 65_536 && m.crc === digestOf(wide).crc,
    'the 65,536-emoji value did not read back with its size and CRC',
    read,
  );
  // Over the 4 MiB body limit (one byte over): 413 payload_too_large, read however early the server answers.
  const limit = 4 * 1024 * 1024;
  const head = '{"messages":[{"value":"';
  const huge = Buffer.from(`${head}${'y'.repeat(limit + 1 - head.length - 4)}"}]}`);
  const tooLarge = await postOversized(ctx.target.nodeUrl(), path, huge);
  ctx.expect(
    tooLarge.status === 413,
    `a ${huge.length}-byte body (the limit is ${limit}) answered ${tooLarge.status ?? tooLarge.error}, not 413`,
  );
  ctx.expect(
    (tooLarge.headers['content-type'] ?? '').startsWith('application/problem+json') &&
      problemCode(tooLarge.bodyText) === 'payload_too_large',
    `the 413 is not a problem body with code payload_too_large: ${tooLarge.bodyText.slice(0, 200)}`,
  );
}

function problemCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}
