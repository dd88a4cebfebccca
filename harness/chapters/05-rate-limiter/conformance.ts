// RL-C1..C4: every operation and every documented status, errors included. Each response is also validated
// against the spec by the client, so a wrong header, content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  algorithmOf,
  clearOfBoundary,
  decided,
  installRules,
  maxResetMs,
  maxRetryAfterMs,
  perMinute,
  type RlApi,
  rlApi,
  runNonce,
} from './api.ts';

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
  const algorithm = await algorithmOf(ctx, api);
  await clearOfBoundary(ctx, 60_000, 3000);
  const firstSent = Date.now();
  const seen = [await api.protected(user)];
  const secondSent = Date.now();
  seen.push(await api.protected(user));
  for (const [i, x] of seen.entries()) {
    ctx.expectStatus(x, 200);
    ctx.expect(x.headers['x-ratelimit-limit'] === '2', `X-Ratelimit-Limit is ${x.headers['x-ratelimit-limit']}`, x);
    ctx.expect(
      x.headers['x-ratelimit-remaining'] === String(1 - i),
      `request ${i + 1} of 2: X-Ratelimit-Remaining is ${x.headers['x-ratelimit-remaining']}, not ${1 - i}`,
      x,
    );
  }
  // A pause before the denial, so that the wait it announces is not whole seconds (a rounding down shows).
  await ctx.sleep(600);
  const limited = await api.protected(user);
  const limitedDone = Date.now();
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
  // Retry-After is the wait until one request is let through, not until the whole quota is back: at most what the
  // algorithm's definition can ask for 2 per minute (30 s for the buckets, the window for the others).
  const most = Math.ceil(maxRetryAfterMs(algorithm, 2, 60_000) / 1000);
  const retry = Number(limited.headers['retry-after']);
  ctx.expect(
    retry >= 1 && retry <= most,
    `Retry-After is ${limited.headers['retry-after']} s for 2 per minute: the ${algorithm} definition lets one request through within ${most} s`,
    limited,
  );
  // RateLimit's t is the seconds until the whole quota is back: never sooner than one request's wait (1 s allowed
  // for the two roundings), never later than the definition's full refill (the window; two for the counter).
  // ... and never less than the definition's wait from what the run measured, rounded up: a client that waits
  // Retry-After seconds must be let through (a window's end is judged only when the three requests shared a window).
  const windowEnd = (Math.floor(limitedDone / 60_000) + 1) * 60_000;
  const oneWindow = Math.floor(firstSent / 60_000) === Math.floor(limitedDone / 60_000);
  const leastMs =
    algorithm === 'token_bucket' || algorithm === 'leaking_bucket'
      ? 30_000 - (limitedDone - firstSent)
      : algorithm === 'sliding_window_log'
        ? secondSent + 60_000 - limitedDone
        : oneWindow
          ? windowEnd - limitedDone
          : 0;
  const least = Math.ceil(leastMs / 1000);
  ctx.evidence['retryAfterLeast'] = { algorithm, least, leastMs, retry };
  ctx.expect(
    retry >= least,
    `Retry-After is ${retry} s for 2 per minute, but the ${algorithm} definition lets no request through for at least ${leastMs} ms from what this run measured (${least} s rounded up): a client that waits ${retry} s is refused`,
    limited,
  );
  const t = Number(/;t=(\d+)$/.exec(limited.headers.ratelimit ?? '')?.[1]);
  const tMost = Math.ceil(maxResetMs(algorithm, 60_000) / 1000);
  ctx.expect(
    t >= retry - 1 && t <= tMost,
    `the 429's RateLimit t is ${t} s with Retry-After ${retry} s for 2 per minute: the whole quota is back no sooner than one request, and within ${tMost} s (${algorithm})`,
    limited,
  );
  for (const x of seen) {
    const t200 = Number(/;t=(\d+)$/.exec(x.headers.ratelimit ?? '')?.[1]);
    ctx.expect(
      t200 <= tMost,
      `RateLimit t is ${t200} s for 2 per minute: the ${algorithm} definition has the whole quota back within ${tMost} s`,
      x,
    );
  }
  const other = await api.protected(`${user}-other`);
  ctx.expectStatus(other, 200);
  // User ids are case-sensitive: another user whose id differs only in case has a bucket of its own.
  const upper = user.toUpperCase();
  const folded = await api.protected(upper);
  ctx.expect(
    folded.status === 200,
    `with user ${user} limited, user ${upper} (another id: ids are case-sensitive) was answered ${folded.status}: the two share a bucket`,
    folded,
  );
  // No X-User-Id: the request has no user_id, so the user_id rule (the only one) does not apply to it at all.
  for (let i = 0; i < 3; i++) {
    const anonymous = await api.protected();
    ctx.expectStatus(anonymous, 200);
  }
  const empty = await ctx.http.send({
    method: 'GET',
    path: '/api/v1/protected',
    headers: { 'x-user-id': '' },
    validRequest: false,
  });
  ctx.expectStatus(empty, 400, 'invalid_request');
  await addressIsTheClients(ctx, api);
  await valueNodeLimitsItsValue(ctx, api);
  await ruleOrderDecides(ctx, api);
}

