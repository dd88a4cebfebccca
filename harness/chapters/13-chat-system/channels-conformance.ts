// CHAT-C2: channels, membership, history pages, friends, presence, push subscriptions and discovery - every
// documented status of those operations, each response validated against openapi.yaml by the HTTP client.
import type { CheckContext } from '../../core/check-context.ts';
import { type Channel, chatCheck, UNKNOWN_CHANNEL, UNKNOWN_USER, type User, type World } from './api.ts';
import { directRaces } from './direct-races.ts';
import { ChatClient } from './ws-client.ts';

export const channelsConformance = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const [a, b, c] = [await w.user(), await w.user(), await w.user()];
  const h = w.http;
  // One-on-one: created once, then the same channel for either side.
  const first = await w.x(
    h.POST('/api/v1/channels', { body: { type: 'direct', members: [b.userId] }, ...w.auth(a.token) }),
  );
  w.ctx.expectStatus(first, 201);
  const direct = first.body as Channel;
  ctx.expect(
    [...direct.members].sort().join() === [a.userId, b.userId].sort().join(),
    'the direct channel has other members',
    first,
  );
  for (const [who, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const again = await w.x(
      h.POST('/api/v1/channels', { body: { type: 'direct', members: [other.userId] }, ...w.auth(who.token) }),
    );
    w.ctx.expectStatus(again, 200);
    ctx.expect(
      (again.body as Channel).channelId === direct.channelId,
      'the same pair got another direct channel',
      again,
    );
  }
  await directRaces(w);
  w.ctx.expectStatus(
    await w.x(
      // The schema refuses a direct channel with other than one member; only the server knows it names the caller.
      h.POST('/api/v1/channels', { body: { type: 'direct', members: [a.userId] }, ...w.auth(a.token) }),
    ),
    400,
    'invalid_members',
  );
  w.ctx.expectStatus(
    await w.x(h.POST('/api/v1/channels', { body: { type: 'direct', members: [UNKNOWN_USER] }, ...w.auth(a.token) })),
    404,
    'user_not_found',
  );
  w.ctx.expectStatus(
    await w.x(h.POST('/api/v1/channels', { body: { type: 'group', members: [b.userId] } })),
    401,
    'unauthorized',
  );
  const badType = await w.ctx.http.send({
    method: 'POST',
    path: '/api/v1/channels',
    json: { type: 'room', members: [] },
    headers: { authorization: `Bearer ${a.token}` },
    validRequest: false,
  });
  w.ctx.expectStatus(badType, 400, 'invalid_request');

  // Groups and membership.
  const g = await w.group(a, [b], 'c2');
  ctx.expect(g.type === 'group' && g.members.length === 2, `the new group is ${JSON.stringify(g)}`);
  const got = await w.x(
    h.GET('/api/v1/channels/{channelId}', { params: { path: { channelId: g.channelId } }, ...w.auth(b.token) }),
  );
  w.ctx.expectStatus(got, 200);
  w.ctx.expectStatus(
    await w.x(
      h.GET('/api/v1/channels/{channelId}', { params: { path: { channelId: g.channelId } }, ...w.auth(c.token) }),
    ),
    403,
    'not_member',
  );
  w.ctx.expectStatus(
    await w.x(
      h.GET('/api/v1/channels/{channelId}', { params: { path: { channelId: UNKNOWN_CHANNEL } }, ...w.auth(a.token) }),
    ),
    404,
    'not_found',
  );
  const added = await w.x(
    h.POST('/api/v1/channels/{channelId}/members', {
      params: { path: { channelId: g.channelId } },
      body: { userId: c.userId },
      ...w.auth(b.token),
    }),
  );
  w.ctx.expectStatus(added, 200);
  ctx.expect((added.body as Channel).members.includes(c.userId), 'the added member is not in the channel', added);
  w.ctx.expectStatus(
    await w.x(
      h.POST('/api/v1/channels/{channelId}/members', {
        params: { path: { channelId: direct.channelId } },
        body: { userId: c.userId },
        ...w.auth(a.token),
      }),
    ),
    400,
    'not_a_group',
  );
  w.ctx.expectStatus(
    await w.x(
      h.POST('/api/v1/channels/{channelId}/members', {
        params: { path: { channelId: g.channelId } },
        body: { userId: UNKNOWN_USER },
        ...w.auth(a.token),
      }),
    ),
    404,
    'user_not_found',
  );
  const outsider = await w.user();
  w.ctx.expectStatus(
    await w.x(
      h.POST('/api/v1/channels/{channelId}/members', {
        params: { path: { channelId: g.channelId } },
        body: { userId: outsider.userId },
        ...w.auth(outsider.token),
      }),
    ),
    403,
    'not_member',
  );

  // History: empty, then pages of a channel with three messages.
  const empty = await w.x(
    h.GET('/api/v1/channels/{channelId}/messages', {
      params: { path: { channelId: g.channelId } },
      ...w.auth(a.token),
    }),
  );
  w.ctx.expectStatus(empty, 200);
  ctx.expect(JSON.stringify(empty.body) === '{"messages":[],"nextAfter":null}', 'a new channel has history', empty);
  await a.device.connect();
  const ids = [
    await a.device.sendOk(g.channelId, 'one'),
    await a.device.sendOk(g.channelId, 'two'),
    await a.device.sendOk(g.channelId, 'three'),
  ];
  const p1 = await w.x(
    h.GET('/api/v1/channels/{channelId}/messages', {
      params: { path: { channelId: g.channelId }, query: { limit: 2 } },
      ...w.auth(b.token),
    }),
  );
  w.ctx.expectStatus(p1, 200);
  const page1 = p1.body as { messages: { messageId: number; text: string }[]; nextAfter: number | null };
  ctx.expect(
    page1.messages.map((m) => m.text).join() === 'one,two' && page1.nextAfter === ids[1],
    `page 1 is ${JSON.stringify(page1)}`,
    p1,
  );
  const p2 = await w.x(
    h.GET('/api/v1/channels/{channelId}/messages', {
      params: { path: { channelId: g.channelId }, query: { after: page1.nextAfter!, limit: 2 } },
      ...w.auth(c.token),
    }),
  );
  w.ctx.expectStatus(p2, 200);
  const page2 = p2.body as { messages: { text: string }[]; nextAfter: number | null };
  ctx.expect(
    page2.messages.map((m) => m.text).join() === 'three' && page2.nextAfter === null,
    `page 2 is ${JSON.stringify(page2)}`,
    p2,
  );
  // The member added later has the group among its channels: a sync with no cursors sends its messages.
  await c.device.connect();
  const cSync = await c.device.sync([]);
  const cIds = cSync.messages.filter((m) => m.channelId === g.channelId).map((m) => m.messageId);
  const cMax = (cSync.synced.channels as { channelId: string; maxMessageId: number }[]).find(
    (x) => x.channelId === g.channelId,
  );
  ctx.expect(
    cIds.join() === ids.join() && cMax?.maxMessageId === ids[2],
    `a member added by addMember synced messages [${cIds.join(', ')}] of ${g.channelId} and ${JSON.stringify(cMax)}, not [${ids.join(', ')}]`,
  );
  for (const q of ['limit=0', 'limit=201', 'after=-1', 'limit=x']) {
    const x = await w.ctx.http.send({
      method: 'GET',
      path: `/api/v1/channels/${g.channelId}/messages?${q}`,
      headers: { authorization: `Bearer ${a.token}` },
      validRequest: false,
    });
    w.ctx.expectStatus(x, 400, 'invalid_request');
  }
  w.ctx.expectStatus(
    await w.x(
      h.GET('/api/v1/channels/{channelId}/messages', {
        params: { path: { channelId: g.channelId } },
        ...w.auth(outsider.token),
      }),
    ),
    403,
    'not_member',
  );
  w.ctx.expectStatus(
    await w.x(
      h.GET('/api/v1/channels/{channelId}/messages', {
        params: { path: { channelId: UNKNOWN_CHANNEL } },
        ...w.auth(a.token),
      }),
    ),
    404,
    'not_found',
  );

  // Friends, presence, push subscriptions, discovery.
  const fr = await w.x(h.POST('/api/v1/me/friends', { body: { userId: b.userId }, ...w.auth(a.token) }));
  w.ctx.expectStatus(fr, 204);
  w.ctx.expectStatus(
    await w.x(h.POST('/api/v1/me/friends', { body: { userId: a.userId }, ...w.auth(a.token) })),
    400,
    'invalid_friend',
  );
  w.ctx.expectStatus(
    await w.x(h.POST('/api/v1/me/friends', { body: { userId: UNKNOWN_USER }, ...w.auth(a.token) })),
    404,
    'not_found',
  );
  const pres = await w.x(
    h.GET('/api/v1/users/{userId}/presence', { params: { path: { userId: outsider.userId } }, ...w.auth(a.token) }),
  );
  w.ctx.expectStatus(pres, 200);
  ctx.expect(
    (pres.body as { status?: string }).status === 'offline',
    'a user who never connected is not offline',
    pres,
  );
  w.ctx.expectStatus(
    await w.x(
      h.GET('/api/v1/users/{userId}/presence', { params: { path: { userId: UNKNOWN_USER } }, ...w.auth(a.token) }),
    ),
    404,
    'not_found',
  );
  const push = await w.x(
    h.PUT('/api/v1/me/devices/{deviceId}/push', {
      params: { path: { deviceId: 'phone' } },
      body: { endpoint: 'http://127.0.0.1:9/push/x' },
      ...w.auth(a.token),
    }),
  );
  w.ctx.expectStatus(push, 204);
  const badPush = await w.ctx.http.send({
    method: 'PUT',
    path: '/api/v1/me/devices/phone/push',
    json: { endpoint: 'ftp://x' },
    headers: { authorization: `Bearer ${a.token}` },
    validRequest: false,
  });
  w.ctx.expectStatus(badPush, 400, 'invalid_request');
  const disc = await w.x(h.GET('/api/v1/chat-server', w.auth(a.token)));
  w.ctx.expectStatus(disc, 200);
  w.ctx.expectStatus(await w.x(h.GET('/api/v1/chat-server', {})), 401, 'unauthorized');
  await leastLoadedFirst(w, a);
});

