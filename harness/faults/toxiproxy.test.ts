// Real toxiproxy-server, real node:http upstream, all on loopback. Tests never build: CI runs get-tools first,
// and a missing binary fails with "run `npx tsx scripts/get-tools.ts` first".
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withDisabled, withToxic } from '../core/network-faults.ts';
import { timeLimit } from '../core/time-scale.ts';
import { findToxiproxy } from '../tools/toxiproxy.ts';
import { faultProxyOf } from './network-faults-toxiproxy.ts';
import type { ProxyInfo, ToxiproxyClient } from './toxiproxy-client.ts';
import { startToxiproxyServer, type ToxiproxyServer } from './toxiproxy-server.ts';

interface Timed {
  status: number;
  ms: number;
}

// A fresh connection per request (agent: false) so each measurement includes the proxy's handling of one
// request/response, without keep-alive sockets surviving a toxic or a disable.
function timedGet(url: string, timeoutMs = 5_000): Promise<Timed> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
  });
}

async function medianMs(url: string, n = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push((await timedGet(url)).ms);
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)]!;
}

let upstream: Server;
let upstreamAddr: string;
let server: ToxiproxyServer;
let client: ToxiproxyClient;
let proxy: ProxyInfo;
let proxyUrl: string;

beforeAll(async () => {
  const tool = await findToxiproxy({ build: false, onProgress: () => {} });
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamAddr = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  server = await startToxiproxyServer({ binary: tool.path });
  client = server.client;
});

afterAll(async () => {
  await server?.stop();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
});

beforeEach(async () => {
  await client.resetAll();
  const existing = await client.listProxies();
  for (const name of Object.keys(existing)) await client.deleteProxy(name);
  proxy = await client.createProxy({ name: 'upstream', upstream: upstreamAddr });
  proxyUrl = `http://127.0.0.1:${proxy.port}/`;
});

describe('toxiproxy server and client', () => {
  it('runs on loopback and reports the real port for listen 127.0.0.1:0', async () => {
    expect(server.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await client.version()).toMatch(/2\.5\.0|git/);
    expect(proxy.host).toBe('127.0.0.1');
    expect(proxy.port).toBeGreaterThan(0);
    expect(proxy.listen).toBe(`127.0.0.1:${proxy.port}`);
    expect((await timedGet(proxyUrl)).status).toBe(200);
  });

  it('refuses a non-loopback listen address', async () => {
    await expect(client.createProxy({ name: 'open', upstream: upstreamAddr, listen: '0.0.0.0:0' })).rejects.toThrow(
      /not loopback/,
    );
  });

  it('a latency toxic adds about the configured latency', async () => {
    const base = await medianMs(proxyUrl);
    const fp = faultProxyOf(client, await client.getProxy(proxy));
    const withLatency = await withToxic(fp, { type: 'latency', attributes: { latency: 200 } }, () =>
      medianMs(proxyUrl),
    );
    const added = withLatency - base;
    console.log(`toxiproxy latency 200 ms: base ${base.toFixed(1)} ms, with toxic ${withLatency.toFixed(1)} ms`);
    // Every request through the toxic takes its 200 ms (a busy machine only adds to both medians).
    expect(withLatency).toBeGreaterThanOrEqual(195);
    // Not doubled (400 ms would be both directions); the excess over 200 ms scales on a busy machine.
    expect(added - 200).toBeLessThan(timeLimit(200));
    expect(await client.listToxics(proxy)).toEqual([]);
  });

  it('reset_peer makes a request fail', async () => {
    await client.addToxic(proxy, { type: 'reset_peer', attributes: { timeout: 0 } });
    await expect(timedGet(proxyUrl)).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  it('a disabled proxy refuses connections, and works again once enabled', async () => {
    const disabled = await client.setEnabled(proxy, false);
    expect(disabled.enabled).toBe(false);
    await expect(timedGet(proxyUrl)).rejects.toThrow(/ECONNREFUSED/);
    const enabled = await client.setEnabled(proxy, true);
    expect(enabled.port).toBe(proxy.port);
    expect((await timedGet(proxyUrl)).status).toBe(200);
  });

  it('withToxic removes the toxic even when the body throws (the final heal)', async () => {
    await expect(
      withToxic(
        faultProxyOf(client, await client.getProxy(proxy)),
        { type: 'timeout', attributes: { timeout: 100 }, stream: 'upstream' },
        async () => {
          expect((await client.listToxics(proxy)).map((x) => x.name)).toEqual(['timeout_upstream']);
          throw new Error('scenario blew up');
        },
      ),
    ).rejects.toThrow('scenario blew up');
    expect(await client.listToxics(proxy)).toEqual([]);
    expect((await timedGet(proxyUrl)).status).toBe(200);
  });

  it('withProxyDisabled re-enables after a throw', async () => {
    await expect(
      withDisabled(faultProxyOf(client, await client.getProxy(proxy)), async () => {
        await expect(timedGet(proxyUrl)).rejects.toThrow(/ECONNREFUSED/);
        throw new Error('partition scenario failed');
      }),
    ).rejects.toThrow('partition scenario failed');
    expect((await client.getProxy(proxy)).enabled).toBe(true);
    expect((await timedGet(proxyUrl)).status).toBe(200);
  });

  it('accepts every toxic type with stream and toxicity, and removes them', async () => {
    const added = [
      await client.addToxic(proxy, { type: 'latency', attributes: { latency: 10, jitter: 5 }, toxicity: 0.5 }),
      await client.addToxic(proxy, { type: 'bandwidth', attributes: { rate: 1000 }, stream: 'upstream' }),
      await client.addToxic(proxy, { type: 'slow_close', attributes: { delay: 10 } }),
      await client.addToxic(proxy, { type: 'limit_data', attributes: { bytes: 100_000 } }),
      await client.addToxic(proxy, { type: 'slicer', attributes: { average_size: 64, delay: 10 }, name: 'slices' }),
    ];
    expect(added.map((t) => [t.type, t.stream])).toEqual([
      ['latency', 'downstream'],
      ['bandwidth', 'upstream'],
      ['slow_close', 'downstream'],
      ['limit_data', 'downstream'],
      ['slicer', 'downstream'],
    ]);
    expect(added[0]!.toxicity).toBe(0.5);
    expect(added[0]!.attributes).toMatchObject({ latency: 10, jitter: 5 });
    for (const t of added) await client.removeToxic(proxy, t);
    expect(await client.listToxics(proxy)).toEqual([]);
  });

  it('a second server stops cleanly and its process is gone', async () => {
    const other = await startToxiproxyServer({ binary: server.binary });
    expect(await other.client.isUp()).toBe(true);
    await other.stop();
    await other.stop(); // idempotent
    expect(() => process.kill(other.pid, 0)).toThrow();
    expect(await other.client.isUp()).toBe(false);
    expect(other.log()).toMatch(/API HTTP server starting|Starting/i);
  });
});
