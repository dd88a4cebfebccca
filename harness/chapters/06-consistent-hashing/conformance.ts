// CH-C1..C5: every operation and every documented status, errors included. Each response is also validated against
// the spec by the client, so a wrong status, content type or body shape fails here too. Each check sets up the
// membership it needs (the service has one ring).
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  MAX_SERVERS,
  type Membership,
  ownersOf,
  type PlacementApi,
  placementApi,
  runNonce,
  type Stats,
  setMembership,
} from './api.ts';

export async function membershipConformance(ctx: CheckContext): Promise<void> {
  const api = placementApi(ctx.http);
  await setMembership(ctx, api, []);
  const id = `cache-${runNonce()}`;
  const before = (await api.list()).m!.version;
  const created = await api.add(id);
  ctx.expectStatus(created, 201);
  const c = created.body as { server: { id: string; weight: number }; version: number };
  ctx.expect(c.server.id === id, `adding ${id} answered the ID ${JSON.stringify(c.server.id)}`, created);
  ctx.expect(c.server.weight === 1, `a new server without a weight has weight ${c.server.weight}, not 1`, created);
  // The spec's Version: it increases by one with every change (add, weight change, remove).
  ctx.expect(
    c.version === before + 1,
    `adding ${id} moved the version from ${before} to ${c.version}, not by one`,
    created,
  );
  const again = await api.add(id, 3);
  ctx.expectStatus(again, 200);
  const a = again.body as { server: { weight: number }; version: number };
  // The version first: a weight that changed while the version did not is a version bug, not a weight bug.
  ctx.expect(
    a.version === c.version + 1,
    `re-adding ${id} with weight 3 answered version ${a.version}, not ${c.version + 1}: a weight change must increase the version by one`,
    again,
  );
  ctx.expect(a.server.weight === 3, `re-adding ${id} with weight 3 answered weight ${a.server.weight}`, again);
  const same = await api.add(id, 3);
  ctx.expectStatus(same, 200);
  ctx.expect((same.body as { version: number }).version === a.version, 'an unchanged weight changed the version', same);
  const { x, m } = await api.list();
  ctx.expectStatus(x, 200);
  ctx.expect(
    m?.servers.some((s) => s.id === id && s.weight === 3),
    `the list does not show ${id} with weight 3`,
    x,
  );

  for (const [path, body, why] of [
    ['/api/v1/servers/bad%20id', {}, 'a space in the ID'],
    ['/api/v1/servers/-dash', {}, 'an ID starting with a dash'],
    [`/api/v1/servers/${'a'.repeat(65)}`, {}, 'a 65-character ID'],
    [`/api/v1/servers/${id}`, { weight: 0 }, 'weight 0'],
    [`/api/v1/servers/${id}`, { weight: 17 }, 'weight 17'],
    [`/api/v1/servers/${id}`, { weight: '2' }, 'a string weight'],
    [`/api/v1/servers/${id}`, { weight: 1.5 }, 'a fractional weight'],
    [`/api/v1/servers/${id}`, { weight: 1, extra: true }, 'an unknown property'],
    [`/api/v1/servers/${id}`, [1], 'an array body'],
  ] as const) {
    const r = await ctx.http.send({ method: 'PUT', path, json: body, validRequest: false });
    ctx.expect(r.status === 400, `PUT with ${why} answered ${r.status ?? r.error}, not 400`, r);
    ctx.expectStatus(r, 400, 'invalid_request');
  }
  const text = await ctx.http.send({
    method: 'PUT',
    path: `/api/v1/servers/${id}`,
    rawBody: '{}',
    contentType: 'text/plain',
    validRequest: false,
  });
  ctx.expectStatus(text, 415, 'unsupported_media_type');
  const huge = await ctx.http.send({
    method: 'PUT',
    path: `/api/v1/servers/${id}`,
    rawBody: JSON.stringify({ weight: 1, pad: 'x'.repeat(128 * 1024) }),
    contentType: 'application/json',
    validRequest: false,
  });
  ctx.expectStatus(huge, 413, 'payload_too_large');
  // Rejected requests change nothing: same version, same weight.
  await expectUnchanged(ctx, api, a.version, 'after the rejected PUTs', (m) =>
    m.servers.some((s) => s.id === id && s.weight === 3),
  );
  await serverLimit(ctx, api, id);
  await idsAreExact(ctx, api, id);

  const beforeRemove = (await api.list()).m!.version;
  ctx.expectStatus(await api.remove(id), 204);
  const removed = await api.list();
  ctx.expect(
    removed.m?.version === beforeRemove + 1,
    `removing ${id} moved the version from ${beforeRemove} to ${removed.m?.version}, not by one`,
    removed.x,
  );
  ctx.expectStatus(await api.remove(id), 404, 'not_found');
  const bad = await ctx.http.send({ method: 'DELETE', path: '/api/v1/servers/bad%20id', validRequest: false });
  ctx.expectStatus(bad, 400, 'invalid_request');
  const after = await api.list();
  ctx.expect(!after.m?.servers.some((s) => s.id === id), `${id} is still listed after its removal`, after.x);
}

