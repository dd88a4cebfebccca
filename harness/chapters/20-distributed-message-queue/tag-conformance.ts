// MQ-C9: tag filtering (the book's message filtering). Every filtered fetch is compared with a model: the log the
// check produced, as acknowledged, filtered by "carries at least one of the tags". A filtered batch must be exactly
// the matching messages between its offset and its nextOffset (gaps allowed, none missed), with nextOffset past
// the skipped ones; maxBytes counts only what is answered; a filtered long poll is answered only by a match.
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Acked,
  expectSameMessage,
  type FetchResult,
  freshTopic,
  type MqApi,
  mqApi,
  type OutgoingMessage,
  okBody,
  produceAcked,
} from './api.ts';

/** The spec's bound on the messages one filtered fetch looks at. */
export const FILTER_SCAN_LIMIT = 10_000;

const carriesAny = (a: Acked, tags: readonly string[]) => a.tags.some((t) => tags.includes(t));

/**
 * Fetches `tags` from `offset` and checks the batch against the model `log` (the partition as acknowledged, by
 * offset): every message answered matches and is the one acknowledged there, no matching message in
 * [offset, nextOffset) is left out, and nextOffset moved on unless the partition ends at `offset`.
 */
export async function expectFiltered(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  partition: number,
  log: readonly Acked[],
  q: { offset: number; tags: readonly string[]; maxBytes?: number; maxWait?: number },
  what: string,
): Promise<FetchResult> {
  const x = await api.fetch(topic, partition, q);
  const r = okBody<FetchResult>(ctx, x, 200, what);
  const got = r.messages.map((m) => m.offset);
  ctx.expect(
    r.nextOffset >= q.offset && r.nextOffset <= r.endOffset,
    `${what}: nextOffset ${r.nextOffset} is outside ${q.offset}..${r.endOffset}`,
    x,
  );
  const want = log.filter((a) => a.offset >= q.offset && a.offset < r.nextOffset && carriesAny(a, q.tags));
  ctx.expect(
    got.join() === want.map((a) => a.offset).join(),
    `${what}: answered offsets [${got}] up to nextOffset ${r.nextOffset}; the messages from ${q.offset} carrying ${q.tags} there are [${want.map((a) => a.offset)}]`,
    x,
  );
  for (const m of r.messages) if (log[m.offset]) expectSameMessage(ctx, m, log[m.offset]!, what);
  if (q.offset < r.endOffset)
    ctx.expect(r.nextOffset > q.offset, `${what}: nextOffset ${r.nextOffset} did not move past ${q.offset}`, x);
  return r;
}

/**
 * Reads a whole partition filtered by `tags`, following nextOffset, and checks it answers exactly the messages of
 * the model `log` (the partition as acknowledged, by offset) that carry one of them. Returns how many it answered.
 */
export async function expectFilteredPartition(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  partition: number,
  log: readonly Acked[],
  tags: readonly string[],
  what: string,
): Promise<number> {
  const seen: number[] = [];
  let at = 0;
  for (let round = 0; round < 1000 && at < log.length; round++) {
    const r = await expectFiltered(ctx, api, topic, partition, log, { offset: at, tags }, `${what} from ${at}`);
    seen.push(...r.messages.map((m) => m.offset));
    at = r.nextOffset;
  }
  const matching = log.filter((a) => carriesAny(a, tags)).map((a) => a.offset);
  ctx.expect(
    seen.join() === matching.join(),
    `${what}: reading ${topic}/${partition} filtered by ${tags} answered [${seen}], not the matching [${matching}]`,
  );
  return seen.length;
}

