// The same handlers in-process with msw's setupServer (onUnhandledRequest: 'error'): for unit tests of code that
// calls a third party from the test's own process. This file intercepts every fetch of its worker, so it has no
// real-port tests.
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createExamplePsp, type ExamplePsp } from './example-psp.ts';
import { type InProcessFake, inProcess } from './fake-service.ts';
import { outcome } from './test-support.ts';

const PSP = 'https://psp.test';
let psp: ExamplePsp;
let fake: InProcessFake;

beforeAll(() => {
  psp = createExamplePsp({ origin: PSP });
  fake = inProcess(psp.handlers, { name: 'psp', seed: 3 });
});
afterEach(() => {
  fake.faults.clear();
  fake.reset();
  vi.restoreAllMocks();
});
afterAll(() => fake.close());

const charge = (key: string, body: unknown = { amount: 100, currency: 'usd' }) =>
  outcome(`${PSP}/v1/charges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });

describe('in-process fake (setupServer)', () => {
  it('serves the same PSP handlers, idempotency included, and records the calls', async () => {
    const first = await charge('k1');
    expect(first).toMatchObject({ ok: true, status: 201 });
    const again = await charge('k1');
    expect(again).toMatchObject({ ok: true, status: 201 });
    if (first.ok && again.ok) expect(again.body).toBe(first.body);
    expect(await charge('k1', { amount: 101, currency: 'usd' })).toMatchObject({ status: 409 });
    expect(psp.charges.size).toBe(1);
    expect(fake.calls.map((c) => [c.method, c.path, c.headers['idempotency-key']])).toEqual([
      ['POST', '/v1/charges', 'k1'],
      ['POST', '/v1/charges', 'k1'],
      ['POST', '/v1/charges', 'k1'],
    ]);
    expect(fake.calls[2]?.body).toBe('{"amount":101,"currency":"usd"}');
  });

  it('fails an unmatched request loudly (never reaches the network) and records it', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const r = await outcome('https://elsewhere.test/v1/charges');
    expect(r.ok).toBe(false);
    expect(printed.mock.calls.flat().join(' ')).toContain('GET https://elsewhere.test/v1/charges');
    expect(fake.calls.at(-1)).toMatchObject({ url: 'https://elsewhere.test/v1/charges', matched: false });
  });

  it('injects the same faults: 5xx, reset, timeout and slow', async () => {
    fake.faults.set({ mode: 'error5xx', times: 1 });
    expect(await charge('f1')).toMatchObject({ ok: true, status: 503 });
    expect(await charge('f1')).toMatchObject({ ok: true, status: 201 });

    fake.faults.set({ mode: 'reset' });
    expect(await charge('f2')).toMatchObject({ ok: false, name: 'TypeError' });
    expect(psp.idempotency.has('f2')).toBe(false);

    fake.faults.set({ mode: 'timeout' });
    const timedOut = await outcome(`${PSP}/v1/charges/ch_000001`, { signal: AbortSignal.timeout(200) });
    expect(timedOut).toMatchObject({ ok: false, name: 'TimeoutError' });
    await vi.waitFor(() => expect(fake.faults.holding).toBe(0));

    fake.faults.set({ mode: 'slow', delayMs: 200 });
    const slow = await outcome(`${PSP}/v1/charges/ch_000001`);
    expect(slow).toMatchObject({ ok: true, status: 200 });
    expect(slow.ms).toBeGreaterThanOrEqual(190);
  });

  it('use() adds per-test handlers behind recording and faults; reset() removes them', async () => {
    fake.use(http.get(`${PSP}/v1/balance`, () => HttpResponse.json({ available: 0 })));
    expect(await outcome(`${PSP}/v1/balance`)).toMatchObject({ ok: true, status: 200 });
    fake.faults.set({ mode: 'error5xx', status: 500, times: 1 });
    expect(await outcome(`${PSP}/v1/balance`)).toMatchObject({ ok: true, status: 500 });
    expect(fake.calls.at(-1)).toMatchObject({ path: '/v1/balance', fault: 'error5xx' });
    fake.reset();
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await outcome(`${PSP}/v1/balance`)).toMatchObject({ ok: false });
  });
});