/** Runs work over items, at most `parallel` at a time. */
async function inParallel<T>(items: readonly T[], parallel: number, work: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

/** Fails unless the membership is still at `version` and `holds` is true of it. */
async function expectUnchanged(
  ctx: CheckContext,
  api: PlacementApi,
  version: number,
  when: string,
  holds: (m: Membership) => boolean,
): Promise<Membership> {
  const { x, m } = await api.list();
  ctx.expect(m, `listing servers answered ${x.status ?? x.error}`, x);
  ctx.expect(
    m.version === version,
    `${when} the version is ${m.version}, not ${version}: a rejected request changed the membership`,
    x,
  );
  ctx.expect(
    holds(m),
    `${when} the membership changed: [${m.servers.map((s) => `${s.id}:${s.weight}`).join(', ')}]`,
    x,
  );
  return m;
}

/**
 * The spec's bound of 256 servers: the 257th new server is 409 too_many_servers and changes nothing, while a known
 * server's weight can still be set. Leaves only `keep` in the ring.
 */
async function serverLimit(ctx: CheckContext, api: PlacementApi, keep: string): Promise<void> {
  const before = (await api.list()).m!;
  const nonce = runNonce();
  const fill = Array.from({ length: MAX_SERVERS - before.servers.length }, (_, i) => `limit-${i}-${nonce}`);
  // Eight requests at a time: 2 x 255 membership changes one by one are slow on a loaded machine.
  await inParallel(fill, 8, async (s, i) => {
    const r = await api.add(s);
    ctx.expect(
      r.status === 201,
      `adding server ${before.servers.length + i + 1} of ${MAX_SERVERS} answered ${r.status ?? r.error}`,
      r,
    );
  });
  const full = (await api.list()).m!;
  const over = `limit-over-${nonce}`;
  const refused = await api.add(over);
  ctx.expectStatus(refused, 409, 'too_many_servers');
  await expectUnchanged(
    ctx,
    api,
    full.version,
    `after the refused server ${MAX_SERVERS + 1}`,
    (m) => m.servers.length === MAX_SERVERS && !m.servers.some((s) => s.id === over),
  );
  const reweighted = await api.add(keep, 2);
  ctx.expect(
    reweighted.status === 200,
    `re-weighting a known server in a full ring answered ${reweighted.status ?? reweighted.error}, not 200`,
    reweighted,
  );
  await inParallel(fill, 8, async (s) => {
    const r = await api.remove(s);
    ctx.expect(r.status === 204, `removing ${s} answered ${r.status ?? r.error}`, r);
  });
}

/** Server IDs are strings compared exactly: the ID in other case is another server, echoed and removed as given. */
async function idsAreExact(ctx: CheckContext, api: PlacementApi, id: string): Promise<void> {
  const other = id.toUpperCase();
  const added = await api.add(other);
  ctx.expect(
    added.status === 201,
    `adding ${other} (${id} in upper case) answered ${added.status ?? added.error}, not 201: an ID in other case is another server`,
    added,
  );
  const echoed = (added.body as { server: { id: string } }).server.id;
  ctx.expect(echoed === other, `adding ${other} answered the ID ${JSON.stringify(echoed)}`, added);
  const both = await api.list();
  const ids = both.m?.servers.map((s) => s.id) ?? [];
  ctx.expect(
    ids.includes(id) && ids.includes(other),
    `the list shows [${ids.join(', ')}], not ${id} and ${other}`,
    both.x,
  );
  ctx.expectStatus(await api.remove(other), 204);
  const after = await api.list();
  ctx.expect(
    after.m?.servers.some((s) => s.id === id),
    `removing ${other} also removed ${id}: IDs differing in case are different servers`,
    after.x,
  );
}

export async function lookupConformance(ctx: CheckContext): Promise<void> {
  const api = placementApi(ctx.http);
  await setMembership(ctx, api, []);
  ctx.expectStatus((await api.owner('user:42')).x, 409, 'no_servers');
  ctx.expectStatus((await api.replicas('user:42', 2)).x, 409, 'no_servers');
  const members = ['cache-a', 'cache-b', 'cache-c'];
  await setMembership(
    ctx,
    api,
    members.map((id) => ({ id })),
  );
  // Keys at the spec's limit of 256 characters: ASCII, 256 two-byte characters (512 bytes of UTF-8: the limit is not
  // in bytes) and 128 characters outside the BMP (256 UTF-16 code units, 128 code points: within the limit
  // whichever way characters are counted).
  // Surrounding whitespace is part of a key (any string of 1-256 characters): it is echoed and placed as given.
  const keys = [
    'user:42',
    'ключ',
    '🔑/?&=#%',
    ' padded key\t',
    'k'.repeat(256),
    'é'.repeat(256),
    '\u{1F600}'.repeat(128),
  ];
  for (const key of keys) {
    const { x, o } = await api.owner(key);
    const shown =
      key.length > 16
        ? `of ${[...key].length} characters (${key.length} UTF-16 units, ${Buffer.byteLength(key)} UTF-8 bytes)`
        : JSON.stringify(key);
    ctx.expect(x.status === 200, `getOwner of the key ${shown} answered ${x.status ?? x.error}, not 200`, x);
    ctx.expect(o?.key === key, `the owner answer does not echo the key ${JSON.stringify(key)}`, x);
    ctx.expect(members.includes(o.server), `owner ${o.server} is not a member`, x);
    const r = await api.replicas(key, 2);
    ctx.expectStatus(r.x, 200);
    ctx.expect(r.r?.servers.length === 2, `replicas n=2 gave ${r.r?.servers.length} servers`, r.x);
    ctx.expect(r.r.servers[0] === o.server, 'the first replica is not the owner', r.x);
  }
  const dflt = await api.replicas('user:42');
  ctx.expect(dflt.r?.servers.length === 3, 'replicas without n did not give the default 3', dflt.x);
  const many = await api.replicas('user:42', 16);
  ctx.expect(many.r?.servers.length === 3, `n=16 on 3 servers gave ${many.r?.servers.length}, not all 3`, many.x);
  for (const path of [
    '/api/v1/owner',
    '/api/v1/owner?key=',
    `/api/v1/owner?key=${'k'.repeat(257)}`,
    '/api/v1/replicas',
    '/api/v1/replicas?key=a&n=0',
    '/api/v1/replicas?key=a&n=17',
    '/api/v1/replicas?key=a&n=two',
    `/api/v1/owner?key=${encodeURIComponent('é'.repeat(257))}`,
  ]) {
    ctx.expectStatus(await ctx.http.send({ method: 'GET', path, validRequest: false }), 400, 'invalid_request');
  }
}

export async function batchConformance(ctx: CheckContext): Promise<void> {
  const api = placementApi(ctx.http);
  await setMembership(ctx, api, []);
  ctx.expectStatus((await api.batch(['a'])).x, 409, 'no_servers');
  const members = ['cache-a', 'cache-b', 'cache-c', 'cache-d'];
  await setMembership(
    ctx,
    api,
    members.map((id) => ({ id })),
  );
  // A repeated key is still one result per key of the request, at each of its places.
  const keys = ['zeta', 'alpha', 'user:42', 'mu', 'beta', 'omega', 'gamma', 'alpha'];
  const { x, b } = await api.batch(keys, 2);
  ctx.expectStatus(x, 200);
  ctx.expect(b?.results.length === keys.length, `${keys.length} keys gave ${b?.results.length} results`, x);
  for (const [i, r] of b.results.entries()) {
    ctx.expect(r.key === keys[i], `result ${i} is for ${r.key}, not ${keys[i]}: not in request order`, x);
    ctx.expect(r.servers.length === 2 && r.servers.every((s) => members.includes(s)), `bad servers for ${r.key}`, x);
    const single = await api.owner(r.key);
    ctx.expect(single.o?.server === r.servers[0], `batch owner of ${r.key} differs from getOwner`, single.x);
  }
  const one = await api.batch(keys);
  ctx.expect(
    one.b?.results.every((r) => r.servers.length === 1),
    'replicas defaults to 1',
    one.x,
  );
  const full = await api.batch(Array.from({ length: 1000 }, (_, i) => `k${i}`));
  ctx.expectStatus(full.x, 200);
  for (const [body, why] of [
    [{ keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) }, '1001 keys'],
    [{ keys: [] }, 'no keys'],
    [{ keys: [''] }, 'an empty key'],
    [{ keys: [42] }, 'a number as key'],
    [{ keys: ['a'], replicas: 0 }, 'replicas 0'],
    [{}, 'no keys field'],
    [{ keys: ['a'], other: 1 }, 'an unknown property'],
  ] as const) {
    const r = await ctx.http.send({ method: 'POST', path: '/api/v1/lookups', json: body, validRequest: false });
    ctx.expect(r.status === 400, `a batch with ${why} answered ${r.status ?? r.error}, not 400`, r);
    ctx.expectStatus(r, 400, 'invalid_request');
  }
  const text = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/lookups',
    rawBody: '{"keys":["a"]}',
    contentType: 'text/plain',
    validRequest: false,
  });
  ctx.expectStatus(text, 415, 'unsupported_media_type');
}