export async function tagConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const topic = await freshTopic(ctx, api, 1, {}, 'c9');
  const log: Acked[] = [];
  const produce = async (messages: OutgoingMessage[], acks: '1' | 'all' = 'all') => {
    const acked = await produceAcked(ctx, api, topic, messages, acks);
    log.push(...acked);
    return acked;
  };
  // A mix: no tags, one tag, several, the longest and the most a message may carry, the whole character set, and
  // one spelt in capitals (tags are matched as spelt: `RED` is not `red`).
  const shapes: (string[] | undefined)[] = [
    undefined,
    ['red'],
    ['RED'],
    ['blue'],
    ['red', 'blue'],
    [],
    ['green', 'Red.2_x-Y'],
    ['t'.repeat(32)],
    Array.from({ length: 8 }, (_, i) => `k${i}`),
  ];
  await produce(
    Array.from({ length: 40 }, (_, i) => {
      const tags = shapes[i % shapes.length];
      return {
        partition: 0,
        value: `m${i} ü😀`,
        ...(i % 5 === 0 ? { key: `key-${i}` } : {}),
        ...(tags ? { tags } : {}),
      };
    }),
  );
  ctx.expect(
    log.every((a, i) => a.offset === i),
    `offsets acknowledged ${log.map((a) => a.offset)}: not 0..39 on a fresh partition`,
  );

  // Unfiltered, every message is there with its tags, in order, and nextOffset follows the last one.
  const all = okBody<FetchResult>(ctx, await api.fetch(topic, 0, { offset: 0 }), 200, 'fetching without tags');
  ctx.expect(all.messages.length === 40, `a fetch without tags answered ${all.messages.length} of 40 messages`);
  for (const m of all.messages) if (log[m.offset]) expectSameMessage(ctx, m, log[m.offset]!, 'without tags');
  ctx.expect(all.nextOffset === 40, `a fetch of offsets 0..39 answered nextOffset ${all.nextOffset}, not 40`);

  // Filters by one tag and by several (any of them), from the start and from the middle: the whole tail is looked
  // at (well under maxBytes and the scan limit), so nextOffset is the end.
  for (const [tags, from] of [
    [['red'], 0],
    [['blue'], 5],
    [['red', 'green'], 0],
    [['k7', 't'.repeat(32)], 3],
    [['absent'], 0],
  ] as const) {
    const r = await expectFiltered(ctx, api, topic, 0, log, { offset: from, tags }, `tags ${tags} from ${from}`);
    ctx.expect(
      r.nextOffset === 40,
      `tags ${tags} from ${from}: nextOffset ${r.nextOffset}, not the end 40 (every message up to it was looked at and answered or skipped)`,
    );
  }

  // maxBytes counts answered messages only: a run of large messages without the tag, then one with it. The limit
  // is reached among the skipped ones; the match after them is still answered, with nextOffset past it.
  const big = 'x'.repeat(4000);
  await produce(Array.from({ length: 30 }, (_, i) => ({ partition: 0, value: `${i}${big}`, tags: ['bulk'] })));
  const [needle] = await produce([{ partition: 0, value: 'the needle', tags: ['needle'] }]);
  await produce([{ partition: 0, value: 'after the needle', tags: ['bulk'] }]);
  const nr = await expectFiltered(
    ctx,
    api,
    topic,
    0,
    log,
    { offset: 40, tags: ['needle'], maxBytes: 1000 },
    'tags needle with maxBytes 1000 after 120 KB of other messages',
  );
  ctx.expect(
    nr.messages.length === 1 && nr.messages[0]!.offset === needle!.offset && nr.nextOffset === log.length,
    `tags needle with maxBytes 1000: answered [${nr.messages.map((m) => m.offset)}] with nextOffset ${nr.nextOffset}; the one match is ${needle!.offset} and the look ends at ${log.length}`,
  );
  // Several matches, maxBytes smaller than two: one is answered and nextOffset is right after it (not past the next).
  const two = await expectFiltered(
    ctx,
    api,
    topic,
    0,
    log,
    { offset: 40, tags: ['bulk'], maxBytes: 5000 },
    'tags bulk with maxBytes 5000',
  );
  ctx.expect(
    two.messages.length === 1 && two.nextOffset === 41,
    `tags bulk with maxBytes 5000 (4 KB values): answered [${two.messages.map((m) => m.offset)}] with nextOffset ${two.nextOffset}, not [40] and 41`,
  );

  // Reading the whole partition by nextOffset, with a small maxBytes, gives every match once and in order.
  const seen: number[] = [];
  let at = 0;
  for (let round = 0; round < 200 && at < log.length; round++) {
    const r = await expectFiltered(
      ctx,
      api,
      topic,
      0,
      log,
      { offset: at, tags: ['red', 'bulk'], maxBytes: 9000 },
      `a read by nextOffset from ${at}`,
    );
    seen.push(...r.messages.map((m) => m.offset));
    at = r.nextOffset;
  }
  const matching = log.filter((a) => carriesAny(a, ['red', 'bulk'])).map((a) => a.offset);
  ctx.expect(
    seen.join() === matching.join(),
    `reading tags red,bulk by nextOffset answered [${seen}], not the matching [${matching}]`,
  );

  await acrossSegmentRolls(ctx, api);
  await filteredLongPoll(ctx, api, topic, log, produce);
  await scanLimit(ctx, api, topic, log, produce);
  await badTags(ctx, api, topic);
}