/**
 * The first top-level descriptor of `api` in rule order that the request's attributes match decides (section 2): a
 * node whose value is another user's passes the request on to the next descriptor, and with remote_address listed
 * before user_id a user's request is limited by the address rule. Only X-Ratelimit-Limit is read (200 or 429 both
 * carry it), so what earlier requests left in the harness's address bucket does not matter.
 */
async function ruleOrderDecides(ctx: CheckContext, api: RlApi): Promise<void> {
  const vip = `c3-order-${runNonce()}`;
  const limitOf = async (why: string, user: string, want: string) => {
    const x = await api.protected(user);
    ctx.expect(x.status === 200 || x.status === 429, `answered ${x.status}`, x);
    ctx.expect(
      x.headers['x-ratelimit-limit'] === want,
      `${why}: user ${user} got X-Ratelimit-Limit ${x.headers['x-ratelimit-limit'] ?? '(none)'}, not ${want}`,
      x,
    );
  };
  try {
    await installRules(ctx, api, 'api', [perMinute('user_id', 1, vip), perMinute('user_id', 7)]);
    await limitOf(
      `rules [user_id: ${vip} at 1, user_id at 7 per minute], the first node another user's value`,
      `${vip}-other`,
      '7',
    );
    await installRules(ctx, api, 'api', [perMinute('remote_address', 900), perMinute('user_id', 1)]);
    await limitOf(
      'rules [remote_address at 900, user_id at 1 per minute]: the first in rule order decides',
      vip,
      '900',
    );
  } finally {
    await installRules(ctx, api, 'api', [perMinute('user_id', 2)]);
  }
}

/**
 * A top-level node of `api` with a value limits the requests whose attribute has that value, and only them (section
 * 2: a node with a value matches that value; one without matches any). With `user_id: <vip>` at 1 per minute the
 * only rule, the vip user's second request is limited; another user and an anonymous request meet no rule.
 */
async function valueNodeLimitsItsValue(ctx: CheckContext, api: RlApi): Promise<void> {
  const vip = `c3-vip-${runNonce()}`;
  await installRules(ctx, api, 'api', [perMinute('user_id', 1, vip)]);
  try {
    await clearOfBoundary(ctx, 60_000, 2000);
    const first = await api.protected(vip);
    ctx.expectStatus(first, 200);
    ctx.expect(
      first.headers['x-ratelimit-limit'] === '1',
      `the only rule is user_id: ${vip} at 1 per minute, and user ${vip} got X-Ratelimit-Limit ${first.headers['x-ratelimit-limit']}, not 1`,
      first,
    );
    const second = await api.protected(vip);
    ctx.expectStatus(second, 429, 'rate_limited');
    for (const other of [`${vip}-other`, undefined])
      for (let i = 0; i < 2; i++) ctx.expectStatus(await api.protected(other), 200);
  } finally {
    await installRules(ctx, api, 'api', [perMinute('user_id', 2)]);
  }
}

/**
 * `remote_address` is the client's address as the server sees it. Headers the client writes itself
 * (X-Forwarded-For, X-Real-IP, Forwarded) must not give it another bucket: the book's point that client-side data
 * can be forged. Four requests without a user, each claiming another address, meet one 2-per-minute bucket.
 */
