// A reservation's nights that the daily job (hotel-admin.ts rollNightsForward, at start and hourly) has not made yet:
// the reservation's transaction finds a row missing, rolls back, has them made here in a transaction of their own,
// and runs again.
import type { Db } from './db.ts';
import { bookableNights, ensureNights, insertNights } from './hotel-admin.ts';
import type { RoomType } from './model.ts';

/** Thrown inside a reservation's transaction when a night has no row yet: roll back, make it, run again. */
export class MissingNights extends Error {}

/**
 * The nights not made yet (or ever, under MUTANT night-made-with-stale-inventory, which makes no night ahead), made
 * with the room type's inventory as it is when the row is made (an ops change may have come since `rt` was read),
 * unless `stale`.
 */
export async function makeNights(db: Db, rt: RoomType, nights: readonly string[], stale: boolean): Promise<void> {
  await ensureNights(db, rt, nights, stale);
}

/**
 * MUTANT nights-made-after-answer: the nights after the first month made once the creation was answered, a month per
 * statement, with the inventory the room type was created with, a moment later (the gap widened, as a busy store
 * would): an inventory change sent right after the creation misses them, and they keep the old total.
 */
export function makeNightsAfterAnswer(db: Db, rt: RoomType): void {
  const nights = bookableNights();
  setTimeout(async () => {
    try {
      for (let i = 31; i < nights.length; i += 31)
        await insertNights(db, rt, rt.totalInventory, nights.slice(i, i + 31));
    } catch (e) {
      console.error(`nights of ${rt.roomTypeId} not all made: ${(e as Error).message}`);
    }
  }, 250).unref();
}
