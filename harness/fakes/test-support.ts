// Helpers shared by the fakes' tests: a tiny node:http receiver for callbacks, and fetch outcomes as data.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status the receiver answers with (default 200). */
  status: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = { url: '', received, status: 200, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      });
      res.writeHead(receiver.status, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

export type Outcome =
  | { ok: true; status: number; body: string; ms: number; headers: Headers }
  | { ok: false; name: string; message: string; code: string | undefined; ms: number };

/** A fetch whose outcome (response or error) is returned, never thrown, with its duration. */
export async function outcome(url: string, init: RequestInit = {}): Promise<Outcome> {
  const start = performance.now();
  try {
    const res = await fetch(url, init);
    const body = await res.text();
    return { ok: true, status: res.status, body, ms: performance.now() - start, headers: res.headers };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ok: false, name: e.name, message: e.message, code: e.cause?.code, ms: performance.now() - start };
  }
}
