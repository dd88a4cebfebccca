// RL-C1..C4: every operation and every documented status, errors included. Each response is also validated
// against the spec by the client, so a wrong header, content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { clearOfBoundary, decided, installRules, perMinute, rlApi, runNonce } from './api.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/api/v1/rules' },
    { method: 'POST', path: '/api/v1/protected' },
    { method: 'GET', path: '/api/v1/ratelimit' },
  ]);
}

export async function decisionConformance(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const domain = `c2-${runNonce()}`;
  await installRules(ctx, api, domain, [perMinute('user', 2)]);
  const entries = [{ key: 'user', value: 'u1' }];
  await clearOfBoundary(ctx, 60_000, 2000);
  const first = await decided(ctx, api, domain, entries);
  ctx.expect(
    first.d.allowed && first.d.limit === 2 && first.d.remaining === 1 && first.d.retryAfterMs === 0,
    `the first of 2 per minute is not {allowed, limit 2, remaining 1, retryAfterMs 0}: ${first.x.bodyText}`,
    first.x,
  );
  ctx.expect(first.d.unit === 'minute', `unit is ${first.d.unit}, not the rule's minute`, first.x);
  const second = await decided(ctx, api, domain, entries);
  ctx.expect(second.d.allowed && second.d.remaining === 0, `the second of 2 is not allowed with 0 left`, second.x);
  const third = await decided(ctx, api, domain, entries);
  ctx.expect(
    !third.d.allowed && third.d.remaining === 0 && third.d.retryAfterMs > 0,
    `the third of 2 per minute is not denied with a retryAfterMs: ${third.x.bodyText}`,
    third.x,
  );
  const none = await decided(ctx, api, `c2-none-${runNonce()}`, entries);
  ctx.expect(
    none.d.allowed && none.d.limit === null && none.d.remaining === null && none.d.unit === null,
    'a request no rule matches is not allowed with null limit, remaining and unit',
    none.x,
  );
  const bad = [
    { domain },
    { domain, descriptors: [] },
    { domain, descriptors: [{ key: 'user' }] },
    { domain: 'Not A Domain!', descriptors: entries },
    { domain, descriptors: entries, extra: 1 },
    { domain, descriptors: [{ key: 'user', value: 7 }] },
  ];
  for (const json of bad) {
    const x = await ctx.http.send({ method: 'POST', path: '/api/v1/ratelimit', json, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  const text = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/ratelimit',
    rawBody: JSON.stringify({ domain, descriptors: entries }),
    contentType: 'text/plain',
    validRequest: false,
  });
  ctx.expectStatus(text, 415, 'unsupported_media_type');
  const huge = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/ratelimit',
    rawBody: JSON.stringify({ domain, descriptors: [{ key: 'k', value: 'v'.repeat(128 * 1024) }] }),
    contentType: 'application/json',
    validRequest: false,
  });
  ctx.expectStatus(huge, 413, 'payload_too_large');
}

export async function protectedConformance(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  await installRules(ctx, api, 'api', [perMinute('user_id', 2)]);
  const user = `c3-${runNonce()}`;
  await clearOfBoundary(ctx, 60_000, 2000);
  const seen = [await api.protected(user), await api.protected(user)];
  for (const [i, x] of seen.entries()) {
    ctx.expectStatus(x, 200);
    ctx.expect(x.headers['x-ratelimit-limit'] === '2', `X-Ratelimit-Limit is ${x.headers['x-ratelimit-limit']}`, x);
    ctx.expect(
      x.headers['x-ratelimit-remaining'] === String(1 - i),
      `request ${i + 1} of 2: X-Ratelimit-Remaining is ${x.headers['x-ratelimit-remaining']}, not ${1 - i}`,
      x,
    );
  }
  const limited = await api.protected(user);
  ctx.expectStatus(limited, 429, 'rate_limited');
  for (const h of [
    'x-ratelimit-limit',
    'x-ratelimit-remaining',
    'x-ratelimit-retry-after',
    'retry-after',
    'ratelimit',
    'ratelimit-policy',
  ])
    ctx.expect(limited.headers[h] !== undefined, `the 429 has no ${h} header`, limited);
  ctx.expect(limited.headers['x-ratelimit-remaining'] === '0', 'the 429 says requests remain', limited);
  ctx.expect(
    limited.headers['ratelimit-policy'] === '"rule";q=2;w=60',
    `RateLimit-Policy is ${limited.headers['ratelimit-policy']}`,
    limited,
  );
  const other = await api.protected(`${user}-other`);
  ctx.expectStatus(other, 200);
  const anonymous = await api.protected();
  ctx.expectStatus(anonymous, 200);
  const empty = await ctx.http.send({
    method: 'GET',
    path: '/api/v1/protected',
    headers: { 'x-user-id': '' },
    validRequest: false,
  });
  ctx.expectStatus(empty, 400, 'invalid_request');
}

export async function rulesConformance(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const domain = `c4-${runNonce()}`;
  const descriptors = [
    {
      key: 'message_type',
      value: 'marketing',
      descriptors: [{ key: 'to_number', rate_limit: { unit: 'day' as const, requests_per_unit: 5 } }],
    },
  ];
  const put = await api.putRules(domain, descriptors);
  ctx.expectStatus(put, 200);
  ctx.expect(
    JSON.stringify(put.body) === JSON.stringify({ domain, descriptors }),
    'PUT does not answer with the domain rules now in force',
    put,
  );
  const list = await api.listRules();
  ctx.expectStatus(list, 200);
  const found = (list.body as { domains: { domain: string; descriptors: unknown }[] }).domains.find(
    (d) => d.domain === domain,
  );
  ctx.expect(
    found && JSON.stringify(found.descriptors) === JSON.stringify(descriptors),
    'the new domain is not listed as put',
    list,
  );
  const bad: { path: string; json: unknown }[] = [
    { path: domain, json: { descriptors: [{ key: 'k', rate_limit: { unit: 'second', requests_per_unit: 0 } }] } },
    { path: domain, json: { descriptors: [{ key: 'k', rate_limit: { unit: 'week', requests_per_unit: 5 } }] } },
    { path: domain, json: { descriptors: [{ key: 'k', limit: 5 }] } },
    { path: domain, json: {} },
    { path: 'Bad%20Domain', json: { descriptors: [] } },
  ];
  for (const b of bad) {
    const x = await ctx.http.send({
      method: 'PUT',
      path: `/api/v1/rules/${b.path}`,
      json: b.json,
      validRequest: false,
    });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  const text = await ctx.http.send({
    method: 'PUT',
    path: `/api/v1/rules/${domain}`,
    rawBody: JSON.stringify({ descriptors }),
    contentType: 'text/plain',
    validRequest: false,
  });
  ctx.expectStatus(text, 415, 'unsupported_media_type');
}
