// Webhooks from the load run's PSP fake (fakes-process.ts): the same CallbackSender the checks' fake uses, in its
// normal mode only (the load run injects no webhook faults), delivered over node:http with keep-alive connections
// instead of fetch. Profiled at 600 checkouts/s, fetch's per-request cost (WHATWG streams, an AbortSignal per call)
// was a fifth of the fake's CPU; the load run's question is the service's capacity, not the fake's.
import { Agent, request } from 'node:http';
import type { CallbackSender, CallbackSenderOptions, SentCallback } from '../../fakes/callbacks.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function createPlainSender(o: CallbackSenderOptions): CallbackSender {
  const sent: SentCallback[] = [];
  const inFlight = new Set<Promise<void>>();
  const target = new URL(o.target);
  const timeoutMs = o.timeoutMs ?? 5_000;
  const deliver = (event: Parameters<CallbackSender['send']>[0]): Promise<void> => {
    const body = JSON.stringify(event);
    const record: SentCallback = {
      seq: sent.length + 1,
      at: Date.now(),
      eventId: event.id,
      type: event.type,
      attempt: 1,
      event,
      status: null,
    };
    sent.push(record);
    const start = performance.now();
    return new Promise<void>((resolve) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          timeout: timeoutMs,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...o.headers?.(event, body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            record.status = res.statusCode ?? null;
            record.durationMs = performance.now() - start;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', (err) => {
        record.error = err.message;
        record.durationMs = performance.now() - start;
        resolve();
      });
      req.end(body);
    });
  };
  return {
    target: o.target,
    settings: { mode: 'normal' },
    setMode(settings) {
      if (settings.mode !== 'normal') throw new RangeError('the load run sends webhooks in normal mode only');
    },
    send(event) {
      const p = deliver(event);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      return p;
    },
    async flush() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    sent,
    dropped: [],
    held: [],
    stop() {},
  };
}