/**
 * Batches that cross segment rolls (the smallest segmentBytes), read filtered before any restart: every message of
 * the new segment is filtered by its own tags, not by those of the batch's part written to the full one.
 */
async function acrossSegmentRolls(ctx: CheckContext, api: MqApi): Promise<void> {
  const topic = await freshTopic(ctx, api, 1, { segmentBytes: 1024 }, 'c9r');
  const log: Acked[] = [];
  for (let b = 0; b < 3; b++)
    log.push(
      ...(await produceAcked(
        ctx,
        api,
        topic,
        Array.from({ length: 25 }, (_, i) => ({
          partition: 0,
          value: `roll ${b}.${i} ${'r'.repeat(40)}`,
          ...(i % 3 === 0 ? { tags: ['roll-a'] } : i % 3 === 1 ? { tags: [`roll-b${b}`, 'roll-c'] } : {}),
        })),
      )),
    );
  for (const tags of [['roll-a'], ['roll-c'], ['roll-b1']])
    await expectFilteredPartition(ctx, api, topic, 0, log, tags, `tags ${tags} over segments of 1024 bytes`);
}

/** A filtered long poll: a message without the tag does not answer it; one with it does, at once. */
async function filteredLongPoll(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  log: Acked[],
  produce: (m: OutgoingMessage[], acks?: '1' | 'all') => Promise<Acked[]>,
): Promise<void> {
  const end = log.length;
  const maxWait = 20_000;
  const polling = api.fetch(topic, 0, { offset: end, tags: ['wake'], maxWait });
  await ctx.sleep(300);
  await produce([{ partition: 0, value: 'not for the poll', tags: ['other'] }], '1');
  await produce([{ partition: 0, value: 'not for it either' }]);
  await ctx.sleep(700);
  const [wake] = await produce([{ partition: 0, value: 'wakes the poll', tags: ['other', 'wake'] }], '1');
  const x = await polling;
  const r = okBody<FetchResult>(ctx, x, 200, 'a filtered long poll');
  ctx.expect(
    r.messages.map((m) => m.offset).join() === String(wake!.offset) && r.nextOffset === wake!.offset + 1,
    `a long poll for tag wake answered [${r.messages.map((m) => m.offset)}] with nextOffset ${r.nextOffset}: not the matching ${wake!.offset} (messages without the tag came first)`,
    x,
  );
  ctx.expect(
    x.durationMs >= 900 && x.durationMs < maxWait,
    `a long poll for tag wake answered after ${Math.round(x.durationMs)} ms: a message without the tag ended it (before ~1000 ms), or the match did not (maxWait ${maxWait})`,
    x,
  );
  // Only messages without the tag during maxWait: an empty batch after maxWait, nextOffset past them.
  const from = log.length;
  const quiet = api.fetch(topic, 0, { offset: from, tags: ['wake'], maxWait: 2500 });
  await ctx.sleep(300);
  await produce([{ partition: 0, value: 'skipped by the quiet poll', tags: ['other'] }], '1');
  const qx = await quiet;
  const q = okBody<FetchResult>(ctx, qx, 200, 'a filtered long poll that nothing matches');
  ctx.expect(
    q.messages.length === 0 && q.nextOffset === from + 1 && qx.durationMs >= 2300,
    `a long poll for tag wake (maxWait 2500) with one other message appended answered [${q.messages.map((m) => m.offset)}], nextOffset ${q.nextOffset} (not ${from + 1}: past the skipped message) after ${Math.round(qx.durationMs)} ms`,
    qx,
  );
  ctx.evidence.filteredLongPoll = { wokeAfterMs: Math.round(x.durationMs), emptyAfterMs: Math.round(qx.durationMs) };
}

