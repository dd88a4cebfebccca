// CH-C1: adding, reweighting, listing and removing servers, every documented status, errors included: the server
// limit and concurrent adds at it, IDs exact to the character, and refusals that change nothing. Each response is
// also validated against the spec by the client.
import type { CheckContext } from '../../core/check-context.ts';
import { MAX_SERVERS, type Membership, type PlacementApi, placementApi, runNonce, setMembership } from './api.ts';

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
  // The list and the last PUT's answer show the virtual nodes the ring has: a lookup (which may build a lazily rebuilt
  // placement) changes nothing a listing shows at the same version.
  ctx.expectStatus((await api.owner('user:42')).x, 200);
  const relisted = await api.list();
  const points = (ms: Membership | null | undefined) =>
    `${ms?.servers.map((s) => `${s.id}:${s.virtualNodes}`).join(', ')} v${ms?.version}`;
  ctx.expect(
    points(relisted.m) === points(m),
    `before any lookup the list shows virtual nodes [${points(m)}], after one [${points(relisted.m)}]`,
    relisted.x,
  );
  const answered = (same.body as { server: { virtualNodes: number } }).server.virtualNodes;
  const listedPoints = relisted.m?.servers.find((s) => s.id === id)?.virtualNodes;
  ctx.expect(
    answered === listedPoints,
    `re-adding ${id} answered ${answered} virtual nodes; the list after a lookup shows ${listedPoints}`,
    same,
  );
  // A PUT without a weight sets the schema's default weight 1, on a known server too (not a partial update).
  const unweighted = await api.add(id);
  ctx.expectStatus(unweighted, 200);
  const u = unweighted.body as { server: { weight: number }; version: number };
  ctx.expect(
    u.server.weight === 1 && u.version === a.version + 1,
    `re-adding ${id} (weight 3) without a weight answered weight ${u.server.weight}, version ${u.version}, not weight 1 (the default) at version ${a.version + 1}`,
    unweighted,
  );
  const back = await api.add(id, 3);
  ctx.expectStatus(back, 200);
  const current = (back.body as { version: number }).version;

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
  await expectUnchanged(ctx, api, current, 'after the rejected PUTs', (m) =>
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
  await joinOrder(ctx, api);
}

/** The list is in joining order (not sorted), and a weight change is not a new join: the server keeps its place. */
async function joinOrder(ctx: CheckContext, api: PlacementApi): Promise<void> {
  const nonce = runNonce();
  const ids = ['c', 'a', 'b'].map((s) => `order-${s}-${nonce}`);
  for (const s of ids) ctx.expectStatus(await api.add(s), 201);
  ctx.expectStatus(await api.add(ids[0]!, 2), 200);
  const { x, m } = await api.list();
  const listed = m?.servers.map((s) => s.id).filter((s) => ids.includes(s)) ?? [];
  ctx.expect(
    listed.join() === ids.join(),
    `after re-weighting ${ids[0]} the list shows [${listed.join(', ')}], not the joining order [${ids.join(', ')}]`,
    x,
  );
  for (const s of ids) ctx.expectStatus(await api.remove(s), 204);
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
