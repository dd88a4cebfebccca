// The container layer on whatever machine runs the tests. Here (no Docker engine, only a `docker` CLI) the
// no-engine tests run and assert the skip and its reason; on a machine with an engine the engine tests run instead.
// Tests that can pass anywhere (caching, the env var first) always run.
import { afterEach, describe, expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { detectContainerRuntime, NO_RUNTIME_ADVICE } from './container-runtime.ts';
import { DEPENDENCY_ENV, describeDependency, resolveDependency, startDependency } from './dependencies.ts';

const started = performance.now();
const runtime = await detectContainerRuntime();
const detectMs = performance.now() - started;
const runtimeAvailable = runtime.available;

describe('detectContainerRuntime', () => {
  it('answers within a few seconds, and the answer is cached for the process', async () => {
    // Bounds on a hang, times SDGRADE_TIME_SCALE; the cache is shown by the same object coming back.
    expect(detectMs).toBeLessThan(timeLimit(5_000));
    const again = await detectContainerRuntime();
    expect(again).toBe(runtime);
  });

  // Runs where there is no container engine (this machine): the reason is the sentence users see.
  it.runIf(!runtimeAvailable)('says why there is no runtime, with testcontainers words and the way out', () => {
    expect(runtime).toEqual({ available: false, reason: expect.any(String) });
    if (runtime.available) return;
    expect(runtime.reason).toMatch(/^no container runtime: /);
    expect(runtime.reason).toContain('Could not find a working container runtime strategy');
    expect(runtime.reason).toContain(NO_RUNTIME_ADVICE);
    expect(runtime.reason).toContain('SDGRADE_DATABASE_URL / SDGRADE_REDIS_URL');
  });
});

describe('startDependency and resolveDependency without an engine', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.values(DEPENDENCY_ENV)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  // Runs where there is no container engine (this machine).
  it.runIf(!runtimeAvailable)(
    'startDependency returns { skipped } with the runtime reason and does not throw',
    async () => {
      if (runtime.available) return;
      const t0 = performance.now();
      expect(await startDependency('redis')).toEqual({ skipped: runtime.reason });
      expect(await startDependency('postgres')).toEqual({ skipped: runtime.reason });
      expect(performance.now() - t0).toBeLessThan(timeLimit(1_000));
    },
  );

  // Runs where there is no container engine (this machine).
  it.runIf(!runtimeAvailable)('resolveDependency falls back to the embedded default with the reason', async () => {
    if (runtime.available) return;
    const resolved = await resolveDependency('redis', {});
    expect(resolved).toEqual({
      kind: 'redis',
      source: 'embedded',
      embedded: `SDGRADE_REDIS_URL is not set and ${runtime.reason}`,
    });
    expect(describeDependency(resolved)).toMatch(
      /^redis: embedded default \(SDGRADE_REDIS_URL is not set and no container/,
    );
  });

  it('resolveDependency prefers the URL variable, whatever the runtime', async () => {
    process.env['SDGRADE_REDIS_URL'] = 'redis://127.0.0.1:56379/0';
    process.env['SDGRADE_DATABASE_URL'] = 'postgres://postgres:secret@127.0.0.1:55432/sdgrade';
    const redis = await resolveDependency('redis');
    expect(redis).toMatchObject({ source: 'env', variable: 'SDGRADE_REDIS_URL', url: 'redis://127.0.0.1:56379/0' });
    const pg = await resolveDependency('postgres');
    expect(pg).toMatchObject({ source: 'env', variable: 'SDGRADE_DATABASE_URL' });
    expect(describeDependency(pg)).toBe(
      'postgres: postgres://postgres:***@127.0.0.1:55432/sdgrade (from SDGRADE_DATABASE_URL)',
    );
    if (pg.source === 'env') await pg.stop(); // not ours: a no-op
  });

  it('treats an empty variable as unset, and a wrong one as an error', async () => {
    const empty = await resolveDependency('postgres', { SDGRADE_DATABASE_URL: '  ' });
    expect(empty.source).toBe(runtimeAvailable ? 'testcontainers' : 'embedded');
    if (empty.source === 'testcontainers') await empty.stop();
    await expect(resolveDependency('postgres', { SDGRADE_DATABASE_URL: 'redis://127.0.0.1:6379' })).rejects.toThrow(
      /SDGRADE_DATABASE_URL must be a postgres: or postgresql:\/\/ URL/,
    );
    await expect(resolveDependency('redis', { SDGRADE_REDIS_URL: 'not a url:secret' })).rejects.toThrow(
      /SDGRADE_REDIS_URL is set but is not a URL/,
    );
  });
});

// These need a real container engine: they run only where detectContainerRuntime() finds one (not on this
// machine), and then start real containers and talk to them.
describe('startDependency with an engine', () => {
  it.runIf(runtimeAvailable)(
    'with a Docker engine (none here: skipped): starts redis:7-alpine and answers PING',
    async () => {
      const { Redis } = await import('ioredis');
      const dep = await startDependency('redis');
      if ('skipped' in dep) throw new Error(dep.skipped);
      try {
        const client = new Redis(dep.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await client.connect();
        expect(await client.ping()).toBe('PONG');
        client.disconnect();
      } finally {
        await dep.stop();
      }
    },
  );

  it.runIf(runtimeAvailable)(
    'with a Docker engine (none here: skipped): starts postgres:16-alpine and answers a query',
    async () => {
      const pg = await import('pg');
      const dep = await startDependency('postgres');
      if ('skipped' in dep) throw new Error(dep.skipped);
      try {
        const client = new pg.default.Client({ connectionString: dep.url });
        await client.connect();
        const { rows } = await client.query('select 1 + 1 as two');
        expect(rows[0]).toEqual({ two: 2 });
        await client.end();
      } finally {
        await dep.stop();
      }
    },
  );
});