export async function statsConformance(ctx: CheckContext): Promise<void> {
  const api = placementApi(ctx.http);
  await setMembership(ctx, api, []);
  ctx.expectStatus((await api.stats()).x, 409, 'no_servers');
  await setMembership(ctx, api, [{ id: 'cache-a' }, { id: 'cache-b', weight: 2 }, { id: 'cache-c' }]);
  const { x, s } = await api.stats(2000);
  ctx.expectStatus(x, 200);
  ctx.expect(s?.sampleSize === 2000, 'sampleSize does not echo the sample', x);
  ctx.expect(s.servers.length === 3, `stats list ${s.servers.length} servers, not 3`, x);
  const rows = s.servers;
  const sum = (f: (v: (typeof rows)[number]) => number) => rows.reduce((a, v) => a + f(v), 0);
  ctx.expect(Math.abs(sum((v) => v.hashSpaceShare) - 1) < 1e-3, 'hash-space shares do not sum to 1', x);
  ctx.expect(Math.abs(sum((v) => v.sampleShare) - 1) < 1e-3, 'sample shares do not sum to 1', x);
  ctx.expect(sum((v) => v.sampleKeys) === 2000, 'sample keys do not add up to the sample size', x);
  ctx.expect(s.servers.find((v) => v.id === 'cache-b')?.weight === 2, 'weights are not reported', x);
  await statsAgreeWithLookups(ctx, api, s, x);
  // One server owns the whole ring: all of the hash space and every sample key (the arc past the last point too).
  await setMembership(ctx, api, [{ id: 'cache-a' }]);
  const solo = await api.stats(100);
  const only = solo.s?.servers[0];
  ctx.expect(
    only && Math.abs(only.hashSpaceShare - 1) < 1e-6 && only.sampleShare === 1 && only.sampleKeys === 100,
    `the only server owns ${only?.hashSpaceShare} of the hash space and ${only?.sampleKeys} of 100 sample keys, not all`,
    solo.x,
  );
  const dflt = await api.stats();
  ctx.expect(dflt.s?.sampleSize === 10000, 'the default sample is not 10000', dflt.x);
  for (const q of ['?sample=0', '?sample=100001', '?sample=many']) {
    const r = await ctx.http.send({ method: 'GET', path: `/api/v1/stats${q}`, validRequest: false });
    ctx.expectStatus(r, 400, 'invalid_request');
  }
}