/** How many connections the discovery part may open before the first-named chat server must change. */
const MAX_LOAD_CONNECTIONS = 30;

/**
 * Discovery names the least loaded chat server first: connections opened to the first-named one must, soon, make it
 * name another (whatever load other checks left, it is a few connections, far below the bound).
 */
async function leastLoadedFirst(w: World, as: User): Promise<void> {
  const servers = await w.servers(as.device);
  if (servers.length < 2) return;
  const loaded = servers[0]!;
  const opened: ChatClient[] = [];
  let first = loaded.name;
  while (first === loaded.name && opened.length < MAX_LOAD_CONNECTIONS) {
    const c = await ChatClient.connect(loaded.url, w.log);
    c.send({ type: 'auth', token: as.token });
    const ok = await c.waitFor((f) => f.type === 'authenticated' || f.type === 'error', 5000);
    w.ctx.expect(ok?.type === 'authenticated', `auth on ${loaded.name} answered ${JSON.stringify(ok)}`);
    opened.push(c);
    first = (await w.servers(as.device))[0]!.name;
  }
  w.ctx.evidence.discoveryChangedAfter = first === loaded.name ? null : opened.length;
  for (const c of opened) c.close();
  w.ctx.expect(
    first !== loaded.name,
    `discovery kept naming ${loaded.name} first after ${opened.length} more connections to it: not the least loaded`,
  );
}
