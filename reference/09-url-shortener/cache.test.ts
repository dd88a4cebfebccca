// Caches: the in-process LRU always; Redis against a dead port always; against a real Redis when TEST_REDIS_URL is
// set; and a Redis that is stopped and started again when redis-server is on the PATH.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheUnavailableError, NoCache } from './cache.ts';
import { MemoryCache } from './cache-memory.ts';
import { RedisCache } from './cache-redis.ts';
import { Shortener } from './shortener.ts';
import { SqliteStore } from './store-sqlite.ts';
import { TEST_REDIS_URL, tempDir } from './testing.ts';

function recordingLog() {
  const lines: string[] = [];
  return { lines, warn: (m: string) => lines.push(`warn ${m}`), info: (m: string) => lines.push(`info ${m}`) };
}
const silent = { error: () => undefined };

describe('memory cache', () => {
  it('is a bounded LRU', async () => {
    const cache = new MemoryCache(3);
    for (const code of ['a', 'b', 'c']) cache.set(code, `https://x/${code}`);
    expect(await cache.get('a')).toBe('https://x/a'); // a is now the most recent
    cache.set('d', 'https://x/d'); // evicts b, the least recently used
    expect(cache.size).toBe(3);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe('https://x/a');
    expect(cache.health()).toBe('embedded');
  });
  it('CACHE=none never hits', async () => {
    const cache = new NoCache();
    cache.set();
    expect(await cache.get()).toBeUndefined();
    expect(cache.health()).toBeUndefined();
  });
});