/** More than 10,000 messages without the tag, then one with it: the first fetch stops at the limit and moves on. */
async function scanLimit(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  log: Acked[],
  produce: (m: OutgoingMessage[], acks?: '1' | 'all') => Promise<Acked[]>,
): Promise<void> {
  const from = log.length;
  for (let b = 0; b < 11; b++)
    await produce(
      Array.from({ length: 1000 }, (_, i) => ({ partition: 0, value: `s${b}.${i}`, tags: ['filler'] })),
      '1',
    );
  const [match] = await produce([{ partition: 0, value: 'past the scan limit', tags: ['far'] }]);
  const first = await expectFiltered(
    ctx,
    api,
    topic,
    0,
    log,
    { offset: from, tags: ['far'] },
    'tags far over 11,000 others',
  );
  ctx.expect(
    first.messages.length === 0 && first.nextOffset === from + FILTER_SCAN_LIMIT,
    `a fetch for tag far from ${from} answered [${first.messages.map((m) => m.offset)}] with nextOffset ${first.nextOffset}: it must look at ${FILTER_SCAN_LIMIT} messages and stop at ${from + FILTER_SCAN_LIMIT}`,
  );
  const next = await expectFiltered(
    ctx,
    api,
    topic,
    0,
    log,
    { offset: first.nextOffset, tags: ['far'] },
    'tags far, next',
  );
  ctx.expect(
    next.messages[0]?.offset === match!.offset,
    `the fetch from nextOffset ${first.nextOffset} answered [${next.messages.map((m) => m.offset)}], not ${match!.offset}`,
  );
}

/** Tags the spec refuses, on produce and on fetch: 400, and nothing appended. */
async function badTags(ctx: CheckContext, api: MqApi, topic: string): Promise<void> {
  const before = okBody<FetchResult>(ctx, await api.fetch(topic, 0, { offset: 0, maxBytes: 1 }), 200, 'end before');
  for (const tags of [
    [''],
    [1],
    'red',
    ['t'.repeat(33)],
    ['a b'],
    ['ü'],
    ['a,b'],
    ['dup', 'dup'],
    Array.from({ length: 9 }, (_, i) => `n${i}`),
  ]) {
    const x = await ctx.http.send({
      method: 'POST',
      path: `/api/v1/topics/${topic}/messages`,
      json: {
        messages: [
          { partition: 0, value: 'ok' },
          { partition: 0, value: 'bad', tags },
        ],
      },
      validRequest: false,
    });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  const after = okBody<FetchResult>(ctx, await api.fetch(topic, 0, { offset: 0, maxBytes: 1 }), 200, 'end after');
  ctx.expect(
    after.endOffset === before.endOffset,
    `refused batches appended: end ${before.endOffset} -> ${after.endOffset}`,
  );
  const base = `/api/v1/topics/${topic}/partitions/0/messages?offset=0&tags=`;
  for (const q of ['', ',', 'a,', 'a b', `${'t'.repeat(33)}`, 'a,b,c,d,e,f,g,h,i', '%C3%BC']) {
    const bad = await ctx.http.send({ method: 'GET', path: base + q, validRequest: false });
    ctx.expectStatus(bad, 400, 'invalid_request');
  }
}
