// Option 1 of the book, pessimistic locking: lock the nights' rows (one SELECT ... FOR UPDATE), check them, write
// (one UPDATE of the range).
import type { CachedNight, InventoryCache } from './cache.ts';
import type { Sql } from './db.ts';
import { addReserved, cachedOf, type fits, type InventoryRow, readInventory, unavailableRooms } from './inventory.ts';
import type { RoomType } from './model.ts';
import type { MutantName } from './mutants.ts';
import type { RoomTaker } from './room-taker.ts';

/** lock is ' FOR UPDATE' on PostgreSQL, '' on SQLite (whose transaction already holds the one write lock). */
export function pessimisticTaker(
  fitsRule: typeof fits,
  lock: string,
  cache: InventoryCache,
  mutant: MutantName | undefined,
): RoomTaker {
  return {
    readsFirst: false,
    // On PostgreSQL the store locks the nights with its claim (priced-claim.ts), in date order, as below.
    readWithClaim: lock,
    attempts: 1,
    async take(
      sql: Sql,
      rt: RoomType,
      nights: readonly string[],
      n: number,
      locked: CachedNight[] | undefined,
    ): Promise<InventoryRow[]> {
      if (mutant === 'cache-fast-path-booking') {
        // MUTANT cache-fast-path-booking: when the cache shows the rooms free, they are taken without the database's
        // check (the cache's word is taken; only a "no" or a miss goes on to the locked check).
        const cached = await cache.get(rt.hotelId, rt.roomTypeId, nights);
        if (cached.every((c) => c && fitsRule(c.totalReserved, n, c.totalInventory)))
          return addReserved(sql, rt, nights, n);
      }
      // The rows are locked in date order, so overlapping ranges cannot deadlock.
      const rows = locked ?? (await readInventory(sql, rt, nights, lock)).map(cachedOf);
      // MUTANT overbooking-checked-on-cache: the check reads the cache (which lags the database), not the rows.
      const cached =
        mutant === 'overbooking-checked-on-cache' ? await cache.get(rt.hotelId, rt.roomTypeId, nights) : [];
      for (const [i, row] of rows.entries()) {
        const seen = cached[i] ?? row;
        if (!fitsRule(seen.totalReserved, n, seen.totalInventory)) throw unavailableRooms(n);
      }
      return await addReserved(sql, rt, nights, n);
    },
  };
}
