// KV-C1, C2, C3 and C5: every operation and every documented status, errors included (KV-C4 in local-replica.ts,
// KV-C6 in sibling-cap.ts). Every response is also validated against the spec by the client, so a wrong header,
// content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { freshKey, kvApi, nodeApis, sleep } from './api.ts';
import { covers } from './causal.ts';
import { forwardedRequestsKeepTheirQuorum } from './forwarded-quorum.ts';
import { sharesFromTokens } from './ring-placement.ts';

const MAX_VALUE = 10_240;

export async function putGetConformance(ctx: CheckContext): Promise<void> {
  const api = kvApi(ctx.http);
  const { view } = await api.cluster();
  const n = view?.n ?? 3;
  const key = freshKey('c1');
  const missing = await api.get(key);
  ctx.expectStatus(missing.x, 404, 'key_not_found');
  const put = await api.put(key, 'D1');
  ctx.expectStatus(put.x, 200);
  ctx.expect(put.dot && put.context && covers(put.context, put.dot), 'the write context does not cover its dot', put.x);
  const got = await api.get(key);
  ctx.expectStatus(got.x, 200);
  ctx.expect(
    got.siblings.length === 1 && got.siblings[0]!.value === 'D1' && got.siblings[0]!.dot === put.dot,
    `read ${JSON.stringify(got.siblings)} after writing D1 as ${put.dot}`,
    got.x,
  );
  ctx.expect(got.x.headers['x-kv-context'] === got.context, 'X-Kv-Context differs from the body context', got.x);
  // An update with the read's context supersedes: one sibling again.
  const upd = await api.put(key, 'D2', { context: got.context, w: 3 });
  ctx.expectStatus(upd.x, 200);
  ctx.expect((upd.x.body as { acks: number }).acks >= 3, 'w=3 was acknowledged by fewer than 3 replicas', upd.x);
  const again = await api.get(key, { r: 3 });
  ctx.expectStatus(again.x, 200);
  ctx.expect(
    again.siblings.length === 1 && again.siblings[0]!.value === 'D2',
    `after an update with the context, read ${JSON.stringify(again.siblings.map((s) => s.value))}, not [D2]`,
    again.x,
  );
  // The context format: each entry covers an actor's events up to its counter, so naming an actor twice covers
  // the union (`a:5,a:0` covers a's events 1..5). The read's context, then every actor again at 0, still
  // supersedes what the read saw: a parser that lets a later entry replace an earlier one would not.
  const repeated = `${again.context},${again
    .context!.split(',')
    .map((e) => e.replace(/[:@][0-9]+$/, ':0'))
    .join(',')}`;
  const rewrite = await api.put(key, 'D2b', { context: repeated });
  ctx.expectStatus(rewrite.x, 200);
  const reread = await api.get(key, { r: 3 });
  ctx.expectStatus(reread.x, 200);
  ctx.expect(
    reread.siblings.length === 1 && reread.siblings[0]!.value === 'D2b',
    `a write with the context '${repeated}' (the read's entries, then each actor again at 0: the union covers ` +
      `what the read saw) left ${JSON.stringify(reread.siblings.map((s) => s.value))}, not [D2b]`,
    reread.x,
  );
  // The limit is in bytes of UTF-8: exactly 10,240 is fine, in 1-byte and in 4-byte characters (outside the BMP,
  // two UTF-16 units each), and reads back unchanged; one byte more is 413, and a refused write changes nothing.
  let context = reread.context;
  let stored = '';
  for (const edgeValue of ['x'.repeat(MAX_VALUE), '😀'.repeat(MAX_VALUE / 4)]) {
    const edge = await api.put(key, edgeValue, { context });
    ctx.expectStatus(edge.x, 200);
    const read = await api.get(key, { r: 3 });
    ctx.expect(
      read.siblings.length === 1 && read.siblings[0]!.value === edgeValue,
      `a value of exactly ${MAX_VALUE} bytes (${[...edgeValue].length} characters) did not read back unchanged`,
      read.x,
    );
    context = read.context;
    stored = edgeValue;
  }
  for (const big of ['x'.repeat(MAX_VALUE + 1), 'é'.repeat(MAX_VALUE / 2 + 1), `${'😀'.repeat(MAX_VALUE / 4)}x`]) {
    const x = await ctx.http.send({
      method: 'PUT',
      path: `/api/v1/kv/${key}`,
      json: { value: big, context },
      validRequest: false,
    });
    ctx.expectStatus(x, 413, 'value_too_large');
    const after = await api.get(key, { r: 3 });
    ctx.expect(
      after.siblings.length === 1 && after.siblings[0]!.value === stored && after.context === context,
      `a write refused with 413 (${Buffer.byteLength(big)} bytes) changed the key: it reads ` +
        `${after.siblings.length} sibling(s) of ${after.siblings.map((v) => Buffer.byteLength(v.value)).join(', ')} ` +
        `bytes and context '${after.context?.slice(0, 80)}', not the ${MAX_VALUE}-byte value stored before`,
      after.x,
    );
  }
  // Keys: 256 characters is the longest allowed (257 is refused below).
  const longKey = `${freshKey('c1')}-`.padEnd(256, 'k');
  const longPut = await api.put(longKey, 'long');
  ctx.expectStatus(longPut.x, 200);
  const longGet = await api.get(longKey);
  ctx.expect(
    longGet.siblings.map((v) => v.value).join() === 'long',
    'a 256-character key did not read back',
    longGet.x,
  );
  const bad: { path: string; json?: unknown; raw?: string; ctype?: string; status?: number; code?: string }[] = [
    { path: `/api/v1/kv/${key}`, json: {} },
    { path: `/api/v1/kv/${key}`, json: { value: 42 } },
    { path: `/api/v1/kv/${key}`, json: { value: 'v', extra: 1 } },
    { path: `/api/v1/kv/${key}`, json: { value: 'v', context: 'not a context' } },
    { path: `/api/v1/kv/${key}`, raw: '{"value":', ctype: 'application/json' },
    { path: `/api/v1/kv/${key}?w=0`, json: { value: 'v' } },
    { path: `/api/v1/kv/${key}?w=9`, json: { value: 'v' } },
    // N + 1: larger than N, however many nodes the cluster has (on 4 nodes with N=3, w=4 is still 400).
    { path: `/api/v1/kv/${key}?w=${n + 1}`, json: { value: 'v' } },
    { path: `/api/v1/kv/${key}?w=two`, json: { value: 'v' } },
    { path: `/api/v1/kv/bad%20key`, json: { value: 'v' } },
    { path: `/api/v1/kv/${'k'.repeat(257)}`, json: { value: 'v' } },
    { path: `/api/v1/kv/${key}`, raw: 'value=v', ctype: 'text/plain', status: 415, code: 'unsupported_media_type' },
  ];
  for (const b of bad) {
    const x = await ctx.http.send({
      method: 'PUT',
      path: b.path,
      ...(b.json !== undefined ? { json: b.json } : { rawBody: b.raw!, contentType: b.ctype! }),
      validRequest: false,
    });
    ctx.expectStatus(x, b.status ?? 400, b.code ?? 'invalid_request');
  }
  const untouched = await api.get(key, { r: 3 });
  ctx.expect(
    untouched.siblings.length === 1 && untouched.siblings[0]!.value === stored && untouched.context === context,
    `requests refused with 400 or 415 changed ${key}: it reads ${untouched.siblings.length} sibling(s), context ` +
      `'${untouched.context?.slice(0, 80)}'`,
    untouched.x,
  );
  for (const p of [
    `/api/v1/kv/${key}?r=0`,
    `/api/v1/kv/${key}?r=9`,
    `/api/v1/kv/${key}?r=${n + 1}`,
    '/api/v1/kv/a%2Fb',
  ]) {
    const x = await ctx.http.send({ method: 'GET', path: p, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  // The empty string is a value like any other (no minLength): it reads back as one sibling, not as a deletion.
  const emptyKey = freshKey('c1-empty');
  const emptyPut = await api.put(emptyKey, '', { w: n });
  ctx.expectStatus(emptyPut.x, 200);
  const emptyGet = await api.get(emptyKey, { r: n });
  ctx.expect(
    emptyGet.status === 200 && emptyGet.siblings.length === 1 && emptyGet.siblings[0]!.value === '',
    `a stored empty-string value reads as ${emptyGet.status} ${JSON.stringify(emptyGet.siblings.map((s) => s.value))}, not ['']`,
    emptyGet.x,
  );
  await forwardedRequestsKeepTheirQuorum(ctx, n);
}

export async function deleteConformance(ctx: CheckContext): Promise<void> {
  const api = kvApi(ctx.http);
  const key = freshKey('c2');
  const put = await api.put(key, 'doomed');
  ctx.expectStatus(put.x, 200);
  const del = await api.del(key, { context: put.context });
  ctx.expectStatus(del.x, 200);
  ctx.expect(
    del.dot && del.context && covers(del.context, put.dot!),
    'the delete context does not cover the write',
    del.x,
  );
  for (const { name, api: nodeApi } of nodeApis(ctx)) {
    const got = await nodeApi.get(key);
    ctx.expect(got.status === 404, `${name}: after the delete, the key answers ${got.status}, not 404`, got.x);
    ctx.expectStatus(got.x, 404, 'key_not_found');
    ctx.expect(
      got.context !== null && covers(got.context, del.dot!),
      `${name}: the 404's X-Kv-Context '${got.context}' does not cover the deletion ${del.dot}`,
      got.x,
    );
  }
  // A write after the delete, with its context, brings the key back with one sibling.
  const back = await api.put(key, 'back', { context: del.context });
  ctx.expectStatus(back.x, 200);
  const got = await api.get(key);
  ctx.expect(
    got.status === 200 && got.siblings.map((s) => s.value).join() === 'back',
    'the key did not come back',
    got.x,
  );
  // A delete's w is honoured like a write's: with w = N it is acknowledged once N replicas hold the tombstone.
  const { view } = await api.cluster();
  const n = view!.n;
  const key2 = freshKey('c2-wn');
  const put2 = await api.put(key2, 'doomed');
  ctx.expectStatus(put2.x, 200);
  const delN = await api.del(key2, { context: put2.context, w: n });
  ctx.expectStatus(delN.x, 200);
  const acks = (delN.x.body as { acks: number }).acks;
  ctx.expect(acks >= n, `a delete with w=${n} was acknowledged by ${acks} replicas, fewer than ${n}`, delN.x);
  const never = await api.del(freshKey('c2-never'));
  ctx.expectStatus(never.x, 200);
  for (const p of [
    `/api/v1/kv/${key}?context=nope!`,
    `/api/v1/kv/${key}?w=0`,
    `/api/v1/kv/${key}?w=9`,
    `/api/v1/kv/${key}?w=${n + 1}`,
  ]) {
    const x = await ctx.http.send({ method: 'DELETE', path: p, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
}

export async function clusterConformance(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  const names = [...ctx.target.nodes];
  // Gossip needs a few rounds after a start: allow 5 s for every node to hear of every other.
  const deadline = Date.now() + 5000;
  for (const { name, api } of nodes) {
    for (;;) {
      const { x, view } = await api.cluster();
      ctx.expectStatus(x, 200);
      ctx.expect(view, 'no view', x);
      ctx.expect(view.w <= view.n && view.r <= view.n, `W=${view.w} or R=${view.r} is larger than N=${view.n}`, x);
      const down = view.members.filter((m) => m.status !== 'alive').map((m) => m.name);
      const listed = new Set(view.members.map((m) => m.name));
      if (nodes.length > 1) {
        const unlisted = names.filter((n) => !listed.has(n));
        ctx.expect(unlisted.length === 0, `${name}'s view does not list ${unlisted.join(', ')}`, x);
      }
      if (down.length === 0) {
        const share = view.members.reduce((s, m) => s + m.ringShare, 0);
        ctx.expect(Math.abs(share - 1) < 1e-6, `ring shares sum to ${share}, not 1`, x);
        for (const m of view.members)
          ctx.expect(
            m.tokens.length === view.virtualNodes,
            `${m.name} has ${m.tokens.length} ring positions, not virtualNodes=${view.virtualNodes}`,
            x,
          );
        sharesFromTokens(ctx, view.members, x);
        break;
      }
      if (Date.now() > deadline)
        ctx.fail(`${name} still sees ${down.join(', ')} as down 5 s after start (gossip should have reached them)`, {
          exchange: x,
        });
      await sleep(250);
    }
  }
}

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'POST', path: '/api/v1/kv/k' },
    { method: 'PATCH', path: '/api/v1/kv/k' },
    { method: 'PUT', path: '/api/v1/cluster' },
    { method: 'DELETE', path: '/api/v1/replicas/k' },
  ]);
}
