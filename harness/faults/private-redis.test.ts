// A real private Redis: started, a key written, killed and started again on the same port, empty (no persistence).
// Skipped with the reason when redis-server is not on the PATH (CI installs the redis-server package).
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { findOnPath } from '../tools/find-on-path.ts';
import { type PrivateRedis, startPrivateRedis } from './private-redis.ts';

const server = await findOnPath('redis-server');
let redis: PrivateRedis | undefined;
afterAll(async () => {
  await redis?.close();
});

describe.skipIf(!server)(`private Redis (${server ?? 'redis-server is not on the PATH'})`, () => {
  it(
    'comes back empty on the same port after a restart, and is gone after close',
    async () => {
      redis = await startPrivateRedis(server!);
      expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+\/0$/);
      const client = new Redis(redis.url, { maxRetriesPerRequest: 50 });
      try {
        await client.set('kept', '42');
        expect(await redis.keyCount()).toBe(1);
        await redis.restart();
        expect(await redis.keyCount()).toBe(0);
        // A client reconnects to it by itself, and finds the key gone.
        expect(await client.get('kept')).toBeNull();
      } finally {
        client.disconnect();
      }
      await redis.close();
      await expect(redis.keyCount()).rejects.toThrow(); // nothing answers on its port any more
    },
    timeLimit(30_000),
  );

  it(
    'puts a snapshot back after a restart, leaving the keys it was told to except alone',
    async () => {
      const r = await startPrivateRedis(server!);
      const client = new Redis(r.url, { maxRetriesPerRequest: 50 });
      try {
        await client.set('mine', 'old', 'PX', 60_000);
        await client.set('other:1', 'theirs');
        expect(await r.snapshot({ except: 'other:' })).toBe(1);
        await client.set('mine', 'new');
        await r.restart();
        await client.set('other:2', 'theirs again');
        expect(await r.rollback()).toBe(1);
        expect(await client.get('mine')).toBe('old');
        expect(await client.pttl('mine')).toBeGreaterThan(0);
        expect(await client.get('other:2')).toBe('theirs again');
        expect(await r.keyCount()).toBe(2);
      } finally {
        client.disconnect();
        await r.close();
      }
    },
    timeLimit(30_000),
  );
});
