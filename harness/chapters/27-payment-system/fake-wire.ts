// The chapter's fakes (the PSP, the payout provider) are written once, as functions from a request to an answer,
// and served two ways: as msw handlers (startFakeService: recorded, with the shared fault modes, for the checks),
// and on a plain node:http server for the load run in a process of its own (plainServer), where msw's per-request
// cost (a Fetch Request, Express, handler matching) would be the thing measured instead of the service.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpResponse, http, type RequestHandler } from 'msw';

export interface FakeRequest {
  method: string;
  url: URL;
  header(name: string): string | null;
  /** The body as received. */
  text: string;
}

/** A JSON answer, or `reset`: the connection is cut with nothing written (the answer is lost on the wire). */
export type FakeAnswer = { status: number; json: unknown; headers?: Record<string, string> } | { reset: true };

/** The fake's routes; null when none matches (the server answers 501 naming the method and path). */
export type AnswerFn = (request: FakeRequest) => Promise<FakeAnswer | null>;

export function json(status: number, body: unknown, headers?: Record<string, string>): FakeAnswer {
  return { status, json: body, ...(headers ? { headers } : {}) };
}

/** The fake as one msw handler; an unmatched request falls through to the fake service's own 501. */
export function mswHandlers(answer: AnswerFn): RequestHandler[] {
  return [
    http.all('*', async ({ request }) => {
      const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
      const a = await answer({
        method: request.method,
        url: new URL(request.url),
        header: (n) => request.headers.get(n),
        text,
      });
      if (a === null) return undefined;
      if ('reset' in a) return HttpResponse.error();
      return HttpResponse.json(a.json as Record<string, unknown>, {
        status: a.status,
        ...(a.headers ? { headers: a.headers } : {}),
      });
    }),
  ];
}

export interface PlainServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the fake on node:http, 127.0.0.1 (port 0: any free one). */
export async function plainServer(name: string, answer: AnswerFn, port = 0): Promise<PlainServer> {
  const server: Server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        header: (n) => {
          const v = req.headers[n.toLowerCase()];
          return typeof v === 'string' ? v : null;
        },
        text: Buffer.concat(chunks).toString('utf8'),
      };
      answer(request).then(
        (a) => write(res, req, name, a),
        (err: unknown) => write(res, req, name, json(500, { error: { message: String(err) } })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const p = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function write(res: ServerResponse, req: IncomingMessage, name: string, a: FakeAnswer | null): void {
  if (a === null) {
    a = json(501, { error: { message: `fake ${name} has no handler for ${req.method} ${req.url}` } });
  }
  if ('reset' in a) {
    res.socket?.destroy();
    return;
  }
  const body = JSON.stringify(a.json);
  res.writeHead(a.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...a.headers,
  });
  res.end(body);
}
