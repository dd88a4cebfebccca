// UID-C1..C4: every operation and every documented status, errors included. Each response is also validated
// against the spec by the client, so a wrong header, content type or body shape (a JSON-number ID) fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { asId, DECIMAL_ID, idApi, layoutOf, MAX_ID, strictlyIncreasing } from './api.ts';

export async function generateIdConformance(ctx: CheckContext): Promise<void> {
  const api = idApi(ctx);
  const r = await api.one();
  ctx.expectStatus(r.x, 200);
  const body = r.x.body as { id?: unknown };
  ctx.expect(typeof body.id === 'string', `the ID is a JSON ${typeof body.id}, not a decimal string`, r.x);
  ctx.expect(DECIMAL_ID.test(body.id), `the ID ${body.id} is not a decimal integer`, r.x);
  ctx.expect(r.x.headers['cache-control'] === 'no-store', 'Cache-Control is not no-store', r.x);
  ctx.expect(r.node?.name, 'the answer does not name its node', r.x);
  const again = await api.one();
  ctx.expectStatus(again.x, 200);
  ctx.expect(again.ids[0] !== r.ids[0], `two requests got the same ID ${r.ids[0]}`, again.x);
  const get = await ctx.http.send({ method: 'GET', path: '/api/v1/ids', validRequest: false });
  ctx.expectStatus(get, 405, 'method_not_allowed');
}

export async function generateIdsConformance(ctx: CheckContext): Promise<void> {
  const api = idApi(ctx);
  for (const count of [1, 5, 10_000]) {
    const r = await api.batch(count);
    ctx.expectStatus(r.x, 200);
    ctx.expect(r.ids.length === count, `asked for ${count} IDs, got ${r.ids.length}`, r.x);
    const ids = r.ids.map(asId);
    ctx.expect(
      ids.every((v) => v !== null),
      'a batch holds an ID that is not a 63-bit decimal integer',
      r.x,
    );
    const at = strictlyIncreasing(ids as bigint[]);
    ctx.expect(at < 0, `the batch is not strictly increasing at index ${at}`, r.x);
    ctx.expect(r.x.headers['cache-control'] === 'no-store', 'Cache-Control is not no-store', r.x);
  }
  for (const count of ['0', '10001', '-1', 'abc', '1.5', '']) {
    const x = await ctx.http.send({ method: 'POST', path: `/api/v1/ids/batch?count=${count}`, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  const missing = await ctx.http.send({ method: 'POST', path: '/api/v1/ids/batch', validRequest: false });
  ctx.expectStatus(missing, 400, 'invalid_request');
}

export async function decodeConformance(ctx: CheckContext): Promise<void> {
  const api = idApi(ctx);
  const r = await api.one();
  ctx.expectStatus(r.x, 200);
  const v = asId(r.ids[0]);
  ctx.expect(v !== null, `could not get a decimal ID to decode (${r.ids[0]})`, r.x);
  const d = await api.decode(r.ids[0]!);
  ctx.expectStatus(d.x, 200);
  const l = layoutOf(v);
  const decoded = d.decoded;
  ctx.expect(decoded && decoded.id === r.ids[0], 'the decoded id does not echo the ID', d.x);
  ctx.expect(
    decoded.unixMs === l.unixMs &&
      decoded.datacenterId === l.datacenterId &&
      decoded.machineId === l.machineId &&
      decoded.sequence === l.sequence,
    `decoded ${JSON.stringify(decoded)}, the layout gives ${JSON.stringify(l)}`,
    d.x,
  );
  ctx.expect(
    decoded.timestamp === new Date(l.unixMs).toISOString(),
    `timestamp ${decoded.timestamp} is not ${new Date(l.unixMs).toISOString()}`,
    d.x,
  );
  // Any value from 0 to 2^63 - 1 decodes by the layout, whatever node made it (or none): values built here with every
  // field at its edges (0, the top bit of each field, all ones), not only what this target's nodes issue.
  const built = (ms: bigint, dc: bigint, machine: bigint, seq: bigint) =>
    (ms << 22n) | (dc << 17n) | (machine << 12n) | seq;
  const values = [
    MAX_ID,
    0n,
    built(0n, 31n, 0n, 0n),
    built(1n, 16n, 17n, 2048n),
    built((1n << 40n) + 12345n, 21n, 31n, 4095n),
    built(123456789n, 0n, 16n, 1n),
  ];
  for (const v of values) {
    const got = await api.decode(v.toString());
    ctx.expectStatus(got.x, 200);
    const want = layoutOf(v);
    const g = got.decoded;
    ctx.expect(
      g?.id === v.toString() &&
        g.unixMs === want.unixMs &&
        g.datacenterId === want.datacenterId &&
        g.machineId === want.machineId &&
        g.sequence === want.sequence &&
        g.timestamp === new Date(want.unixMs).toISOString(),
      `decoding ${v} gave ${JSON.stringify(g)}; the layout gives ${JSON.stringify(want)}`,
      got.x,
    );
  }
  for (const bad of ['abc', '-1', '01', '1e3', '9223372036854775808', '18446744073709551615', '99999999999999999999']) {
    const x = await ctx.http.send({ method: 'GET', path: `/api/v1/ids/${bad}`, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
}

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/api/v1/ids' },
    { method: 'PUT', path: '/api/v1/ids/batch?count=1' },
    { method: 'DELETE', path: '/api/v1/ids/1' },
    { method: 'GET', path: '/api/v1/ids/batch' },
  ]);
}
