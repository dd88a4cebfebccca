// MUTANT namespace-emptied-one-page (the blind bug redis-emptied-one-scan-page, on demand): the namespace is emptied
// with one SCAN call (COUNT 1000, no cursor loop), so on a Redis holding more keys than a page visits, part of what a
// killed predecessor left stays. Its own module, so the blind bugs' patches still apply to cache-redis.ts as it is.
import type { Redis } from 'ioredis';

export async function unlinkFirstPage(redis: Redis, namespace: string): Promise<void> {
  const admin = redis.duplicate({ commandTimeout: 10_000 });
  try {
    await admin.connect();
    const [, keys] = await admin.scan('0', 'MATCH', `${namespace}*`, 'COUNT', 1000);
    if (keys.length) await admin.unlink(...keys);
  } finally {
    admin.disconnect();
  }
}

/**
 * MUTANT namespace-flushed (the blind bug redis-emptied-with-flushdb): the namespace is "emptied" with one FLUSHDB
 * ASYNC, as if the Redis database were this service's alone, so every other tenant's keys in it go too.
 */
export async function flushWholeDb(redis: Redis): Promise<void> {
  const admin = redis.duplicate({ commandTimeout: 10_000 });
  try {
    await admin.connect();
    await admin.flushdb('ASYNC');
  } finally {
    admin.disconnect();
  }
}
