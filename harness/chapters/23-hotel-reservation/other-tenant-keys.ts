// Another tenant's keys in HR-F7's private Redis (a shared Redis), written and counted on connections of the check's
// own (never the target's). The cache as the service left it is copied and put back by the private Redis itself
// (harness/faults/private-redis.ts: snapshot({ except: OTHER_TENANT_PREFIX }), rollback()).
import { Redis } from 'ioredis';

/** Another tenant's keys in the same Redis: twenty times a SCAN page of COUNT 1000, written 1000 at a time. */
export const OTHER_TENANT_KEYS = 20_000;
export const OTHER_TENANT_PREFIX = 'sdgrade-harness:other-tenant:';
const BATCH = 1000;

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
