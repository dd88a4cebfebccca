// The HTML downloader's transport: one GET with a short timeout, through the job's resolver (host -> 127.0.0.1:port,
// like curl --resolve) or a DNS cache. Redirects are not followed here: the crawler treats Location as a link.
import { lookup } from 'node:dns/promises';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';

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

export async function fetchUrl(
  url: string,
  o: { userAgent: string; timeoutMs: number; resolve: Record<string, string> | null },
): Promise<FetchResult> {
  const u = new URL(url);
  const to = await address(u.hostname, o.resolve);
  const port = to.port ?? (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);
  const send = u.protocol === 'https:' ? httpsRequest : request;
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
      reject(e);
    });
    req.end();
  });
}
