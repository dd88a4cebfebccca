// CH-C2..C5: lookups, batch lookups, statistics and readiness, every documented status, errors included (CH-C1,
// membership, is membership-conformance.ts). Each response is also validated against the spec by the client, so a
// wrong status, content type or body shape fails here too. Each check sets up the membership it needs (the service
// has one ring).
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import type { Exchange } from '../../core/http-client.ts';
import { ownersOf, type PlacementApi, placementApi, type Stats, setMembership } from './api.ts';

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
    // Decomposed Unicode (e + combining acute, A + combining ring): placed and echoed as sent, never normalized.
    'cafe\u0301/A\u030A',
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
    const [batched] = await ownersOf(ctx, api, [key]);
    ctx.expect(
      batched?.[0] === o.server,
      `getOwner places the key ${shown} on ${o.server}, a batch lookup on ${batched?.[0]}`,
      r.x,
    );
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
  // A sample share is the fraction sampleKeys / sampleSize (rounded to 1e-6 at most, like every share here).
  for (const v of rows)
    ctx.expect(
      Math.abs(v.sampleShare - v.sampleKeys / 2000) <= SHARE_ROUNDING,
      `${v.id}'s sampleShare is ${v.sampleShare}, but ${v.sampleKeys} of 2000 sample keys are ${v.sampleKeys / 2000}`,
      x,
    );
  ctx.expect(s.servers.find((v) => v.id === 'cache-b')?.weight === 2, 'weights are not reported', x);
  await statsAgreeWithLookups(ctx, api, s, x);
  // One server owns the whole ring: all of the hash space and every sample key (the arc past the last point too), at
  // the spec's largest sample (every key of it placed, none left out to save time).
  await setMembership(ctx, api, [{ id: 'cache-a' }]);
  const solo = await api.stats(100000);
  const only = solo.s?.servers[0];
  ctx.expect(
    only && Math.abs(only.hashSpaceShare - 1) < 1e-6 && only.sampleShare === 1 && only.sampleKeys === 100000,
    `the only server owns ${only?.hashSpaceShare} of the hash space and ${only?.sampleKeys} of 100000 sample keys, not all`,
    solo.x,
  );
  const dflt = await api.stats();
  ctx.expect(dflt.s?.sampleSize === 10000, 'the default sample is not 10000', dflt.x);
  await spaceMatchesSample(ctx, api);
  for (const q of ['?sample=0', '?sample=100001', '?sample=many']) {
    const r = await ctx.http.send({ method: 'GET', path: `/api/v1/stats${q}`, validRequest: false });
    ctx.expectStatus(r, 400, 'invalid_request');
  }
}

/** How far a reported share may be from the exact fraction (the service may round shares to 6 decimals). */
const SHARE_ROUNDING = 1.5e-6;

/**
 * The hash-space shares are measured, not the weights' nominal shares: with the spec's largest sample (100,000 keys),
 * each server's sample share is within 5 binomial standard deviations of its hash-space share (a ring's real arcs
 * differ from weight / total weight by several percent, which a weight-proportional claim hides).
 */
async function spaceMatchesSample(ctx: CheckContext, api: PlacementApi): Promise<void> {
  // Up to the spec's largest weight, 16: its virtualNodes too are weight x the per-unit count.
  await setMembership(ctx, api, [
    { id: 'cache-a' },
    { id: 'cache-b' },
    { id: 'cache-c' },
    { id: 'cache-d', weight: 16 },
  ]);
  const N = 100_000;
  const { x, s } = await api.stats(N);
  ctx.expect(s, `stats of a ${N}-key sample answered ${x.status ?? x.error}`, x);
  const perUnit = s.servers[0]!.virtualNodes / s.servers[0]!.weight;
  for (const v of s.servers) {
    ctx.expect(
      v.virtualNodes === v.weight * perUnit,
      `${v.id} (weight ${v.weight}) has ${v.virtualNodes} virtual nodes, not weight x ${perUnit}`,
      x,
    );
    const p = v.hashSpaceShare;
    const bound = 5 * Math.sqrt((p * (1 - p)) / N) + SHARE_ROUNDING;
    ctx.expect(
      Math.abs(v.sampleKeys / N - p) <= bound,
      `${v.id} owns ${v.sampleKeys} of ${N} sample keys (${(v.sampleKeys / N).toFixed(4)}), but a hash-space share ` +
        `of ${p}: more than 5 standard deviations (${bound.toFixed(4)}) apart`,
      x,
    );
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
  // The per-unit count the deployment declares (setting virtualNodesPerUnit, e.g. with VIRTUAL_NODES=100); 0, the
  // default, when it declares none: the spec leaves the count to the implementation.
  const declared = ctx.setting('virtualNodesPerUnit', 0);
  if (!Number.isInteger(declared) || declared < 0)
    throw new Error(
      `setting virtualNodesPerUnit is declared as ${declared}; it must be a positive integer (or 0: any)`,
    );
  if (declared > 0)
    ctx.expect(
      perUnit === declared,
      `the deployment declares ${declared} virtual nodes per unit of weight; the servers have ${perUnit} per unit`,
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