describe('Redis cache with Redis down (a closed port)', () => {
  it('starts, fails fast, falls back to the database and logs the outage once', async () => {
    const log = recordingLog();
    const port = await closedPort();
    const cache = new RedisCache({ url: `redis://127.0.0.1:${port}`, namespace: 't:', log });
    const started = Date.now();
    expect(await cache.connect(500)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(cache.health()).toBe('down');
    await expect(cache.get('abc')).rejects.toBeInstanceOf(CacheUnavailableError);
    cache.set('abc', 'https://x'); // never throws

    const dir = tempDir();
    const store = new SqliteStore({ file: join(dir.path, 'l.sqlite') });
    const shortener = new Shortener({ store, cache, log: silent });
    const { link } = await shortener.shorten('https://example.com/no-redis');
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) expect(await shortener.follow(link.code)).toBe('https://example.com/no-redis');
    expect((performance.now() - t0) / 200).toBeLessThan(5); // ms per redirect: no waiting on the dead cache
    expect(log.lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    await shortener.close();
    dir.remove();
  });

  it('MUTANT cache-required fails the redirect with 503 instead', async () => {
    const cache = new RedisCache({ url: `redis://127.0.0.1:${await closedPort()}`, namespace: 't:' });
    await cache.connect(300);
    const dir = tempDir();
    const store = new SqliteStore({ file: join(dir.path, 'l.sqlite') });
    const shortener = new Shortener({ store, cache, mutant: 'cache-required', log: silent });
    const { link } = await shortener.shorten('https://example.com/x');
    await expect(shortener.follow(link.code)).rejects.toMatchObject({ status: 503, code: 'unavailable' });
    await shortener.close();
    dir.remove();
  });
});

describe.skipIf(!TEST_REDIS_URL)('Redis cache (set TEST_REDIS_URL=redis://... to run)', () => {
  const url = TEST_REDIS_URL!;
  const admin = TEST_REDIS_URL ? new Redis(url, { lazyConnect: true }) : undefined;
  const ns = `sdgrade-test:${Date.now()}:`;
  afterAll(async () => {
    const keys = await admin!.keys(`${ns}*`);
    if (keys.length > 0) await admin!.del(...keys);
    admin!.disconnect();
  });

  it('reads through, namespaced by store instance', async () => {
    const a = new RedisCache({ url, namespace: `${ns}a:` });
    const b = new RedisCache({ url, namespace: `${ns}b:` });
    expect(await a.connect()).toBe(true);
    await b.connect();
    expect(await a.get('k1')).toBeUndefined();
    a.set('k1', 'https://example.com/1');
    await delay(20);
    expect(await a.get('k1')).toBe('https://example.com/1');
    expect(await b.get('k1')).toBeUndefined(); // another database's code 'k1' is not this one's
    expect(await admin!.ttl(`${ns}a:k1`)).toBeGreaterThan(0);
    expect(a.health()).toBe('up');
    await a.close();
    await b.close();
  });

  it('a slow Redis costs one short timeout, then is skipped, then used again', async () => {
    const log = recordingLog();
    const cache = new RedisCache({ url, namespace: ns, log, commandTimeoutMs: 30, breakerMs: 300 });
    await cache.connect();
    cache.set('slow', 'https://example.com/slow');
    await delay(20);
    await admin!.client('PAUSE', 400, 'ALL');
    let t0 = performance.now();
    await expect(cache.get('slow')).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(performance.now() - t0).toBeLessThan(150);
    t0 = performance.now();
    for (let i = 0; i < 50; i++) await expect(cache.get('slow')).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(performance.now() - t0).toBeLessThan(50); // skipped: no waiting at all
    await delay(700);
    expect(await cache.get('slow')).toBe('https://example.com/slow');
    expect(log.lines.map((l) => l.split(' ')[0])).toEqual(['warn', 'info']);
    await cache.close();
  });

  it('a dropped connection is reconnected', async () => {
    const log = recordingLog();
    const cache = new RedisCache({ url, namespace: ns, log });
    await cache.connect();
    const id = await (cache as unknown as { redis: Redis }).redis.client('ID');
    await admin!.client('KILL', 'ID', String(id));
    await delay(20);
    await expect(cache.get('x')).rejects.toBeInstanceOf(CacheUnavailableError);
    for (let i = 0; i < 50 && cache.health() !== 'up'; i++) await delay(50);
    expect(cache.health()).toBe('up');
    expect(await cache.get('nothing-here')).toBeUndefined();
    expect(log.lines.map((l) => l.split(' ')[0])).toEqual(['warn', 'info']);
    await cache.close();
  });
});

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
describe.skipIf(!hasRedisServer)('Redis stopped and started again (needs redis-server on the PATH)', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGKILL');
  });
  const start = async (port: number) => {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50 });
    probe.on('error', () => undefined);
    await probe.connect().catch(() => undefined);
    for (let i = 0; i < 100 && probe.status !== 'ready'; i++) await delay(20);
    probe.disconnect();
  };

  it('keeps redirecting from the database while Redis is down and uses Redis again once it is back', async () => {
    const port = await closedPort();
    await start(port);
    const log = recordingLog();
    const cache = new RedisCache({ url: `redis://127.0.0.1:${port}`, namespace: 'f3:', log });
    expect(await cache.connect()).toBe(true);
    const dir = tempDir();
    const store = new SqliteStore({ file: join(dir.path, 'l.sqlite') });
    const shortener = new Shortener({ store, cache, log: silent });
    const { link } = await shortener.shorten('https://example.com/f3');

    const stopped = server!;
    stopped.kill('SIGKILL');
    await new Promise((resolve) => stopped.once('exit', resolve));
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      expect(await shortener.follow(link.code)).toBe('https://example.com/f3');
      expect(performance.now() - t0).toBeLessThan(100);
    }
    expect(cache.health()).toBe('down');

    await start(port);
    for (let i = 0; i < 60 && cache.health() !== 'up'; i++) await delay(50);
    expect(cache.health()).toBe('up');
    expect(await shortener.follow(link.code)).toBe('https://example.com/f3');
    await delay(20);
    expect(await cache.get(link.code)).toBe('https://example.com/f3'); // filled again by the read-through
    expect(log.lines.map((l) => l.split(' ')[0])).toEqual(['warn', 'info']);
    await shortener.close();
    dir.remove();
  });
});

/** A port nothing listens on (bound then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
