// Option 2 of the book, optimistic locking: check the rows read before the transaction, then write the nights in one
// UPDATE that changes a night only if its version is still the one read; a night it did not change (a newer version)
// rolls the transaction back to be tried again.
import type { CachedNight } from './cache.ts';
import type { Sql } from './db.ts';
import { type fits, type InventoryRow, RETURNING_ROWS, unavailableRooms } from './inventory.ts';
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
    ): Promise<InventoryRow[]> {
      const seen = readFirst!;
      for (const row of seen) if (!fitsRule(row.totalReserved, n, row.totalInventory)) throw unavailableRooms(n);
      // Each night with the version it was read at (the CAST types the parameter for PostgreSQL).
      const guard = checkVersion
        ? `(date, version) IN (VALUES ${seen.map(() => '(?, CAST(? AS integer))').join(', ')})`
        : `date IN (${seen.map(() => '?').join(', ')})`;
      const changed = await sql.all<InventoryRow>(
        `UPDATE room_type_inventory SET total_reserved = total_reserved + ?, version = version + 1
         WHERE hotel_id = ? AND room_type_id = ? AND ${guard} ${RETURNING_ROWS}`,
        [n, rt.hotelId, rt.roomTypeId, ...seen.flatMap((row) => (checkVersion ? [row.date, row.version] : [row.date]))],
      );
      if (changed.length !== seen.length) throw new StaleVersion();
      return changed;
    },
  };
}
