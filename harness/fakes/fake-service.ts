// Third-party fakes (a PSP, push/SMS/email providers, web pages for a crawler) built from msw handlers, served two
// ways from the same handler list:
//
// - startFakeService: on a real 127.0.0.1 port, through @mswjs/http-middleware, for a system under test that runs
//   in another process (a reference server, or anyone's implementation graded by URL or manifest). Point the system
//   at `url` (e.g. `PSP_URL=${psp.url}` in the manifest env).
// - inProcess: msw's setupServer with onUnhandledRequest 'error', for unit tests of code in the test's own process.
//
// The pattern for a chapter's fake (see example-psp.ts):
//
//   export function pspHandlers(opts: { origin?: string } = {}) {
//     const base = opts.origin ?? '*';            // '*' matches any origin: right for a real port
//     return [http.post(`${base}/v1/charges`, ...), http.get(`${base}/v1/charges/:id`, ...)];
//   }
//   // out of process:
//   const psp = await startFakeService({ name: 'psp', handlers: pspHandlers(), seed });
//   psp.faults.set({ mode: 'error5xx', times: 2 });  ...  psp.calls  ...  await psp.stop();
//   // in process (an origin, because relative paths match nothing in Node):
//   const fake = inProcess(pspHandlers({ origin: 'https://psp.test' }));   // already listening
//   afterAll(() => fake.close());
//
// Every request is recorded (record.ts) before any handler runs; a request no handler matches is answered 501 with
// a problem body naming the method and path (real port) or fails the fetch loudly (in-process), and is recorded
// with `matched: false`. Nothing ever passes through to the real network.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createMswExpressServer } from '@mswjs/http-middleware';
import { http, type RequestHandler } from 'msw';
import { type SetupServer, setupServer } from 'msw/node';
import { createFaultControl, type FaultControl, faultHandler } from './fault-modes.ts';
import { fakeProblem, PROBLEM_CONTENT_TYPE, problemResponse } from './problem.ts';
import { CallLog, type RecordedCall } from './record.ts';

/** Internal: ties a Request built by the middleware back to its socket; removed before handlers see the request. */
const REQUEST_ID_HEADER = 'x-sdgrade-fake-request-id';

export interface FakeServiceOptions {
  /** Named in problem bodies and errors, e.g. 'psp'. */
  name: string;
  handlers: readonly RequestHandler[];
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  /** Seed of the fault PRNG (default 1): pass the run's seed so probabilistic faults replay. */
  seed?: number;
}

export interface FakeService {
  name: string;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  faults: FaultControl;
  /** Every request received, in arrival order (live array). */
  calls: RecordedCall[];
  log: CallLog;
  /** Release held requests, close every connection and the listener. Idempotent. */
  stop(): Promise<void>;
}

