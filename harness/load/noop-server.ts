// The yardstick: the fastest reasonable Node HTTP server. Its throughput, measured in the same run as an
// implementation's, is the ceiling the implementation is compared to (bare req/s numbers vary 15-25% run to run
// on a 2-core machine; ratios against this do not).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface NoopServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  stop(): Promise<void>;
}

// Prebuilt once: the handler does no allocation beyond what node:http itself needs.
const BODY = Buffer.from('{"ok":true}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

function handle(req: IncomingMessage, res: ServerResponse): void {
  // Drain any request body so keep-alive connections stay usable, then answer at once.
  req.resume();
  res.writeHead(200, HEADERS);
  res.end(BODY);
}

/** Starts the no-op server on 127.0.0.1 (port 0 = any free port). */
export function startNoopServer(opts: { port?: number } = {}): Promise<NoopServer> {
  const server = createServer({ keepAliveTimeout: 65_000 }, handle);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        stop: () =>
          new Promise<void>((res, rej) => {
            // closeAllConnections: load generators leave keep-alive sockets open, which would hold close() forever.
            server.close((err) => (err ? rej(err) : res()));
            server.closeAllConnections();
          }),
      });
    });
  });
}

// Runnable as a script: `tsx harness/load/noop-server.ts --port N` prints its URL and serves until killed.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${values.port}`);
    process.exit(2);
  }
  const srv = await startNoopServer({ port });
  console.log(srv.url);
  const shutdown = () => {
    srv.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
