// Caches: the in-process LRU always; Redis against a dead port always; against a real Redis when TEST_REDIS_URL is
// set; and a Redis that is stopped and started again when redis-server is on the PATH.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { timeLimit } from '../../harness/core/time-scale.ts';
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

// What these tests assert is behaviour (fails over, skips, comes back), never speed: a bound on time is only ever
// one that separates "did not wait" from "waited for Redis", with room for a busy machine's scheduling.
/** A command time-out that is not what a test is about: long enough never to fire on a slow machine. */
const PATIENT_MS = timeLimit(5000);

async function until(cond: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await delay(25);
  }
  return cond();
}

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
    const a = new RedisCache({ url, namespace: `${ns}a:`, commandTimeoutMs: PATIENT_MS });
    const b = new RedisCache({ url, namespace: `${ns}b:`, commandTimeoutMs: PATIENT_MS });
    expect(await a.connect(PATIENT_MS)).toBe(true);
    await b.connect(PATIENT_MS);
    expect(await a.get('k1')).toBeUndefined();
    a.set('k1', 'https://example.com/1');
    expect(await until(async () => (await a.get('k1')) !== undefined, PATIENT_MS)).toBe(true);
    expect(await a.get('k1')).toBe('https://example.com/1');
    expect(await b.get('k1')).toBeUndefined(); // another database's code 'k1' is not this one's
    expect(await admin!.ttl(`${ns}a:k1`)).toBeGreaterThan(0);
    expect(a.health()).toBe('up');
    await a.close();
    await b.close();
  });

  it('a slow Redis costs one short timeout, then is skipped, then used again', async () => {
    const log = recordingLog();
    // The 30 ms command time-out is what is tested; the breaker is long enough that a descheduled test process
    // cannot outlive it between two calls, and Redis is paused far longer than a time-out, so "failed while Redis
    // was still paused" separates one short time-out from waiting for Redis.
    const breakerMs = timeLimit(1000);
    const pauseMs = breakerMs + timeLimit(2000);
    const cache = new RedisCache({ url, namespace: ns, log, commandTimeoutMs: 30, breakerMs });
    expect(await cache.connect(PATIENT_MS)).toBe(true);
    await admin!.set(`${ns}slow`, 'https://example.com/slow');
    const redis = (cache as unknown as { redis: Redis }).redis;
    await admin!.client('PAUSE', pauseMs, 'ALL');
    const pausedUntil = performance.now() + pauseMs;
    await expect(cache.get('slow')).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(performance.now()).toBeLessThan(pausedUntil);
    expect(cache.health()).toBe('down');
    // Skipped: no command reaches Redis while the breaker is open.
    const sent = vi.spyOn(redis, 'get');
    for (let i = 0; i < 50; i++) await expect(cache.get('slow')).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(sent).not.toHaveBeenCalled();
    sent.mockRestore();
    // Used again once Redis answers and the breaker has closed (a call in between may trip it once more).
    await delay(Math.max(0, pausedUntil - performance.now()));
    expect(await until(async () => (await cache.get('slow').catch(() => undefined)) !== undefined, PATIENT_MS)).toBe(
      true,
    );
    expect(log.lines.map((l) => l.split(' ')[0])).toEqual(['warn', 'info']);
    await cache.close();
  });

  it('a dropped connection is reconnected', async () => {
    const log = recordingLog();
    const cache = new RedisCache({ url, namespace: ns, log, commandTimeoutMs: PATIENT_MS });
    expect(await cache.connect(PATIENT_MS)).toBe(true);
    const id = await (cache as unknown as { redis: Redis }).redis.client('ID');
    await admin!.client('KILL', 'ID', String(id));
    // Seen as down (the closed connection, or the command on it), then reconnected by itself.
    expect(await until(() => cache.health() === 'down', PATIENT_MS)).toBe(true);
    expect(await until(() => cache.health() === 'up', PATIENT_MS)).toBe(true);
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
    await until(() => probe.status === 'ready', PATIENT_MS);
    probe.disconnect();
  };

  it('keeps redirecting from the database while Redis is down and uses Redis again once it is back', async () => {
    const port = await closedPort();
    await start(port);
    const log = recordingLog();
    const cache = new RedisCache({
      url: `redis://127.0.0.1:${port}`,
      namespace: 'f3:',
      log,
      commandTimeoutMs: PATIENT_MS,
    });
    expect(await cache.connect(PATIENT_MS)).toBe(true);
    const dir = tempDir();
    const store = new SqliteStore({ file: join(dir.path, 'l.sqlite') });
    const shortener = new Shortener({ store, cache, log: silent });
    const { link } = await shortener.shorten('https://example.com/f3');

    const stopped = server!;
    stopped.kill('SIGKILL');
    await new Promise((resolve) => stopped.once('exit', resolve));
    // From the database without waiting on the dead cache: each answer well inside the 1 s a connection attempt
    // would cost.
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      expect(await shortener.follow(link.code)).toBe('https://example.com/f3');
      expect(performance.now() - t0).toBeLessThan(500);
    }
    expect(cache.health()).toBe('down');

    await start(port);
    expect(await until(() => cache.health() === 'up', PATIENT_MS)).toBe(true);
    expect(await shortener.follow(link.code)).toBe('https://example.com/f3');
    // filled again by the read-through
    expect(await until(async () => (await cache.get(link.code)) === 'https://example.com/f3', PATIENT_MS)).toBe(true);
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
