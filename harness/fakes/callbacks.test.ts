// Webhooks a fake sends back to the system under test, received by a tiny node:http server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { freePort } from '../faults/free-port.ts';
import { type CallbackEvent, createCallbackSender } from './callbacks.ts';
import { createExamplePsp } from './example-psp.ts';
import { startFakeService } from './fake-service.ts';
import { outcome, type Receiver, startReceiver } from './test-support.ts';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.status = 200;
});
afterAll(() => receiver.close());

const events = (n: number, prefix = 'evt'): CallbackEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}_${i + 1}`, type: 'charge.succeeded', data: { n: i + 1 } }));
const receivedIds = () => receiver.received.map((r) => JSON.parse(r.body).id as string);

describe('callback sender', () => {
  it('normal: each event once, in order, as JSON POSTs with the extra headers', async () => {
    const hooks = createCallbackSender({
      target: `${receiver.url}/webhooks/psp`,
      seed: 1,
      headers: (event, body) => ({ 'psp-signature': `t=0,v1=${event.id}:${body.length}` }),
    });
    for (const e of events(3)) await hooks.send(e);
    expect(receivedIds()).toEqual(['evt_1', 'evt_2', 'evt_3']);
    const first = receiver.received[0]!;
    expect(first).toMatchObject({ method: 'POST', path: '/webhooks/psp' });
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['psp-signature']).toBe(`t=0,v1=evt_1:${first.body.length}`);
    expect(hooks.sent.map((s) => [s.seq, s.eventId, s.attempt, s.status])).toEqual([
      [1, 'evt_1', 1, 200],
      [2, 'evt_2', 1, 200],
      [3, 'evt_3', 1, 200],
    ]);
  });

  it('duplicate: each event twice, same id and body', async () => {
    const hooks = createCallbackSender({ target: receiver.url, seed: 1, mode: 'duplicate' });
    for (const e of events(2)) void hooks.send(e);
    await hooks.flush();
    expect(receivedIds().sort()).toEqual(['evt_1', 'evt_1', 'evt_2', 'evt_2']);
    const bodies = receiver.received.filter((r) => JSON.parse(r.body).id === 'evt_1').map((r) => r.body);
    expect(bodies[0]).toBe(bodies[1]);
    expect(hooks.sent.filter((s) => s.eventId === 'evt_2').map((s) => s.attempt)).toEqual([1, 2]);
  });

  it('reorder: holds a batch and sends it shuffled (never in the original order), replayable by seed', async () => {
    const run = async (seed: number) => {
      receiver.received.length = 0;
      const hooks = createCallbackSender({ target: receiver.url, seed, mode: 'reorder', batchSize: 4 });
      const list = events(6);
      for (const e of list.slice(0, 3)) await hooks.send(e);
      expect(receiver.received).toHaveLength(0); // held
      expect(hooks.held).toHaveLength(3);
      await hooks.send(list[3]!); // completes the batch
      await hooks.send(list[4]!);
      await hooks.send(list[5]!);
      await hooks.flush(); // the rest, a partial batch of 2
      return receivedIds();
    };
    const a = await run(5);
    expect(a.slice(0, 4).sort()).toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4']);
    expect(a.slice(0, 4)).not.toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4']);
    expect(a.slice(4)).toEqual(['evt_6', 'evt_5']);
    expect(await run(5)).toEqual(a);
  });

  it('drop: nothing is sent; the events are listed as dropped', async () => {
    const hooks = createCallbackSender({ target: receiver.url, seed: 1, mode: 'drop' });
    for (const e of events(3)) await hooks.send(e);
    await hooks.flush();
    expect(receiver.received).toHaveLength(0);
    expect(hooks.sent).toHaveLength(0);
    expect(hooks.dropped.map((e) => e.id)).toEqual(['evt_1', 'evt_2', 'evt_3']);
  });

  it('delay: each event arrives delayMs later; setMode switches at once', async () => {
    const hooks = createCallbackSender({ target: receiver.url, seed: 1, mode: 'delay', delayMs: 300 });
    const t0 = performance.now();
    void hooks.send({ id: 'late', type: 'charge.succeeded' });
    hooks.setMode({ mode: 'normal' });
    await hooks.send({ id: 'prompt', type: 'charge.succeeded' });
    expect(receivedIds()).toEqual(['prompt']);
    await hooks.flush();
    expect(receivedIds()).toEqual(['prompt', 'late']);
    expect(receiver.received[1]!.at - t0).toBeGreaterThanOrEqual(290);
    expect(receiver.received[1]!.at - t0).toBeLessThan(timeLimit(1_500));
  });

  it("records the receiver's failures: a 500 status, and a refused connection as an error", async () => {
    receiver.status = 500;
    const hooks = createCallbackSender({ target: receiver.url, seed: 1 });
    await hooks.send({ id: 'e1', type: 't' });
    expect(hooks.sent[0]).toMatchObject({ eventId: 'e1', status: 500 });
    const nowhere = createCallbackSender({ target: `http://127.0.0.1:${await freePort()}/hooks`, seed: 1 });
    await nowhere.send({ id: 'e2', type: 't' });
    expect(nowhere.sent[0]).toMatchObject({ eventId: 'e2', status: null });
    expect(nowhere.sent[0]?.error).toContain('ECONNREFUSED');
  });

  it('stop(): delayed and held events are not sent', async () => {
    const hooks = createCallbackSender({ target: receiver.url, seed: 1, mode: 'delay', delayMs: 5_000 });
    const pending = hooks.send({ id: 'never', type: 't' });
    hooks.stop();
    await pending;
    await hooks.flush();
    expect(receiver.received).toHaveLength(0);
  });

  it('the example PSP sends charge.succeeded webhooks through it (here duplicated)', async () => {
    const hooks = createCallbackSender({ target: `${receiver.url}/webhooks/psp`, seed: 9, mode: 'duplicate' });
    const psp = createExamplePsp({ webhooks: hooks });
    const fake = await startFakeService({ name: 'psp', handlers: psp.handlers });
    try {
      const r = await outcome(`${fake.url}/v1/charges`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'wh-1' },
        body: JSON.stringify({ amount: 250, currency: 'usd' }),
      });
      expect(r).toMatchObject({ ok: true, status: 201 });
      const chargeId = r.ok ? JSON.parse(r.body).id : '';
      await hooks.flush();
      const bodies = receiver.received.map((x) => JSON.parse(x.body));
      expect(bodies).toHaveLength(2);
      expect(bodies[0]).toEqual(bodies[1]);
      expect(bodies[0]).toMatchObject({ type: 'charge.succeeded', data: { object: { id: chargeId, amount: 250 } } });
    } finally {
      await fake.stop();
    }
  });
});
