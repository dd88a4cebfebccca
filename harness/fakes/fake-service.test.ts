// The example PSP and the generic fake over a real 127.0.0.1 port, with global fetch, as an out-of-process system
// under test would call it.
import { http } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../faults/free-port.ts';
import { createExamplePsp, type ExamplePsp } from './example-psp.ts';
import { type FakeService, startFakeService } from './fake-service.ts';
import { describeCalls, groupByHeader, jsonBody } from './record.ts';
import { outcome } from './test-support.ts';

let psp: ExamplePsp;
let fake: FakeService;

beforeAll(async () => {
  psp = createExamplePsp();
  const boom = http.get('*/boom', () => {
    throw new Error('handler bug');
  });
  fake = await startFakeService({ name: 'psp', handlers: [...psp.handlers, boom] });
});
afterAll(() => fake.stop());

function charge(key: string | null, body: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers['idempotency-key'] = key;
  return outcome(`${fake.url}/v1/charges`, { method: 'POST', headers, body: JSON.stringify(body) });
}

describe('example PSP over a real port', () => {
  it('creates a charge and replays the first response for the same key and body', async () => {
    const first = await charge('order-1', { amount: 1999, currency: 'USD', description: 'order 1' });
    expect(first).toMatchObject({ ok: true, status: 201 });
    if (!first.ok) return;
    const created = JSON.parse(first.body);
    expect(created).toMatchObject({ object: 'charge', amount: 1999, currency: 'usd', status: 'succeeded' });
    expect(created.id).toMatch(/^ch_/);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    // Same parameters in another key order and spacing: the same request.
    const again = await outcome(`${fake.url}/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'order-1' },
      body: '{ "description": "order 1", "currency": "USD", "amount": 1999 }',
    });
    expect(again).toMatchObject({ ok: true, status: 201 });
    if (!again.ok) return;
    expect(JSON.parse(again.body)).toEqual(created);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect([...psp.charges.values()].filter((c) => c.description === 'order 1')).toHaveLength(1);

    const got = await outcome(`${fake.url}/v1/charges/${created.id}`);
    expect(got).toMatchObject({ ok: true, status: 200 });
    if (got.ok) expect(JSON.parse(got.body)).toEqual(created);
  });

  it('answers 409 for the same key with another body, and creates nothing', async () => {
    await charge('order-2', { amount: 500, currency: 'eur' });
    const before = psp.charges.size;
    const conflict = await charge('order-2', { amount: 501, currency: 'eur' });
    expect(conflict).toMatchObject({ ok: true, status: 409 });
    if (conflict.ok) expect(JSON.parse(conflict.body).error.type).toBe('idempotency_error');
    expect(psp.charges.size).toBe(before);
  });

  it('answers 400 without a key, 400 for bad input (not stored), 402 for a decline (stored), 404 for no charge', async () => {
    const noKey = await charge(null, { amount: 100, currency: 'usd' });
    expect(noKey).toMatchObject({ ok: true, status: 400 });
    if (noKey.ok) expect(JSON.parse(noKey.body).error.code).toBe('idempotency_key_missing');

    expect(await charge('order-3', { amount: -1, currency: 'usd' })).toMatchObject({ status: 400 });
    // The failed validation did not store the key: a corrected request with it goes through.
    expect(await charge('order-3', { amount: 1, currency: 'usd' })).toMatchObject({ status: 201 });

    const declined = await charge('order-4', { amount: 100, currency: 'usd', source: 'tok_chargeDeclined' });
    expect(declined).toMatchObject({ status: 402 });
    const replayed = await charge('order-4', { amount: 100, currency: 'usd', source: 'tok_chargeDeclined' });
    expect(replayed).toMatchObject({ status: 402 });
    if (replayed.ok) expect(replayed.headers.get('idempotent-replayed')).toBe('true');

    const missing = await outcome(`${fake.url}/v1/charges/ch_nope`);
    expect(missing).toMatchObject({ ok: true, status: 404 });
    if (missing.ok) expect(JSON.parse(missing.body).error.code).toBe('resource_missing');
  });

  it('concurrent requests with one key create one charge', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => charge('order-race', { amount: 700, currency: 'gbp' })),
    );
    expect(results.map((r) => (r.ok ? r.status : r.name))).toEqual(Array(8).fill(201));
    const ids = new Set(results.map((r) => (r.ok ? JSON.parse(r.body).id : '')));
    expect(ids.size).toBe(1);
    expect(groupByHeader(fake.calls, 'Idempotency-Key').get('order-race')).toHaveLength(8);
  });
});

describe('the generic fake', () => {
  it('records every call in order with method, url, headers and body', async () => {
    const from = fake.calls.length;
    await charge('rec-1', { amount: 42, currency: 'usd' });
    await outcome(`${fake.url}/v1/charges/ch_000001?expand=source`);
    const [post, get] = fake.calls.slice(from);
    expect(post).toMatchObject({ seq: from + 1, method: 'POST', path: '/v1/charges', matched: true });
    expect(post?.headers['idempotency-key']).toBe('rec-1');
    expect(post?.headers['x-sdgrade-fake-request-id']).toBeUndefined();
    expect(jsonBody(post!)).toEqual({ amount: 42, currency: 'usd' });
    expect(get).toMatchObject({ method: 'GET', path: '/v1/charges/ch_000001', body: '' });
    expect(get?.url).toBe(`${fake.url}/v1/charges/ch_000001?expand=source`);
    expect(get!.at).toBeGreaterThanOrEqual(post!.at);
    expect(fake.log.filter({ method: 'post', header: { name: 'Idempotency-Key', value: 'rec-1' } })).toEqual([post]);
    expect(fake.log.filter({ path: /^\/v1\/charges\/ch_/ }).length).toBeGreaterThan(0);
  });

  it('answers an unmatched request 501 with a problem naming the method and path, and records it', async () => {
    const r = await outcome(`${fake.url}/v2/refunds?x=1`, { method: 'PUT', body: 'data' });
    expect(r).toMatchObject({ ok: true, status: 501 });
    if (!r.ok) return;
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(JSON.parse(r.body)).toMatchObject({
      status: 501,
      code: 'fake_unmatched_request',
      detail: 'fake psp has no handler for PUT /v2/refunds',
    });
    const unmatched = fake.log.filter({ matched: false });
    expect(unmatched.at(-1)).toMatchObject({ method: 'PUT', path: '/v2/refunds', body: 'data', matched: false });
    expect(describeCalls(unmatched)).toContain('PUT /v2/refunds (unmatched)');
  });

  it("refuses msw's passthrough marker instead of passing through", async () => {
    const r = await outcome(`${fake.url}/v1/charges/ch_000001`, { headers: { accept: 'msw/passthrough' } });
    expect(r).toMatchObject({ ok: true, status: 501 });
    if (r.ok) expect(r.body).toContain('refuses to pass GET /v1/charges/ch_000001 through');
    expect(fake.calls.at(-1)).toMatchObject({ path: '/v1/charges/ch_000001', matched: false });
  });

  it('turns a throwing handler into a 500 problem, and keeps serving', async () => {
    const r = await outcome(`${fake.url}/boom`);
    expect(r).toMatchObject({ ok: true, status: 500 });
    if (r.ok)
      expect(JSON.parse(r.body)).toMatchObject({
        code: 'fake_handler_error',
        detail: 'psp: handler error: handler bug',
      });
    expect(await outcome(`${fake.url}/v1/charges/ch_000001`)).toMatchObject({ ok: true, status: 200 });
  });

  it('listens on a given port, and stop() closes it (twice is fine)', async () => {
    const port = await freePort();
    const other = await startFakeService({ name: 'other', handlers: [], port });
    expect(other.url).toBe(`http://127.0.0.1:${port}`);
    expect(await outcome(`${other.url}/x`)).toMatchObject({ status: 501 });
    await other.stop();
    await other.stop();
    expect(await outcome(`${other.url}/x`)).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  });

  it('fails clearly when the port is taken', async () => {
    await expect(startFakeService({ name: 'clash', handlers: [], port: fake.port })).rejects.toThrow(
      `fake clash: cannot listen on 127.0.0.1:${fake.port}`,
    );
  });
});
