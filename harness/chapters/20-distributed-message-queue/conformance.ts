// MQ-C1..C7: every operation and every documented status, errors included, and retention (C7). Each response is
// also validated against the spec by ctx.http, so a wrong status, content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import {
  type CommittedOffsets,
  DEFAULT_RETENTION_MS,
  digestOf,
  type FetchResult,
  freshTopic,
  type Group,
  type Membership,
  mqApi,
  okBody,
  type ProduceResult,
  partitionOfKey,
  produceAcked,
  readPartition,
  type Topic,
  uniqueName,
  verifyAcked,
} from './api.ts';
import { postOversized } from './oversized-body.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/api/v1/topics' },
    { method: 'PUT', path: '/api/v1/topics/t' },
    { method: 'GET', path: '/api/v1/topics/t/messages' },
    { method: 'POST', path: '/api/v1/topics/t/partitions/0/messages' },
    { method: 'PUT', path: '/api/v1/groups/g' },
    { method: 'GET', path: '/api/v1/groups/g/members' },
    { method: 'GET', path: '/api/v1/groups/g/members/m/heartbeat' },
    { method: 'DELETE', path: '/api/v1/groups/g/offsets' },
  ]);
}

const endOffsets = (t: Topic) => t.partitionStates.map((s) => s.endOffset);

/** MQ-C2's race of creates of one name: how many at once, how many times. */
const RACERS = 8;
const RACE_ROUNDS = 4;

/** How far the broker's clock may be from the harness's (a broker on another machine): timestamps are checked to it. */
const CLOCK_SKEW_MS = 5 * 60_000;

