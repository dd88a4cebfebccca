// Each fault mode as a client really sees it over a real 127.0.0.1 port with global fetch (undici).
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { createExamplePsp, type ExamplePsp } from './example-psp.ts';
import { type FakeService, startFakeService } from './fake-service.ts';
import { createFaultControl } from './fault-modes.ts';
import { outcome } from './test-support.ts';

let psp: ExamplePsp;
let fake: FakeService;
const ping = http.get('*/ping', () => HttpResponse.json({ pong: true }));
const hangUp = http.get('*/hang-up', () => HttpResponse.error());

beforeAll(async () => {
  psp = createExamplePsp();
  fake = await startFakeService({ name: 'psp', handlers: [...psp.handlers, ping, hangUp], seed: 1 });
});
afterEach(() => fake.faults.clear());
afterAll(() => fake.stop());

const pingUrl = () => `${fake.url}/ping`;

function charge(key: string, init: RequestInit = {}) {
  return outcome(`${fake.url}/v1/charges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ amount: 100, currency: 'usd' }),
    ...init,
  });
}

describe('fault modes over a real port', () => {
  it('error5xx: the status (default 503) with a JSON problem body; the handler did not run', async () => {
    fake.faults.set({ mode: 'error5xx' });
    const r = await charge('f-5xx');
    expect(r).toMatchObject({ ok: true, status: 503 });
    if (!r.ok) return;
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(JSON.parse(r.body)).toMatchObject({
      status: 503,
      code: 'fault_injected',
      detail: 'psp: injected 503 on POST /v1/charges',
    });
    expect(psp.idempotency.has('f-5xx')).toBe(false);
    expect(fake.calls.at(-1)).toMatchObject({ fault: 'error5xx', headers: { 'idempotency-key': 'f-5xx' } });

    fake.faults.set({ mode: 'error5xx', status: 502 });
    expect(await outcome(pingUrl())).toMatchObject({ ok: true, status: 502 });
  });

  it('timeout: nothing comes back; the client gives up with its own deadline and the fake lets go', async () => {
    fake.faults.set({ mode: 'timeout' }); // held up to the default 30 s
    const r = await outcome(pingUrl(), { signal: AbortSignal.timeout(300) });
    expect(r).toMatchObject({ ok: false, name: 'TimeoutError' });
    expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(r.ms).toBeLessThan(timeLimit(2_000));
    // The client closed its connection: the fake ends the hold instead of keeping it for 30 s.
    await vi.waitFor(() => expect(fake.faults.holding).toBe(0), { timeout: 2_000 });
  });

  it('timeout: a client without a deadline gets a reset after delayMs (the fake never holds forever)', async () => {
    fake.faults.set({ mode: 'timeout', delayMs: 400 });
    const r = await outcome(pingUrl());
    expect(r).toMatchObject({ ok: false, name: 'TypeError', message: 'fetch failed', code: 'UND_ERR_SOCKET' });
    expect(r.ms).toBeGreaterThanOrEqual(390);
    expect(r.ms).toBeLessThan(timeLimit(2_500));
    expect(fake.faults.holding).toBe(0);
  });

  it('slow: the normal answer, delayMs later', async () => {
    const base = await outcome(pingUrl());
    fake.faults.set({ mode: 'slow', delayMs: 500 });
    const r = await outcome(pingUrl());
    expect(r).toMatchObject({ ok: true, status: 200, body: '{"pong":true}' });
    expect(r.ms).toBeGreaterThanOrEqual(490);
    expect(r.ms - base.ms).toBeLessThan(500 + timeLimit(1_000));
    expect(fake.calls.at(-1)?.fault).toBe('slow');
    // A slow charge is still made (the PSP was slow, not down).
    fake.faults.set({ mode: 'slow', delayMs: 100 });
    expect(await charge('f-slow')).toMatchObject({ status: 201 });
    expect(psp.idempotency.has('f-slow')).toBe(true);
  });

  it('reset: the connection is destroyed with nothing written; fetch fails; the handler did not run', async () => {
    fake.faults.set({ mode: 'reset' });
    const r = await charge('f-reset');
    expect(r).toMatchObject({ ok: false, name: 'TypeError', message: 'fetch failed', code: 'UND_ERR_SOCKET' });
    expect(psp.idempotency.has('f-reset')).toBe(false);
    expect(fake.calls.at(-1)).toMatchObject({ path: '/v1/charges', fault: 'reset' });
    fake.faults.clear();
    expect(await charge('f-reset')).toMatchObject({ ok: true, status: 201 });
    // A handler's own HttpResponse.error() is a reset too (msw's meaning), not a crash of the fake.
    expect(await outcome(`${fake.url}/hang-up`)).toMatchObject({ ok: false, code: 'UND_ERR_SOCKET' });
    expect(await outcome(pingUrl())).toMatchObject({ ok: true, status: 200 });
  });

  it('times: only the next N calls, then normal again', async () => {
    fake.faults.set({ mode: 'error5xx', times: 2 });
    expect(fake.faults.remaining).toBe(2);
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const r = await outcome(pingUrl());
      statuses.push(r.ok ? r.status : r.name);
    }
    expect(statuses).toEqual([503, 503, 200, 200]);
    expect(fake.faults.remaining).toBe(0);
  });

  it('probability: a seeded PRNG, so the same seed replays the same pattern and another seed does not', async () => {
    const pattern = async (seed: number) => {
      const f = await startFakeService({ name: 'p', handlers: [ping], seed });
      try {
        f.faults.set({ mode: 'error5xx', probability: 0.4 });
        const out: number[] = [];
        for (let i = 0; i < 30; i++) {
          const r = await outcome(`${f.url}/ping`);
          out.push(r.ok ? r.status : 0);
        }
        return { out, fired: f.faults.fired.map((x) => x.call) };
      } finally {
        await f.stop();
      }
    };
    const a = await pattern(42);
    const b = await pattern(42);
    const c = await pattern(43);
    expect(a).toEqual(b);
    expect(a.out).toContain(503);
    expect(a.out).toContain(200);
    const hits = a.out.filter((s) => s === 503).length;
    expect(hits).toBeGreaterThan(3);
    expect(hits).toBeLessThan(24);
    expect(c.out).not.toEqual(a.out);
  });

  it('probability with times: each of the next N calls may fault, and the draws replay', () => {
    const run = () => {
      const faults = createFaultControl({ seed: 7 });
      faults.set({ mode: 'reset', probability: 0.5, times: 10 });
      return Array.from({ length: 20 }, (_, i) => faults.decide(new Request(`http://x/${i}`))?.mode ?? '-');
    };
    const first = run();
    expect(first).toEqual(run());
    expect(first.slice(10)).toEqual(Array(10).fill('-'));
    expect(first.slice(0, 10)).toContain('reset');
    expect(first.slice(0, 10)).toContain('-');
  });

  it('decides once per request, and refuses settings out of range', () => {
    const faults = createFaultControl({ seed: 1 });
    faults.set({ mode: 'error5xx', times: 1 });
    const req = new Request('http://x/');
    expect(faults.decide(req)).toEqual({ mode: 'error5xx', status: 503, delayMs: 1_000 });
    expect(faults.decide(req)).toEqual({ mode: 'error5xx', status: 503, delayMs: 1_000 });
    expect(faults.decide(new Request('http://x/'))).toBeNull();
    expect(() => faults.set({ mode: 'error5xx', status: 404 })).toThrow(RangeError);
    expect(() => faults.set({ mode: 'slow', delayMs: -1 })).toThrow(RangeError);
    expect(() => faults.set({ mode: 'reset', probability: 1.5 })).toThrow(RangeError);
    expect(() => faults.set({ mode: 'reset', times: 1.5 })).toThrow(RangeError);
    expect(() => faults.set({ mode: 'nope' as 'reset' })).toThrow(RangeError);
  });

  it('stop() releases held requests at once', async () => {
    const f = await startFakeService({ name: 'held', handlers: [ping] });
    f.faults.set({ mode: 'timeout' });
    const pending = outcome(`${f.url}/ping`);
    await vi.waitFor(() => expect(f.faults.holding).toBe(1));
    const t0 = performance.now();
    await f.stop();
    expect(performance.now() - t0).toBeLessThan(timeLimit(1_000));
    expect(await pending).toMatchObject({ ok: false, code: 'UND_ERR_SOCKET' });
    expect(f.faults.holding).toBe(0);
  });
});
