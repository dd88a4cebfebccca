// CHAT-C1..C3: every operation and documented status of openapi.yaml, and every frame of the WebSocket, with each
// response validated against the spec (the HTTP client) and each frame against frames.schema.json (the chat world).

import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { type Channel, chatCheck, newClientMessageId, type World } from './api.ts';
import { ChatClient } from './ws-client.ts';

const UNKNOWN_USER = 'u_999999999';
const UNKNOWN_CHANNEL = 'c_999999999';

function expectCode(w: World, x: Awaited<ReturnType<World['x']>>, status: number, code: string): void {
  w.ctx.expectStatus(x, status, code);
}

export const usersConformance = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  await readinessAndUnknownRoutes(w.ctx, [
    { method: 'GET', path: '/api/v1/users' },
    { method: 'DELETE', path: '/api/v1/sessions' },
    { method: 'PUT', path: '/api/v1/chat-server' },
  ]);
  const h = w.http;
  const username = `${w.prefix}_c1`;
  const created = await w.x(h.POST('/api/v1/users', { body: { username, password: 'long-enough-1' } }));
  w.ctx.expectStatus(created, 201);
  const userId = (created.body as { userId: string }).userId;
  expectCode(
    w,
    await w.x(h.POST('/api/v1/users', { body: { username, password: 'other-password' } })),
    409,
    'username_taken',
  );
  for (const bad of [
    { username },
    { username: 'x', password: 'short' },
    { username: 'Bad Name!', password: 'long-enough-1' },
    { username: 'y', password: 'long-enough-1', extra: 1 },
  ]) {
    const x = await w.ctx.http.send({ method: 'POST', path: '/api/v1/users', json: bad, validRequest: false });
    expectCode(w, x, 400, 'invalid_request');
  }
  const wrongType = await w.ctx.http.send({
    method: 'POST',
    path: '/api/v1/users',
    rawBody: 'username=a',
    contentType: 'text/plain',
    validRequest: false,
  });
  w.ctx.expectStatus(wrongType, 415);

  const s = await w.x(h.POST('/api/v1/sessions', { body: { username, password: 'long-enough-1', deviceId: 'phone' } }));
  w.ctx.expectStatus(s, 201);
  const token = (s.body as { token: string }).token;
  expectCode(
    w,
    await w.x(h.POST('/api/v1/sessions', { body: { username, password: 'wrong-password', deviceId: 'phone' } })),
    401,
    'unauthorized',
  );
  expectCode(
    w,
    await w.x(
      h.POST('/api/v1/sessions', {
        body: { username: `${w.prefix}_nobody`, password: 'whatever-1', deviceId: 'phone' },
      }),
    ),
    401,
    'unauthorized',
  );
  const badSession = await w.ctx.http.send({
    method: 'POST',
    path: '/api/v1/sessions',
    json: { username, password: 'long-enough-1' },
    validRequest: false,
  });
  expectCode(w, badSession, 400, 'invalid_request');

  const me = await w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId } }, ...w.auth(token) }));
  w.ctx.expectStatus(me, 200);
  ctx.expect((me.body as { username?: string }).username === username, 'getUser answered another username', me);
  expectCode(w, await w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId } } })), 401, 'unauthorized');
  expectCode(
    w,
    await w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId } }, ...w.auth(`${token}x`) })),
    401,
    'unauthorized',
  );
  expectCode(
    w,
    await w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId: UNKNOWN_USER } }, ...w.auth(token) })),
    404,
    'not_found',
  );
  const badId = await w.ctx.http.send({
    method: 'GET',
    path: '/api/v1/users/bad%20id',
    headers: { authorization: `Bearer ${token}` },
    validRequest: false,
  });
  expectCode(w, badId, 400, 'invalid_request');
});

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
  expectCode(
    w,
    await w.x(
      h.POST('/api/v1/channels', { body: { type: 'direct', members: [b.userId, c.userId] }, ...w.auth(a.token) }),
    ),
    400,
    'invalid_members',
  );
  expectCode(
    w,
    await w.x(h.POST('/api/v1/channels', { body: { type: 'direct', members: [UNKNOWN_USER] }, ...w.auth(a.token) })),
    404,
    'user_not_found',
  );
  expectCode(
    w,
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
  expectCode(w, badType, 400, 'invalid_request');

  // Groups and membership.
  const g = await w.group(a, [b], 'c2');
  ctx.expect(g.type === 'group' && g.members.length === 2, `the new group is ${JSON.stringify(g)}`);
  const got = await w.x(
    h.GET('/api/v1/channels/{channelId}', { params: { path: { channelId: g.channelId } }, ...w.auth(b.token) }),
  );
  w.ctx.expectStatus(got, 200);
  expectCode(
    w,
    await w.x(
      h.GET('/api/v1/channels/{channelId}', { params: { path: { channelId: g.channelId } }, ...w.auth(c.token) }),
    ),
    403,
    'not_member',
  );
  expectCode(
    w,
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
  expectCode(
    w,
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
  expectCode(
    w,
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
  expectCode(
    w,
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
  for (const q of ['limit=0', 'limit=201', 'after=-1', 'limit=x']) {
    const x = await w.ctx.http.send({
      method: 'GET',
      path: `/api/v1/channels/${g.channelId}/messages?${q}`,
      headers: { authorization: `Bearer ${a.token}` },
      validRequest: false,
    });
    expectCode(w, x, 400, 'invalid_request');
  }
  expectCode(
    w,
    await w.x(
      h.GET('/api/v1/channels/{channelId}/messages', {
        params: { path: { channelId: g.channelId } },
        ...w.auth(outsider.token),
      }),
    ),
    403,
    'not_member',
  );
  expectCode(
    w,
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
  expectCode(
    w,
    await w.x(h.POST('/api/v1/me/friends', { body: { userId: a.userId }, ...w.auth(a.token) })),
    400,
    'invalid_friend',
  );
  expectCode(
    w,
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
  expectCode(
    w,
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
  expectCode(w, badPush, 400, 'invalid_request');
  const disc = await w.x(h.GET('/api/v1/chat-server', w.auth(a.token)));
  w.ctx.expectStatus(disc, 200);
  expectCode(w, await w.x(h.GET('/api/v1/chat-server', {})), 401, 'unauthorized');
});

/** A token with its signature (the part after the last dot) altered: a forged token. */
function forged(token: string): string {
  const i = token.lastIndexOf('.');
  const sig = i >= 0 ? token.slice(i + 1) : token;
  const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  return i >= 0 ? `${token.slice(0, i + 1)}${flipped}` : `${flipped}x`;
}

export const webSocketConformance = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const [a, b] = [await w.user(), await w.user(['phone', 'laptop'])];
  const [server] = await w.servers(a.device);
  const g = await w.group(a, [b], 'c3');

  // Frames before auth, bad frames, and bad tokens.
  const anon = await ChatClient.connect(server!.url, w.log);
  anon.send({ type: 'heartbeat' });
  const na = await anon.waitFor((f) => f.type === 'error');
  ctx.expect(
    na?.code === 'not_authenticated',
    `a frame before auth answered ${JSON.stringify(na)}, not error not_authenticated`,
  );
  const from = anon.frames.length;
  anon.send('{not json', { valid: false, raw: true });
  const inv = await anon.waitFor((f) => f.type === 'error', 5000, from);
  ctx.expect(inv?.code === 'invalid_frame', `a frame that is not JSON answered ${JSON.stringify(inv)}`);
  anon.close();
  for (const [what, token] of [
    ['a forged token', forged(a.token)],
    ['garbage', 'not-a-token'],
  ] as const) {
    const c = await ChatClient.connect(server!.url, w.log);
    c.send({ type: 'auth', token });
    const closed = await c.waitClosed(6000);
    ctx.expect(
      closed?.code === 4001,
      `auth with ${what} ended in ${closed ? `close ${closed.code}` : 'no close'} (frames: ${JSON.stringify(c.frames)}), not close 4001`,
    );
  }

  // The exchange: auth, send / sent, message at every other device, ack, sync / synced, heartbeat.
  const auth = await a.device.connect();
  ctx.expect(
    auth.userId === a.userId && auth.deviceId === 'phone',
    `authenticated names ${auth.userId}/${auth.deviceId}`,
  );
  for (const d of b.devices) await d.connect();
  const text = 'hello, WebSocket';
  const clientMessageId = newClientMessageId();
  const { answer } = await a.device.send(g.channelId, text, clientMessageId);
  ctx.expect(
    answer?.type === 'sent' && answer.duplicate === false && answer.channelId === g.channelId,
    `send answered ${JSON.stringify(answer)}`,
  );
  const id = Number(answer!.messageId);
  for (const d of b.devices) {
    const m = await d.client!.waitFor((f) => f.type === 'message' && f.messageId === id);
    ctx.expect(
      m?.text === text && m.senderId === a.userId && m.clientMessageId === clientMessageId,
      `${d.label} got ${JSON.stringify(m)} for message ${id}`,
    );
  }
  const ackFrom = b.device.client!.frames.length;
  b.device.client!.send({ type: 'ack', channelId: g.channelId, messageId: id });
  b.device.heartbeat();
  const { synced, messages } = await b.device.sync([{ channelId: g.channelId, curMaxMessageId: 0 }]);
  ctx.expect(messages.length === 0, `sync on a connection that already got message ${id} sent it again`);
  const ch = (synced.channels as { channelId: string; maxMessageId: number }[]).find(
    (c) => c.channelId === g.channelId,
  );
  ctx.expect(
    ch?.maxMessageId === id,
    `synced says ${JSON.stringify(synced.channels)}, not maxMessageId ${id} for ${g.channelId}`,
  );
  const err = b.device.client!.frames.slice(ackFrom).find((f) => f.type === 'error');
  ctx.expect(!err, `ack, heartbeat or sync answered ${JSON.stringify(err)}`);

  // Refused sends: not a member, no such channel; the connection stays usable.
  const other = await w.group(b, [], 'c3-other');
  const nm = await a.device.send(other.channelId, 'not mine');
  ctx.expect(
    nm.answer?.type === 'error' && nm.answer.code === 'not_member' && nm.answer.ref === nm.clientMessageId,
    `a send to a channel of others answered ${JSON.stringify(nm.answer)}`,
  );
  const nf = await a.device.send('c_999999999', 'nowhere');
  ctx.expect(
    nf.answer?.type === 'error' && nf.answer.code === 'not_found',
    `a send to no channel answered ${JSON.stringify(nf.answer)}`,
  );
  await a.device.sendOk(g.channelId, 'still here');

  // A frame over 1 MiB is refused at the protocol level: close 1009.
  const big = await ChatClient.connect(server!.url, w.log);
  big.send({ type: 'auth', token: a.token });
  await big.waitFor((f) => f.type === 'authenticated');
  big.send(
    { type: 'send', channelId: g.channelId, clientMessageId: newClientMessageId(), text: 'w'.repeat(1_100_000) },
    { valid: false },
  );
  const tooBig = await big.waitClosed(5000);
  ctx.expect(
    tooBig?.code === 1009,
    `a frame of 1.1 MB ended in ${tooBig ? `close ${tooBig.code}` : 'no close'}, not 1009`,
  );
});