export async function topicConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const name = uniqueName('c2');
  const created = await api.createTopic({ name, partitions: 3 });
  const t = okBody<Topic>(ctx, created, 201, 'creating a topic');
  ctx.expect(t.name === name && t.partitions === 3, `created ${t.name} with ${t.partitions} partitions`, created);
  ctx.expect(t.retentionMs === DEFAULT_RETENTION_MS, `default retention is ${t.retentionMs}, not two weeks`, created);
  ctx.expect(t.replicationFactor === 1, `default replication factor is ${t.replicationFactor}, not 1`, created);
  ctx.expect(
    t.partitionStates.length === 3 &&
      t.partitionStates.every((s, i) => s.partition === i && s.endOffset === 0 && s.logStartOffset === 0),
    `a new topic's partitions are not 0..2, empty: ${JSON.stringify(t.partitionStates)}`,
    created,
  );
  const given = uniqueName('c2');
  const g = okBody<Topic>(
    ctx,
    await api.createTopic({ name: given, partitions: 1, retentionMs: 60_000, segmentBytes: 4096 }),
    201,
    'creating a topic with retention and segment size',
  );
  ctx.expect(g.retentionMs === 60_000 && g.segmentBytes === 4096, 'retentionMs or segmentBytes not as given');
  const d = await api.describeTopic(name);
  ctx.expect(JSON.stringify(okBody<Topic>(ctx, d, 200, 'describing it')) === JSON.stringify(t), 'describe differs', d);

  // A taken name: 409, and the topic is unchanged (still 3 partitions, its messages kept).
  await produceAcked(ctx, api, name, [{ partition: 1, value: 'kept' }]);
  const again = await api.createTopic({ name, partitions: 5 });
  ctx.expectStatus(again, 409, 'topic_exists');
  const after = okBody<Topic>(ctx, await api.describeTopic(name), 200, 'describing after the 409');
  ctx.expect(
    after.partitions === 3 && endOffsets(after).join() === '0,1,0',
    `the 409 changed the topic: ${after.partitions} partitions, end offsets ${endOffsets(after)}`,
  );

  // Concurrent creates of one name: exactly one is created, every other answers 409 (the check of the name and the
  // registration must be one step, not a check, an await and then a write). Several rounds: from the second on,
  // the client's connections are open, so the creates arrive together.
  for (let round = 0; round < RACE_ROUNDS; round++) {
    const raced = uniqueName('c2-race');
    const racers = await Promise.all(
      Array.from({ length: RACERS }, () => api.createTopic({ name: raced, partitions: 2 })),
    );
    const statuses = racers.map((x) => x.status);
    ctx.expect(
      statuses.filter((s) => s === 201).length === 1 && statuses.filter((s) => s === 409).length === RACERS - 1,
      `round ${round + 1}: ${RACERS} concurrent creates of one topic name answered ${statuses.join(', ')}: exactly one 201 expected, the others 409`,
    );
    for (const x of racers) if (x.status === 409) ctx.expectStatus(x, 409, 'topic_exists');
  }

  // More replicas than brokers: 422 and nothing created (a target with 16 brokers may create it).
  const wide = uniqueName('c2');
  const rf = await api.createTopic({ name: wide, partitions: 1, replicationFactor: 16 });
  if (rf.status === 201) {
    ctx.expect((rf.body as Topic).replicationFactor === 16, 'replicationFactor 16 created with another', rf);
  } else {
    ctx.expectStatus(rf, 422, 'insufficient_brokers');
    ctx.expectStatus(await api.describeTopic(wide), 404, 'topic_not_found');
  }
  // More in-sync replicas required than there are replicas: no write could ever be acknowledged with acks=all, so
  // 422 invalid_min_insync and nothing created (a relation between two fields, which no schema expresses).
  const strict = uniqueName('c2');
  const mi = await api.createTopic({ name: strict, partitions: 1, replicationFactor: 1, minInsyncReplicas: 2 });
  ctx.expectStatus(mi, 422, 'invalid_min_insync');
  ctx.expectStatus(await api.describeTopic(strict), 404, 'topic_not_found');

  for (const bad of [
    { partitions: 1 },
    { name: 'has space', partitions: 1 },
    { name: 'é', partitions: 1 },
    { name: 'x'.repeat(201), partitions: 1 },
    { name: uniqueName('c2'), partitions: 0 },
    { name: uniqueName('c2'), partitions: 257 },
    { name: uniqueName('c2'), partitions: 1.5 },
    { name: uniqueName('c2'), partitions: '2' },
    { name: uniqueName('c2'), partitions: 1, retentionMs: 999 },
    { name: uniqueName('c2'), partitions: 1, replicationFactor: 0 },
    { name: uniqueName('c2'), partitions: 1, segmentBytes: 100 },
    { name: uniqueName('c2'), partitions: 1, extra: true },
  ]) {
    const x = await ctx.http.send({ method: 'POST', path: '/api/v1/topics', json: bad, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  ctx.expectStatus(await api.describeTopic(uniqueName('c2-none')), 404, 'topic_not_found');
  const badName = await ctx.http.send({ method: 'GET', path: '/api/v1/topics/a%20b', validRequest: false });
  ctx.expectStatus(badName, 400, 'invalid_request');
  const media = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/topics',
    rawBody: 'name=x',
    contentType: 'text/plain',
    validRequest: false,
  });
  ctx.expectStatus(media, 415, 'unsupported_media_type');
}

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
    for (const rec of r.records)
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

