// MQ-C6: committing and reading a group's offsets, fenced by generation and ownership, and the documented errors.
// Each response is also validated against the spec by ctx.http.
import type { CheckContext } from '../../core/check-context.ts';
import { type CommittedOffsets, freshTopic, type Membership, mqApi, okBody, produceAcked, uniqueName } from './api.ts';
import { following } from './cluster-client.ts';

export async function offsetConformance(ctx: CheckContext): Promise<void> {
  // Through the spec's 307s: on a cluster the controller (topics, groups) need not be the first broker.
  const api = mqApi(ctx, following(ctx));
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