// The middleware's typings are CommonJS ones (msw's CJS build, and `express` without @types): the handlers need a
// cast, and the app is typed here by the little this file uses.
type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;
interface ExpressApp extends NodeListener {
  use(handler: (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void): void;
}
const createExpressApp = createMswExpressServer as unknown as (...handlers: RequestHandler[]) => ExpressApp;

export async function startFakeService(options: FakeServiceOptions): Promise<FakeService> {
  const { name } = options;
  const log = new CallLog();
  const faults = createFaultControl({ seed: options.seed ?? 1, name });
  /** Requests in progress by id: aborted when the client goes away before its answer is written. */
  const live = new Map<string, AbortController>();
  const idOf = new WeakMap<Request, string>();

  const front = faultHandler(faults, {
    name,
    onRequest: async (request) => {
      const id = request.headers.get(REQUEST_ID_HEADER);
      if (id !== null) {
        idOf.set(request, id);
        request.headers.delete(REQUEST_ID_HEADER);
      }
      await log.record(request);
    },
    onFault: (request, decision) => {
      const call = log.of(request);
      if (call) call.fault = decision.mode;
    },
    clientGone: (request) => {
      const id = idOf.get(request);
      return id === undefined ? undefined : live.get(id)?.signal;
    },
  });
  const unmatched = http.all('*', ({ request }) => {
    const call = log.of(request);
    if (call) call.matched = false;
    return unmatchedResponse(name, request.method, new URL(request.url).pathname);
  });

  const app = createExpressApp(front, ...options.handlers, unmatched);
  // A handler that throws reaches Express's error path: answer a problem, not Express's HTML page.
  app.use((err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const detail = `${name}: handler error: ${err instanceof Error ? err.message : String(err)}`;
    res.statusCode = 500;
    res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
    res.end(JSON.stringify(fakeProblem(500, 'fake_handler_error', detail)));
  });

  const server = createHttpServer((req, res) => {
    const id = randomUUID();
    const gone = new AbortController();
    live.set(id, gone);
    res.on('close', () => {
      live.delete(id);
      if (!res.writableFinished) gone.abort();
    });
    guardErrorResponse(res);
    // msw skips every handler for `Accept: msw/passthrough` (its bypass marker) and the middleware would fall
    // through to a 404: a fake never passes through, so refuse it here, loudly and on the record.
    if ((req.headers.accept ?? '').includes('msw/passthrough')) {
      refusePassthrough(req, res, name, log);
      return;
    }
    req.headers[REQUEST_ID_HEADER] = id;
    app(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`fake ${name}: cannot listen on 127.0.0.1:${options.port ?? 0}`, { cause: err })),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | null = null;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    calls: log.calls,
    log,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        faults.releaseAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

function unmatchedResponse(name: string, method: string, path: string): Response {
  const detail = `fake ${name} has no handler for ${method} ${path}`;
  return problemResponse(fakeProblem(501, 'fake_unmatched_request', detail), { 'x-sdgrade-fake': name });
}

/**
 * `HttpResponse.error()` (a reset fault, the end of a timeout, or a handler's own) reaches the middleware as status 0,
 * which Node's writeHead rejects with an exception nothing catches (it kills the process). Turn it into what it
 * means on a wire: the connection is destroyed with nothing written.
 */
function guardErrorResponse(res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    const status = typeof args[0] === 'number' ? args[0] : res.statusCode;
    if (status === 0) {
      res.socket?.destroy();
      res.statusCode = 500;
      return writeHead(500);
    }
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
}

function refusePassthrough(req: IncomingMessage, res: ServerResponse, name: string, log: CallLog): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const method = req.method ?? 'GET';
    const body = chunks.length && method !== 'GET' && method !== 'HEAD' ? Buffer.concat(chunks) : null;
    const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`), {
      method,
      headers,
      body,
    });
    void log.record(request).then((call) => {
      call.matched = false;
      const detail = `fake ${name} refuses to pass ${method} ${path} through (Accept: msw/passthrough)`;
      res.statusCode = 501;
      res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
      res.end(JSON.stringify(fakeProblem(501, 'fake_unmatched_request', detail)));
    });
  });
}

export interface InProcessFake {
  /**
   * msw's server, already listening with onUnhandledRequest 'error'. For per-test overrides use `use()` below, not
   * `server.use()`: msw puts those in front of everything, so their calls would be neither recorded nor faulted.
   */
  server: SetupServer;
  /** Per-test handlers, ahead of the fake's own but behind recording and faults; `reset()` removes them. */
  use(...overrides: RequestHandler[]): void;
  reset(): void;
  faults: FaultControl;
  calls: RecordedCall[];
  log: CallLog;
  /** Stops intercepting (server.close()) and releases held requests. */
  close(): void;
}

export interface InProcessOptions {
  name?: string;
  seed?: number;
}

/**
 * The same handlers in-process: every fetch of this process is intercepted; an unmatched one fails the fetch (and
 * msw prints it) instead of reaching the network. Call it in beforeAll, and close() in afterAll. Handlers must use
 * absolute URLs (or '*' origins) here: relative paths match nothing in Node.
 */
export function inProcess(handlers: readonly RequestHandler[], options: InProcessOptions = {}): InProcessFake {
  const name = options.name ?? 'fake';
  const log = new CallLog();
  const faults = createFaultControl({ seed: options.seed ?? 1, name });
  const front = faultHandler(faults, {
    name,
    onRequest: async (request) => {
      await log.record(request);
    },
    onFault: (request, decision) => {
      const call = log.of(request);
      if (call) call.fault = decision.mode;
    },
  });
  const server = setupServer(front, ...handlers);
  server.events.on('request:unhandled', ({ request }) => {
    const call = log.of(request);
    if (call) call.matched = false;
  });
  server.listen({ onUnhandledRequest: 'error' });
  return {
    server,
    use(...overrides) {
      server.resetHandlers(front, ...overrides, ...handlers);
    },
    reset() {
      server.resetHandlers(front, ...handlers);
    },
    faults,
    calls: log.calls,
    log,
    close() {
      faults.releaseAll();
      server.close();
    },
  };
}