export async function groupConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const topic = await freshTopic(ctx, api, 3, {}, 'c5');
  const other = await freshTopic(ctx, api, 1, {}, 'c5');
  const group = uniqueName('c5');
  const jx = await api.join(group, { topic, sessionTimeoutMs: 30_000 });
  const a = okBody<Membership>(ctx, jx, 200, 'joining');
  ctx.expect(a.group === group && a.topic === topic, 'the membership names another group or topic', jx);
  ctx.expect(a.partitions.join() === '0,1,2', `the only member owns ${a.partitions}, not 0,1,2`, jx);
  const dx = await api.describeGroup(group);
  const d = okBody<Group>(ctx, dx, 200, 'describing the group');
  ctx.expect(
    d.generation === a.generation && d.members.length === 1 && d.members[0]!.memberId === a.memberId,
    `describe says ${JSON.stringify(d)}`,
    dx,
  );
  const b = okBody<Membership>(ctx, await api.join(group, { topic, sessionTimeoutMs: 30_000 }), 200, 'a second join');
  ctx.expect(b.generation > a.generation, `a second member joined and the generation stayed ${b.generation}`);
  const hx = await api.heartbeat(group, a.memberId);
  const ha = okBody<Membership>(ctx, hx, 200, 'a heartbeat');
  ctx.expect(ha.generation === b.generation, `the heartbeat says generation ${ha.generation}, not ${b.generation}`, hx);
  const owned = [...ha.partitions, ...b.partitions].sort();
  ctx.expect(owned.join() === '0,1,2', `after the rebalance the members own ${owned}, not 0,1,2 once each`, hx);
  // Rejoining with the member ID keeps the member; no rebalance.
  const rx = await api.join(group, { topic, memberId: a.memberId, sessionTimeoutMs: 30_000 });
  const ra = okBody<Membership>(ctx, rx, 200, 'rejoining');
  ctx.expect(ra.memberId === a.memberId && ra.generation === b.generation, 'a rejoin started a rebalance', rx);

  ctx.expectStatus(await api.join(group, { topic: other }), 409, 'group_topic_mismatch');
  ctx.expectStatus(await api.join(uniqueName('c5'), { topic: uniqueName('none') }), 404, 'topic_not_found');
  ctx.expectStatus(await api.join(group, { topic, memberId: 'm-unknown' }), 404, 'unknown_member');
  ctx.expectStatus(await api.heartbeat(group, 'm-unknown'), 404, 'unknown_member');
  ctx.expectStatus(await api.heartbeat(uniqueName('c5'), a.memberId), 404, 'unknown_member');
  ctx.expectStatus(await api.describeGroup(uniqueName('c5')), 404, 'group_not_found');

  const left = await api.leave(group, b.memberId);
  ctx.expect(left.status === 204, `leaving answered ${left.status ?? left.error}, not 204`, left);
  ctx.expectStatus(await api.heartbeat(group, b.memberId), 404, 'unknown_member');
  ctx.expectStatus(await api.leave(group, b.memberId), 404, 'unknown_member');
  const alone = okBody<Membership>(ctx, await api.heartbeat(group, a.memberId), 200, 'a heartbeat after a leave');
  ctx.expect(
    alone.partitions.join() === '0,1,2' && alone.generation > b.generation,
    `after the other left, the member owns ${alone.partitions} in generation ${alone.generation}`,
  );
  for (const body of [{}, { topic, sessionTimeoutMs: 999 }, { topic, memberId: 'has space' }, { topic, x: 1 }]) {
    const x = await ctx.http.send({
      method: 'POST',
      path: `/api/v1/groups/${group}/members`,
      json: body,
      validRequest: false,
    });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  ctx.expectStatus(
    await ctx.http.send({ method: 'GET', path: '/api/v1/groups/a%20b', validRequest: false }),
    400,
    'invalid_request',
  );
  ctx.expect((await api.leave(group, a.memberId)).status === 204, 'the last member could not leave');

  // The default session is 10 s: a member that joined without sessionTimeoutMs and is silent for 6 s is still one.
  const quietGroup = uniqueName('c5');
  const quiet = okBody<Membership>(ctx, await api.join(quietGroup, { topic }), 200, 'joining with the default session');
  await ctx.sleep(DEFAULT_SESSION_PROBE_MS);
  const qx = await api.heartbeat(quietGroup, quiet.memberId);
  ctx.expect(
    qx.status === 200,
    `a member that joined without sessionTimeoutMs was dropped within ${DEFAULT_SESSION_PROBE_MS} ms of silence (the default session is 10,000 ms): heartbeat answered ${qx.status ?? qx.error}`,
    qx,
  );
  ctx.evidence.defaultSessionProbeMs = DEFAULT_SESSION_PROBE_MS;
  if (qx.status === 200) await api.leave(quietGroup, quiet.memberId);
}

