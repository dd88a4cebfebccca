// MQ-C2: creating and describing topics, every documented status, and a race of creates of one name. Each response
// is also validated against the spec by ctx.http, so a wrong status, content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { DEFAULT_RETENTION_MS, endOffsets, mqApi, okBody, produceAcked, type Topic, uniqueName } from './api.ts';

/** MQ-C2's race of creates of one name: how many at once, how many times. */
const RACERS = 8;
const RACE_ROUNDS = 4;

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
