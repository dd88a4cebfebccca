// What HR-F7 writes to and reads from its private Redis itself, on connections of its own (never the target's):
// another tenant's keys (a shared Redis), and the cache as the service left it (every key but that tenant's), copied
// with DUMP and put back with RESTORE after Redis was restarted empty.
import { Redis } from 'ioredis';

/** Another tenant's keys in the same Redis: twenty times a SCAN page of COUNT 1000, written 1000 at a time. */
export const OTHER_TENANT_KEYS = 20_000;
const OTHER_TENANT_PREFIX = 'sdgrade-harness:other-tenant:';
const BATCH = 1000;

/** The service's keys as they were: each one's DUMP payload and its time to live (0: none). */
export type CacheImage = ReadonlyMap<string, { value: Buffer; ttlMs: number }>;

async function withClient<T>(url: string, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  c.on('error', () => {});
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

const otherTenantKeys = (from: number) => Array.from({ length: BATCH }, (_, j) => `${OTHER_TENANT_PREFIX}${from + j}`);

/** Writes OTHER_TENANT_KEYS keys no service reads; returns the keys Redis then holds (DBSIZE). */
export function fillAsAnotherTenant(url: string): Promise<number> {
  return withClient(url, async (c) => {
    for (let i = 0; i < OTHER_TENANT_KEYS; i += BATCH) await c.mset(...otherTenantKeys(i).flatMap((k) => [k, 'x']));
    return await c.dbsize();
  });
}

/** How many of the other tenant's keys are still in Redis (EXISTS, BATCH keys a call). */
export function otherTenantKeysLeft(url: string): Promise<number> {
  return withClient(url, async (c) => {
    let left = 0;
    for (let i = 0; i < OTHER_TENANT_KEYS; i += BATCH) left += await c.exists(...otherTenantKeys(i));
    return left;
  });
}

/** Every key but the other tenant's (what the service keeps in this Redis), copied with its time to live. */
export function cacheImage(url: string): Promise<CacheImage> {
  return withClient(url, async (c) => {
    const image = new Map<string, { value: Buffer; ttlMs: number }>();
    for (const key of await c.keys('*')) {
      if (key.startsWith(OTHER_TENANT_PREFIX)) continue;
      const value = await c.dumpBuffer(key);
      if (value) image.set(key, { value, ttlMs: Math.max(0, await c.pttl(key)) });
    }
    return image;
  });
}

/** Writes the image's keys back as they were (RESTORE ... REPLACE). */
export function putBack(url: string, image: CacheImage): Promise<void> {
  return withClient(url, async (c) => {
    for (const [key, { value, ttlMs }] of image) await c.restore(key, ttlMs, value, 'REPLACE');
  });
}
