// MQ-C5: joining, heartbeats, describing and leaving a consumer group, rebalances, the default session timeout and
// the documented errors. Each response is also validated against the spec by ctx.http.
import type { CheckContext } from '../../core/check-context.ts';
import { freshTopic, type Group, type Membership, mqApi, okBody, uniqueName } from './api.ts';
import { following } from './cluster-client.ts';

export async function groupConformance(ctx: CheckContext): Promise<void> {
  // Through the spec's 307s: on a cluster the controller (topics, groups) need not be the first broker.
  const api = mqApi(ctx, following(ctx));
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
