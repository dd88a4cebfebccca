// PostgreSQL: a reservation's first statement, doing in one round trip what were three (or four) of its own: the
// room type read, the stay priced by its nightly rates, the reservationId claimed (INSERT ... ON CONFLICT DO NOTHING),
// and for pessimistic locking the nights read with their row locks, in date order, only once the claim is made. A
// reservation is then BEGIN, this, the strategy's one UPDATE and COMMIT: on a shared database server each statement's
// round trip (a turn of the client's and the server's process) cost more than its work. SQLite has no round trips
// (one connection in process): it keeps the statements one by one (store.ts).
import type { CachedNight } from './cache.ts';
import type { Sql } from './db.ts';
import { cachedOf, type InventoryRow } from './inventory.ts';
import type { NewReservation, Reservation, RoomType } from './model.ts';

export interface PricedClaim {
  rt: RoomType;
  reservation: Reservation;
  /** false: the reservationId is another transaction's (committed: the INSERT waited for it); nothing was locked. */
  claimed: boolean;
  /** The nights as read after the claim, with `lock` (undefined when not asked for, or not claimed). */
  read: CachedNight[] | undefined;
}

interface Row {
  name: string;
  total_inventory: number;
  rate_minor: number;
  currency: string;
  total_minor: number;
  claimed: boolean;
  nights: InventoryRow[] | null;
}

/**
 * Runs the statement; undefined when the room type (or its hotel) does not exist (nothing claimed). `lock` is the
 * nights' read to add after the claim (' FOR UPDATE', or '' for a read without locks), undefined for none. The total
 * is every night's rate (room_type_rate, else the room type's default) times the rooms, as store.ts prices it.
 */
export async function pricedClaim(
  sql: Sql,
  r: NewReservation,
  nights: readonly string[],
  createdAt: string,
  lock: string | undefined,
): Promise<PricedClaim | undefined> {
  const [first, last] = [nights[0], nights.at(-1)];
  // The nights' read is gated on the claim (EXISTS over its RETURNING): PostgreSQL runs the INSERT first, so a copy of
  // the request waits on the key, never on the first copy's row locks. FOR UPDATE in a CTE locks in its ORDER BY.
  const readClause =
    lock === undefined
      ? ''
      : `, n AS MATERIALIZED (SELECT date, total_inventory, total_reserved, version FROM room_type_inventory
           WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ? AND EXISTS (SELECT 1 FROM c)
           ORDER BY date${lock})`;
  const [row] = await sql.all<Row>(
    `WITH t AS (
       SELECT name, total_inventory, rate_minor, currency,
         CAST((rate_minor * ? + COALESCE((SELECT SUM(r.rate_minor - room_type.rate_minor) FROM room_type_rate r
           WHERE r.hotel_id = room_type.hotel_id AND r.room_type_id = room_type.room_type_id
             AND r.date >= ? AND r.date <= ?), 0)) * ? AS bigint) AS total_minor
       FROM room_type WHERE hotel_id = ? AND room_type_id = ?),
     c AS (
       INSERT INTO reservation (reservation_id, hotel_id, room_type_id, guest_id, start_date, end_date, room_count,
         status, total_minor, currency, created_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, 'confirmed', total_minor, currency, ? FROM t
       ON CONFLICT DO NOTHING RETURNING 1)${readClause}
     SELECT t.*, EXISTS (SELECT 1 FROM c) AS claimed
       ${lock === undefined ? '' : ', (SELECT json_agg(n ORDER BY n.date) FROM n) AS nights'} FROM t`,
    [
      nights.length,
      first,
      last,
      r.roomCount,
      r.hotelId,
      r.roomTypeId,
      r.reservationId,
      r.hotelId,
      r.roomTypeId,
      r.guestId,
      r.startDate,
      r.endDate,
      r.roomCount,
      createdAt,
      ...(lock === undefined ? [] : [r.hotelId, r.roomTypeId, first, last]),
    ],
  );
  if (!row) return undefined;
  const rt: RoomType = {
    hotelId: r.hotelId,
    roomTypeId: r.roomTypeId,
    name: row.name,
    totalInventory: Number(row.total_inventory),
    rateMinor: Number(row.rate_minor),
    currency: row.currency,
  };
  const reservation: Reservation = {
    ...r,
    status: 'confirmed',
    totalMinor: Number(row.total_minor),
    currency: row.currency,
    createdAt,
  };
  const read = lock === undefined || !row.claimed ? undefined : (row.nights ?? []).map(cachedOf);
  return { rt, reservation, claimed: row.claimed, read };
}
