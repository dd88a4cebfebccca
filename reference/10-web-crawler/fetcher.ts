// The HTML downloader's transport: one GET with a short timeout, through the job's resolver (host -> 127.0.0.1:port,
// like curl --resolve) or a DNS cache. Redirects are not followed here: the crawler treats Location as a link.
import { lookup } from 'node:dns/promises';
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { performance } from 'node:perf_hooks';

export interface FetchResult {
  status: number;
  contentType: string | null;
  location: string | null;
  /** The bytes as served (not decoded: a page may hold a NUL byte or invalid UTF-8, and its hash is of its bytes). */
  body: Buffer;
}

/** Largest body read; the rest is dropped (a crawler must not be made to read an endless response). */
const MAX_BODY = 2 * 1024 * 1024;

/** host -> address; a crawl asks the same hosts over and over (the book's DNS resolver bottleneck). */
const dnsCache = new Map<string, Promise<string>>();

function address(host: string, resolve: Record<string, string> | null): Promise<{ ip: string; port: number | null }> {
  if (resolve) {
    const to = resolve[host];
    if (!to) return Promise.reject(new Error(`host ${host} is not in the job's resolve map`));
    const [ip, port] = to.split(':');
    return Promise.resolve({ ip: ip!, port: Number(port) });
  }
  let ip = dnsCache.get(host);
  if (!ip) {
    ip = lookup(host).then((r) => r.address);
    ip.catch(() => dnsCache.delete(host));
    dnsCache.set(host, ip);
  }
  return ip.then((a) => ({ ip: a, port: null }));
}

/**
 * Connections are kept alive between a host's requests (one in flight per host, so one connection each), instead of a
 * new one per page: the connect was the crawler's largest single cost. An idle one is closed after IDLE_MS, before
 * servers commonly close theirs (Node's 5 s), so a request seldom meets a connection its server has just closed.
 */
const IDLE_MS = 2000;
const pools = {
  http: new Agent({ keepAlive: true, timeout: IDLE_MS }),
  https: new HttpsAgent({ keepAlive: true, timeout: IDLE_MS }),
};
type Send = (o: RequestOptions, answered: (res: IncomingMessage) => void) => ClientRequest;
/** A request through the pool (it takes the place of the `agent: false` a request's options give). */
const pooled: Record<'http' | 'https', Send> = {
  http: (o, answered) => request({ ...o, agent: pools.http }, answered),
  https: (o, answered) => httpsRequest({ ...o, agent: pools.https }, answered),
};

/** A kept-alive connection that the server closed while it was idle: the request failed unsent, before any answer. */
class StaleConnection extends Error {}

type FetchOptions = { userAgent: string; timeoutMs: number; resolve: Record<string, string> | null };

export async function fetchUrl(url: string, o: FetchOptions): Promise<FetchResult> {
  const deadline = performance.now() + o.timeoutMs;
  try {
    return await fetchOnce(url, o);
  } catch (e) {
    if (!(e instanceof StaleConnection)) throw e;
    // Never sent (the server had closed the connection), so asked once more, on a new connection, within the bound.
    return fetchOnce(url, { ...o, timeoutMs: Math.max(1, Math.round(deadline - performance.now())) });
  }
}

async function fetchOnce(url: string, o: FetchOptions): Promise<FetchResult> {
  const u = new URL(url);
  const to = await address(u.hostname, o.resolve);
  const port = to.port ?? (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);
  const send = u.protocol === 'https:' ? pooled.https : pooled.http;
  return new Promise<FetchResult>((resolve, reject) => {
    const req = send(
      {
        host: to.ip,
        port,
        method: 'GET',
        path: `${u.pathname}${u.search}`,
        servername: u.hostname,
        headers: { host: u.host, 'user-agent': o.userAgent, accept: 'text/html,*/*;q=0.1' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_BODY) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? null,
            location: typeof res.headers.location === 'string' ? res.headers.location : null,
            body: Buffer.concat(chunks),
          });
        });
        res.on('error', reject);
      },
    );
    // The whole fetch, connect to last byte, is bounded: a hanging host costs one page.
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      const reset = (e as NodeJS.ErrnoException).code === 'ECONNRESET';
      reject(req.reusedSocket && reset && !(req as { res?: unknown }).res ? new StaleConnection(e.message) : e);
    });
    req.end();
  });
}
