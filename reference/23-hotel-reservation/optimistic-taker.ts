// Option 2 of the book, optimistic locking: check the rows read before the transaction, then write each night only
// if its version is still the one read; a changed version rolls the transaction back to be tried again.
import type { CachedNight } from './cache.ts';
import type { Sql } from './db.ts';
import { type fits, unavailableRooms } from './inventory.ts';
import type { RoomType } from './model.ts';
import type { RoomTaker } from './room-taker.ts';

/** Thrown inside a transaction when an optimistic write found a newer version: roll back and try again. */
export class StaleVersion extends Error {}

/** checkVersion false is the book's race (the unlocked mutants): the rows read first are trusted as they were. */
export function optimisticTaker(fitsRule: typeof fits, checkVersion: boolean, attempts: number): RoomTaker {
  return {
    readsFirst: true,
    attempts,
    async take(
      sql: Sql,
      rt: RoomType,
      _nights: readonly string[],
      n: number,
      readFirst: CachedNight[] | undefined,
    ): Promise<void> {
      const seen = readFirst!;
      for (const row of seen) if (!fitsRule(row.totalReserved, n, row.totalInventory)) throw unavailableRooms(n);
      for (const row of seen) {
        const changed = await sql.run(
          `UPDATE room_type_inventory SET total_reserved = total_reserved + ?, version = version + 1
           WHERE hotel_id = ? AND room_type_id = ? AND date = ?${checkVersion ? ' AND version = ?' : ''}`,
          [n, rt.hotelId, rt.roomTypeId, row.date, ...(checkVersion ? [row.version] : [])],
        );
        if (changed !== 1) throw new StaleVersion();
      }
    },
  };
}
