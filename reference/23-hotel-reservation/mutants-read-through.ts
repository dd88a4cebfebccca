// MUTANT read-through-unversioned (the blind bug redis-read-through-overwrites-newer, on demand): a search's
// read-through stores the rows it read from the database with a plain SET (on a connection of its own), not the
// versioned script, so an answer read before a commit that lands after the change stream wrote the newer entry puts
// the old numbers back until the night changes again. Its own module (a mutants-*.ts file, which `sdgrade mutate`
// leaves out of its population), so the blind bugs' patches still apply to cache-redis.ts as it is.
import { Redis } from 'ioredis';
import { cacheKey, type InventoryCache, type InventoryChange } from './cache.ts';
import { dayNumber } from './dates.ts';

export function readThroughUnversioned(
  cache: InventoryCache,
  o: { url: string; namespace: string; withoutRoomType: boolean },
): InventoryCache {
  const key = cacheKey(o.withoutRoomType);
  const redis = new Redis(o.url, { enableOfflineQueue: false, commandTimeout: 250, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  return {
    kind: cache.kind,
    get: (hotelId, roomTypeId, dates) => cache.get(hotelId, roomTypeId, dates),
    async put({ hotelId, roomTypeId, rows }: InventoryChange) {
      if (rows.length === 0 || redis.status !== 'ready') return;
      const m = redis.multi();
      for (const row of rows) {
        const k = o.namespace + key(hotelId, roomTypeId, row.date);
        m.set(k, `${row.version}:${row.totalInventory}:${row.totalReserved}`);
        m.expireat(k, (dayNumber(row.date) + 2) * 86_400);
      }
      await m.exec().catch(() => undefined);
    },
    changed: (change) => cache.changed(change),
    health: () => cache.health(),
    async close() {
      redis.disconnect();
      await cache.close();
    },
  };
}
