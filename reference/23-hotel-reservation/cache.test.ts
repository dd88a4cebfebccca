// The inventory caches: the change stream and the in-process cache always; Redis against a closed port always, and
// against a real Redis when TEST_REDIS_URL is set (scripts/services.sh).
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { timeLimit } from '../../harness/core/time-scale.ts';
import { type CachedNight, ChangeStream, type InventoryChange, MemoryInventoryCache } from './cache.ts';
import { RedisInventoryCache } from './cache-redis.ts';

const TEST_REDIS_URL = process.env['TEST_REDIS_URL'];
/** A command time-out that is not what a test is about: long enough never to fire on a slow machine. */
const PATIENT_MS = timeLimit(5000);

const night = (date: string, version: number, totalReserved: number): CachedNight => ({
  date,
  version,
  totalInventory: 10,
  totalReserved,
});
const change = (...rows: CachedNight[]): InventoryChange => ({ hotelId: 'h1', roomTypeId: 'rt1', rows });

async function until(cond: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await delay(20);
  }
  return cond();
}

describe('change stream', () => {
  it('keeps a batch the cache refused and applies it, in order, once the cache takes it', async () => {
    const applied: InventoryChange[] = [];
    let refuse = true;
    const stream = new ChangeStream(async (batch) => {
      if (refuse) throw new Error('cache away');
      applied.push(...batch);
    });
    stream.push(change(night('2030-01-01', 1, 1)));
    stream.push(change(night('2030-01-01', 2, 2)));
    await delay(100);
    expect(applied).toEqual([]);
    refuse = false;
    expect(await until(() => applied.length === 2, timeLimit(2000))).toBe(true);
    expect(applied.map((c) => c.rows[0]!.version)).toEqual([1, 2]);
    stream.close();
  });
});

describe('in-process cache', () => {
  it('never lets an older version replace a newer one; the room type is part of the key', async () => {
    const cache = new MemoryInventoryCache();
    await cache.put(change(night('2030-01-01', 3, 5)));
    await cache.put(change(night('2030-01-01', 2, 1)));
    expect(await cache.get('h1', 'rt1', ['2030-01-01', '2030-01-02'])).toEqual([night('2030-01-01', 3, 5), undefined]);
    expect(await cache.get('h1', 'rt2', ['2030-01-01'])).toEqual([undefined]);
    cache.changed(change(night('2030-01-01', 4, 6)));
    expect(await until(async () => (await cache.get('h1', 'rt1', ['2030-01-01']))[0]?.version === 4, 2000)).toBe(true);
    expect(cache.health()).toBeUndefined();
    await cache.close();
  });
});

describe('Redis cache with Redis down (a closed port)', () => {
  it('starts, answers every read as a miss (the database answers it), and says it is down', async () => {
    const lines: string[] = [];
    const cache = new RedisInventoryCache({
      url: `redis://127.0.0.1:${await closedPort()}`,
      namespace: 't:',
      withoutRoomType: false,
      log: (m) => lines.push(m),
    });
    await cache.open(500);
    expect(await cache.get('h1', 'rt1', ['2030-01-01'])).toEqual([undefined]);
    await cache.put(change(night('2030-01-01', 1, 1)));
    cache.changed(change(night('2030-01-01', 1, 1)));
    expect(cache.health()).toBe('down');
    expect(lines.filter((l) => /is down/.test(l))).toHaveLength(1);
    await cache.close();
  });
});

describe.runIf(TEST_REDIS_URL)('Redis cache on a real Redis (TEST_REDIS_URL)', () => {
  it(
    'keeps the book key under its namespace, never replaces a newer version, expires past nights, empties its namespace at start',
    async () => {
      const namespace = `sdgrade:23:test-${process.pid}-${Date.now()}:`;
      const raw = new Redis(TEST_REDIS_URL!);
      const open = async () => {
        const c = new RedisInventoryCache({
          url: TEST_REDIS_URL!,
          namespace,
          withoutRoomType: false,
          log: () => {},
          commandTimeoutMs: PATIENT_MS,
        });
        await c.open();
        return c;
      };
      try {
        const cache = await open();
        await cache.put(change(night('2030-01-01', 3, 5)));
        await cache.put(change(night('2030-01-01', 2, 1)));
        expect(await raw.get(`${namespace}h1_rt1_2030-01-01`)).toBe('3:10:5');
        expect(await cache.get('h1', 'rt1', ['2030-01-01', '2030-01-02'])).toEqual([
          night('2030-01-01', 3, 5),
          undefined,
        ]);
        // Expires at the end of the day after the night.
        expect(await raw.call('EXPIRETIME', `${namespace}h1_rt1_2030-01-01`)).toBe(
          Date.parse('2030-01-03T00:00:00Z') / 1000,
        );
        cache.changed(change(night('2030-01-01', 4, 7)));
        expect(await until(async () => (await raw.get(`${namespace}h1_rt1_2030-01-01`)) === '4:10:7', 2000)).toBe(true);
        expect(cache.health()).toBe('up');
        await cache.close();
        // A new start empties the namespace: a crashed predecessor's unapplied changes must not leave it stale.
        const again = await open();
        expect(await raw.keys(`${namespace}*`)).toEqual([]);
        await again.close();
      } finally {
        raw.disconnect();
      }
    },
    timeLimit(20_000),
  );
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}
