// MUTANTs cancel-keeps-tonight and cancel-checked-before-transaction (the blind bugs cancel-keeps-tonight and
// cancel-status-read-before-transaction, on demand): the store's cancellation (store.ts cancel) with one thing
// changed, kept beside it so the blind bugs' patches still apply to the store as it is.
import { ProblemError } from '../kit/problem.ts';
import type { InventoryCache } from './cache.ts';
import { dateOf, dayNumber, today } from './dates.ts';
import type { Db, Sql } from './db.ts';
import { cachedOf, readInventory } from './inventory.ts';
import type { Reservation } from './model.ts';
import type { MutantName } from './mutants.ts';
import { type ReservationRow, toReservation } from './reservation-row.ts';

type Cancel = (reservationId: string) => Promise<Reservation>;

/** The mutant's cancellation, or undefined (the store's own) for any other deployment. */
export function cancelVariant(db: Db, cache: InventoryCache, mutant: MutantName | undefined): Cancel | undefined {
  if (mutant !== 'cancel-keeps-tonight' && mutant !== 'cancel-checked-before-transaction') return undefined;
  const lock = db.kind === 'postgres' ? ' FOR UPDATE' : '';
  const read = async (sql: Sql, reservationId: string, clause = '') => {
    const [row] = await sql.all<ReservationRow>(
      `SELECT reservation_id, hotel_id, room_type_id, guest_id, start_date, end_date, room_count, status, total_minor,
              currency, created_at FROM reservation WHERE reservation_id = ? ORDER BY id LIMIT 1${clause}`,
      [reservationId],
    );
    if (!row) throw new ProblemError(404, 'reservation_not_found', `no reservation ${reservationId}`);
    return toReservation(row);
  };
  return async (reservationId) => {
    // cancel-checked-before-transaction: the status read before the transaction, unlocked; copies sent at once all
    // find it confirmed and all give the rooms back.
    const seen = mutant === 'cancel-checked-before-transaction' ? await read(db, reservationId) : undefined;
    if (seen?.status === 'cancelled') return seen;
    const result = await db.tx(async (sql) => {
      const r = seen ?? (await read(sql, reservationId, lock));
      if (r.status === 'cancelled') return { r, rows: [] };
      // cancel-keeps-tonight: only the nights from tomorrow on are given back.
      const from =
        mutant === 'cancel-keeps-tonight' ? Math.max(dayNumber(r.startDate), today() + 1) : dayNumber(r.startDate);
      const [first, last] = [dateOf(from), dateOf(dayNumber(r.endDate) - 1)];
      await readInventory(sql, r, [first, last], lock);
      await sql.run(
        `UPDATE room_type_inventory SET total_reserved = total_reserved - ?, version = version + 1
         WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ?`,
        [r.roomCount, r.hotelId, r.roomTypeId, first, last],
      );
      await sql.run(`UPDATE reservation SET status = 'cancelled' WHERE reservation_id = ?`, [reservationId]);
      return { r: { ...r, status: 'cancelled' as const }, rows: await readInventory(sql, r, [first, last], '') };
    });
    cache.changed({ hotelId: result.r.hotelId, roomTypeId: result.r.roomTypeId, rows: result.rows.map(cachedOf) });
    return result.r;
  };
}
