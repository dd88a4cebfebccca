// CHAT-C1: sign-up, sign-in and users, readiness and unknown routes - every documented status of those operations,
// each response validated against openapi.yaml by the HTTP client.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { chatCheck, UNKNOWN_USER } from './api.ts';

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
  w.ctx.expectStatus(
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
    w.ctx.expectStatus(x, 400, 'invalid_request');
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
  w.ctx.expectStatus(
    await w.x(h.POST('/api/v1/sessions', { body: { username, password: 'wrong-password', deviceId: 'phone' } })),
    401,
    'unauthorized',
  );
  w.ctx.expectStatus(
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
  w.ctx.expectStatus(badSession, 400, 'invalid_request');

  const me = await w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId } }, ...w.auth(token) }));
  w.ctx.expectStatus(me, 200);
  ctx.expect((me.body as { username?: string }).username === username, 'getUser answered another username', me);
  w.ctx.expectStatus(await w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId } } })), 401, 'unauthorized');
  w.ctx.expectStatus(
    await w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId } }, ...w.auth(`${token}x`) })),
    401,
    'unauthorized',
  );
  w.ctx.expectStatus(
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
  w.ctx.expectStatus(badId, 400, 'invalid_request');
});