/** Tolerance on a reported standard deviation, in percentage points (shares may be rounded by the service). */
const STDDEV_TOLERANCE = 0.5;

/**
 * What the statistics claim, recomputed by the client: the sample is the keys sample-0 .. sample-(N-1), placed here
 * with batch lookups; virtualNodes is weight x the same per-unit count; each standard deviation is that of load
 * divided by the weight's fair share, as a percentage (of the mean of those ratios, or of 1 when they average 1).
 */
async function statsAgreeWithLookups(ctx: CheckContext, api: PlacementApi, s: Stats, x: Exchange): Promise<void> {
  const sample = Array.from({ length: s.sampleSize }, (_, i) => `sample-${i}`);
  const owners = await ownersOf(ctx, api, sample);
  const counts = new Map<string, number>();
  for (const [o] of owners) counts.set(o!, (counts.get(o!) ?? 0) + 1);
  for (const v of s.servers)
    ctx.expect(
      v.sampleKeys === (counts.get(v.id) ?? 0),
      `${v.id} has ${v.sampleKeys} sample keys; placing sample-0 .. sample-${s.sampleSize - 1} gives it ${counts.get(v.id) ?? 0}`,
      x,
    );
  const perUnit = s.servers[0]!.virtualNodes / s.servers[0]!.weight;
  for (const v of s.servers)
    ctx.expect(
      v.virtualNodes === v.weight * perUnit,
      `${v.id} (weight ${v.weight}) has ${v.virtualNodes} virtual nodes, not weight x ${perUnit}`,
      x,
    );
  const list = (await api.list()).m;
  for (const v of list?.servers ?? [])
    ctx.expect(
      v.virtualNodes === v.weight * perUnit,
      `the list shows ${v.id} (weight ${v.weight}) with ${v.virtualNodes} virtual nodes, not weight x ${perUnit}`,
      x,
    );
  const totalWeight = s.servers.reduce((a, v) => a + v.weight, 0);
  for (const [name, share, reported] of [
    ['hash-space', (v: Stats['servers'][number]) => v.hashSpaceShare, s.stdDevPercent.hashSpace],
    ['sample', (v: Stats['servers'][number]) => v.sampleShare, s.stdDevPercent.sample],
  ] as const) {
    const ratios = s.servers.map((v) => share(v) / (v.weight / totalWeight));
    const mean = ratios.reduce((a, r) => a + r, 0) / ratios.length;
    const sd = Math.sqrt(ratios.reduce((a, r) => a + (r - mean) ** 2, 0) / ratios.length) * 100;
    ctx.expect(
      Math.abs(reported - sd) <= STDDEV_TOLERANCE || Math.abs(reported - sd / mean) <= STDDEV_TOLERANCE,
      `the ${name} standard deviation is ${reported}%; the shares reported give ${sd.toFixed(2)}% (load over the weight's fair share)`,
      x,
    );
  }
}

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'POST', path: '/api/v1/servers' },
    { method: 'GET', path: '/api/v1/lookups' },
    { method: 'PATCH', path: '/api/v1/servers/cache-a' },
  ]);
}