async function addressIsTheClients(ctx: CheckContext, api: RlApi): Promise<void> {
  await installRules(ctx, api, 'api', [perMinute('remote_address', 2)]);
  try {
    await clearOfBoundary(ctx, 60_000, 2000);
    const answers: Exchange[] = [];
    for (let i = 1; i <= 4; i++) {
      const ip = `203.0.113.${i}`;
      answers.push(
        await ctx.http.send({
          method: 'GET',
          path: '/api/v1/protected',
          headers: { 'x-forwarded-for': ip, 'x-real-ip': ip, forwarded: `for=${ip}` },
        }),
      );
    }
    const passed = answers.filter((x) => x.status === 200);
    for (const x of answers) ctx.expect(x.status === 200 || x.status === 429, `answered ${x.status}`, x);
    ctx.expect(
      passed.length <= 2,
      `${passed.length} of 4 requests from one client passed a 2-per-minute remote_address rule: each claimed another address in X-Forwarded-For / X-Real-IP / Forwarded, and the limiter believed it`,
      passed[passed.length - 1],
    );
  } finally {
    // Leave no per-address limit on the harness's own address behind.
    await installRules(ctx, api, 'api', [perMinute('user_id', 2)]);
  }
}

/**
 * Lyft's descriptor matching (README section 2): at each level a node with the entry's key and value wins over one
 * with the key and no value (whatever their order), the node the last entry lands on decides (its rate_limit or
 * none), and entries that lead nowhere (an unknown value, or deeper than the tree) match no rule.
 */
export async function descriptorMatching(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const domain = `c5-${runNonce()}`;
  await installRules(ctx, api, domain, [
    perMinute('user', 5),
    perMinute('user', 1, 'vip'),
    { key: 'user', value: 'exempt' },
    { key: 'message_type', value: 'marketing', descriptors: [perMinute('to_number', 3)] },
    {
      key: 'plan',
      rate_limit: { unit: 'minute', requests_per_unit: 4 },
      descriptors: [perMinute('region', 2, 'eu')],
    },
  ]);
  const e = (...kv: [string, string][]) => kv.map(([key, value]) => ({ key, value }));
  const cases: { entries: ReturnType<typeof e>; limit: number | null; why: string }[] = [
    { entries: e(['user', 'vip']), limit: 1, why: 'the node with the value wins over the value-less one before it' },
    { entries: e(['user', 'someone']), limit: 5, why: 'a value-less node matches any other value' },
    {
      entries: e(['user', 'exempt']),
      limit: null,
      why: "the node with the value wins and has no rate_limit: an exemption, not the value-less node's limit",
    },
    { entries: e(['plan', 'vip']), limit: 4, why: 'a node with the value but another key (user: vip) does not match' },
    { entries: e(['message_type', 'marketing'], ['to_number', '2061111111']), limit: 3, why: 'a nested level' },
    { entries: e(['message_type', 'marketing']), limit: null, why: 'the node it lands on has no rate_limit' },
    { entries: e(['message_type', 'transactional'], ['to_number', '1']), limit: null, why: 'no node has the value' },
    { entries: e(['user', 'someone'], ['device', 'd1']), limit: null, why: 'the entries go deeper than the tree' },
    { entries: e(['plan', 'pro']), limit: 4, why: "the first level's own rule" },
    { entries: e(['plan', 'pro'], ['region', 'eu']), limit: 2, why: "the second level's rule, not the first's" },
    { entries: e(['plan', 'pro'], ['region', 'us']), limit: null, why: 'no node for region us (eu only)' },
  ];
  for (const c of cases) {
    const t = await decided(ctx, api, domain, c.entries);
    const desc = c.entries.map((x) => `${x.key}=${x.value}`).join(', ');
    ctx.expect(
      t.d.limit === c.limit && (c.limit !== null || (t.d.allowed && t.d.remaining === null)),
      `descriptors [${desc}] got limit ${t.d.limit}, not ${c.limit} (${c.why})`,
      t.x,
    );
  }
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