/** Silence after a join with the default (10 s) session that must not end the membership; 4 s below it for slack. */
const DEFAULT_SESSION_PROBE_MS = 6000;

export async function offsetConformance(ctx: CheckContext): Promise<void> {
  const api = mqApi(ctx);
  const topic = await freshTopic(ctx, api, 2, {}, 'c6');
  await produceAcked(
    ctx,
    api,
    topic,
    [0, 1, 2].map((i) => ({ partition: 0, value: `m${i}` })),
  );
  const group = uniqueName('c6');
  const a = okBody<Membership>(ctx, await api.join(group, { topic, sessionTimeoutMs: 30_000 }), 200, 'joining');
  const cx = await api.commit(group, {
    memberId: a.memberId,
    generation: a.generation,
    offsets: [{ partition: 0, offset: 2 }],
  });
  const c = okBody<CommittedOffsets>(ctx, cx, 200, 'committing');
  const want = JSON.stringify([
    { partition: 0, offset: 2 },
    { partition: 1, offset: null },
  ]);
  ctx.expect(
    c.group === group && c.topic === topic && JSON.stringify(c.offsets) === want,
    `committed ${JSON.stringify(c)}`,
    cx,
  );
  const fx = await api.offsets(group);
  ctx.expect(
    JSON.stringify(okBody<CommittedOffsets>(ctx, fx, 200, 'reading offsets').offsets) === want,
    'read back differs',
    fx,
  );
  // The end offset itself is a valid commit (everything consumed); past it is not.
  const end = { memberId: a.memberId, generation: a.generation };
  okBody(ctx, await api.commit(group, { ...end, offsets: [{ partition: 0, offset: 3 }] }), 200, 'committing the end');
  ctx.expectStatus(
    await api.commit(group, { ...end, offsets: [{ partition: 0, offset: 4 }] }),
    422,
    'offset_out_of_range',
  );

  // A rebalance: the old generation's commits are refused and change nothing.
  const b = okBody<Membership>(ctx, await api.join(group, { topic, sessionTimeoutMs: 30_000 }), 200, 'a second join');
  const stale = await api.commit(group, { ...end, offsets: [{ partition: 0, offset: 1 }] });
  ctx.expectStatus(stale, 409, 'stale_generation');
  const ha = okBody<Membership>(ctx, await api.heartbeat(group, a.memberId), 200, 'a heartbeat');
  const notMine = b.partitions[0]!;
  const foreign = await api.commit(group, {
    memberId: a.memberId,
    generation: ha.generation,
    offsets: [{ partition: notMine, offset: 0 }],
  });
  ctx.expectStatus(foreign, 409, 'partition_not_assigned');
  const still = okBody<CommittedOffsets>(ctx, await api.offsets(group), 200, 'reading offsets after refusals');
  ctx.expect(
    JSON.stringify(still.offsets) ===
      JSON.stringify([
        { partition: 0, offset: 3 },
        { partition: 1, offset: null },
      ]),
    `refused commits changed the offsets: ${JSON.stringify(still.offsets)}`,
  );
  ctx.expectStatus(
    await api.commit(group, {
      memberId: 'm-unknown',
      generation: ha.generation,
      offsets: [{ partition: 0, offset: 0 }],
    }),
    404,
    'unknown_member',
  );
  ctx.expectStatus(await api.offsets(uniqueName('c6')), 404, 'group_not_found');
  for (const body of [
    { memberId: a.memberId, generation: ha.generation, offsets: [] },
    { memberId: a.memberId, generation: 0, offsets: [{ partition: 0, offset: 0 }] },
    { memberId: a.memberId, generation: ha.generation, offsets: [{ partition: 0, offset: -1 }] },
    { memberId: a.memberId, offsets: [{ partition: 0, offset: 0 }] },
  ]) {
    const x = await ctx.http.send({
      method: 'POST',
      path: `/api/v1/groups/${group}/offsets`,
      json: body,
      validRequest: false,
    });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  await api.leave(group, a.memberId);
  await api.leave(group, b.memberId);
}

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
