// A TCP proxy that holds every reply from its upstream for a fixed time before passing it on (the client's bytes go
// through at once), in order: a slow dependency that still answers, e.g. a cache on a far or busy host. Used where a
// check needs a dependency's commands to be in flight for a while (chapter 23's HR-F6: the change stream's writes to
// Redis). Toxiproxy's latency toxic does the same, but needs its binary; this needs nothing.
//
//   const proxy = await startDelayProxy('redis://127.0.0.1:6379/0', 60);
//   target.useDependency('redis', proxy.url);  ...  proxy.delayMs = 0;  ...  await proxy.close();
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

export interface DelayProxy {
  /** The upstream URL with its host and port replaced by the proxy's. */
  readonly url: string;
  readonly port: number;
  /** How long each reply is held, from when it arrives; may be changed at any time (0: passed at once). */
  delayMs: number;
  /** Replies held so far. */
  readonly held: number;
  close(): Promise<void>;
}

export async function startDelayProxy(upstreamUrl: string, delayMs: number): Promise<DelayProxy> {
  const up = new URL(upstreamUrl);
  const upHost = up.hostname || '127.0.0.1';
  const upPort = Number(up.port);
  const open = new Set<Socket>();
  let held = 0;
  const proxy = {
    delayMs,
    get held() {
      return held;
    },
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: upHost, port: upPort });
    open.add(client);
    open.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (b) => upstream.write(b));
    // Each chunk is released at its arrival plus the delay, never before an earlier one (order kept).
    let releaseAt = 0;
    upstream.on('data', (b) => {
      held++;
      releaseAt = Math.max(releaseAt, Date.now() + proxy.delayMs);
      const wait = releaseAt - Date.now();
      if (wait <= 0) client.write(b);
      else setTimeout(() => client.destroyed || client.write(b), wait);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return Object.assign(proxy, {
    url: url.toString(),
    port,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
