// The ops side of hotels and room types (the book's PUT and DELETE of /v1/hotels/ID and .../rooms/ID): updates and
// deletes, each one transaction that locks the rows a reservation locks, in the same order (the room type, then its
// nights by date), so a reservation, a cancellation and an ops change of the same nights are serialised.
import { ProblemError } from '../kit/problem.ts';
import type { InventoryCache } from './cache.ts';
import { dateOf, dayNumber, HORIZON_DAYS, today } from './dates.ts';
import type { Db, Sql } from './db.ts';
import { cachedOf, type InventoryRow } from './inventory.ts';
import type { Hotel, RoomType } from './model.ts';
import type { MutantName } from './mutants.ts';

export interface RoomTypeUpdate {
  name: string;
  totalInventory: number;
  rateMinor: number;
}

const hotelNotFound = (hotelId: string) => new ProblemError(404, 'hotel_not_found', `no hotel ${hotelId}`);

/** The lock clauses: PostgreSQL locks rows; SQLite's transaction already holds its one write lock. */
export function lockClauses(db: Db): { forUpdate: string; forShare: string } {
  return db.kind === 'postgres'
    ? { forUpdate: ' FOR UPDATE', forShare: ' FOR SHARE' }
    : { forUpdate: '', forShare: '' };
}

/** The nights a reservation can take from today on: today to the last night before the 730-day horizon. */
export function bookableNights(from = today()): string[] {
  const nights: string[] = [];
  for (let d = from; d < today() + HORIZON_DAYS; d++) nights.push(dateOf(d));
  return nights;
}

/** Inserts the nights' rows that do not exist yet, with `total` rooms and nothing reserved (one statement). */
export async function insertNights(
  sql: Sql,
  rt: Pick<RoomType, 'hotelId' | 'roomTypeId'>,
  total: number,
  nights: readonly string[],
): Promise<void> {
  if (nights.length === 0) return;
  await sql.run(
    `INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, total_reserved, version)
     VALUES ${nights.map(() => '(?, ?, ?, ?, 0, 0)').join(', ')} ON CONFLICT (hotel_id, room_type_id, date) DO NOTHING`,
    nights.flatMap((d) => [rt.hotelId, rt.roomTypeId, d, total]),
  );
}

/**
 * Makes the nights' room_type_inventory rows that do not exist yet, with the room type's inventory as it is when the
 * row is made (read under a share lock, so an inventory change in flight is waited for, never copied from before it)
 * and nothing reserved. A room type deleted meanwhile gets no rows: 404.
 */
export async function ensureNights(
  db: Db,
  rt: Pick<RoomType, 'hotelId' | 'roomTypeId' | 'totalInventory'>,
  nights: readonly string[],
  staleInventory = false,
) {
  const { forShare } = lockClauses(db);
  if (staleInventory) {
    // MUTANT night-made-with-stale-inventory: the nights are made with the inventory read before (rt), a moment later
    // (the gap widened, as a slower request would), so an inventory change in between is lost on them.
    await new Promise((ok) => setTimeout(ok, 20));
    await insertNights(db, rt, rt.totalInventory, nights);
    return;
  }
  await db.tx(async (sql) => {
    const [t] = await sql.all<{ total_inventory: number }>(
      `SELECT total_inventory FROM room_type WHERE hotel_id = ? AND room_type_id = ?${forShare}`,
      [rt.hotelId, rt.roomTypeId],
    );
    if (!t) throw roomTypeGone(rt);
    await insertNights(sql, rt, Number(t.total_inventory), nights);
  });
}

/**
 * The book's daily job: every room type's nights made up to the horizon, so a new day's last bookable night exists
 * before a reservation needs it (run at start and hourly; a night it has not made yet is made by the reservation).
 */
export async function rollNightsForward(db: Db): Promise<void> {
  const last = dateOf(today() + HORIZON_DAYS - 1);
  const behind = await db.all<{ hotel_id: string; room_type_id: string; last: string | null }>(
    `SELECT t.hotel_id, t.room_type_id, MAX(i.date) AS last FROM room_type t
     LEFT JOIN room_type_inventory i ON i.hotel_id = t.hotel_id AND i.room_type_id = t.room_type_id
     GROUP BY t.hotel_id, t.room_type_id`,
  );
  for (const b of behind) {
    if (b.last !== null && b.last >= last) continue;
    const from = Math.max(today(), b.last === null ? 0 : dayNumber(b.last) + 1);
    const rt = { hotelId: b.hotel_id, roomTypeId: b.room_type_id, totalInventory: 0 };
    // A room type deleted meanwhile (404) has nothing to roll forward.
    await ensureNights(db, rt, bookableNights(from)).catch((e) => {
      if (!(e instanceof ProblemError && e.status === 404)) throw e;
    });
  }
}

/** The room type a request names is gone (deleted since it was read). */
export function roomTypeGone(rt: Pick<RoomType, 'hotelId' | 'roomTypeId'>): ProblemError {
  return new ProblemError(404, 'room_type_not_found', `hotel ${rt.hotelId} has no room type ${rt.roomTypeId}`);
}

export class HotelAdmin {
  constructor(
    private readonly db: Db,
    private readonly cache: InventoryCache,
    private readonly mutant: MutantName | undefined,
  ) {}

  private get locks() {
    return lockClauses(this.db);
  }

  async updateHotel(hotelId: string, h: Omit<Hotel, 'hotelId'>): Promise<Hotel> {
    const changed = await this.db.run('UPDATE hotel SET name = ?, address = ? WHERE hotel_id = ?', [
      h.name,
      h.address,
      hotelId,
    ]);
    if (changed === 0) throw hotelNotFound(hotelId);
    return { hotelId, name: h.name, address: h.address };
  }

  /**
   * The room type's row locked first, then its nights from today on in date order (as a reservation locks them):
   * refused if a night has more reserved than 110% of the new total; otherwise every such night gets the new total and
   * a new version (an optimistic reservation that read the old one tries again), and the change goes to the cache.
   */
  async updateRoomType(hotelId: string, roomTypeId: string, u: RoomTypeUpdate): Promise<RoomType> {
    const { forUpdate } = this.locks;
    // MUTANT inventory-change-from-tomorrow: tonight is neither checked nor changed.
    const from = dateOf(today() + (this.mutant === 'inventory-change-from-tomorrow' ? 1 : 0));
    if (this.mutant === 'inventory-checked-before-transaction')
      await this.checkBeforeTransaction(hotelId, roomTypeId, u);
    const { rt, rows } = await this.db.tx(async (sql) => {
      const current = await this.lockRoomType(sql, hotelId, roomTypeId);
      const nights = await sql.all<InventoryRow>(
        `SELECT date, total_inventory, total_reserved, version FROM room_type_inventory
         WHERE hotel_id = ? AND room_type_id = ? AND date >= ? ORDER BY date${forUpdate}`,
        [hotelId, roomTypeId, from],
      );
      // MUTANT inventory-below-reserved-accepted: the inventory is lowered whatever the nights have reserved
      // (and MUTANT inventory-checked-before-transaction checked them before the transaction instead).
      const over = nights.filter((n) => this.overLimit(Number(n.total_reserved), u.totalInventory));
      const unchecked = ['inventory-below-reserved-accepted', 'inventory-checked-before-transaction'];
      if (over.length > 0 && !unchecked.includes(this.mutant ?? ''))
        throw new ProblemError(
          409,
          'inventory_below_reserved',
          `${over.length} night(s) from ${over[0]!.date} have more reserved than 110% of ${u.totalInventory} (${over[0]!.total_reserved} on ${over[0]!.date}); cancel reservations first`,
        );
      await sql.run(
        'UPDATE room_type SET name = ?, total_inventory = ?, rate_minor = ? WHERE hotel_id = ? AND room_type_id = ?',
        [u.name, u.totalInventory, u.rateMinor, hotelId, roomTypeId],
      );
      // MUTANT inventory-change-keeps-version: the nights keep their version, so an optimistic reservation that read
      // the old total commits against it.
      const bump = this.mutant === 'inventory-change-keeps-version' ? '' : ', version = version + 1';
      if (nights.length > 0 && Number(current.total_inventory) !== u.totalInventory)
        await sql.run(
          // MUTANT inventory-change-skips-empty-nights: only nights with rooms reserved take the new total.
          `UPDATE room_type_inventory SET total_inventory = ?${bump}
           WHERE hotel_id = ? AND room_type_id = ? AND date >= ?${this.mutant === 'inventory-change-skips-empty-nights' ? ' AND total_reserved > 0' : ''}`,
          [u.totalInventory, hotelId, roomTypeId, from],
        );
      const after = await sql.all<InventoryRow>(
        `SELECT date, total_inventory, total_reserved, version FROM room_type_inventory
         WHERE hotel_id = ? AND room_type_id = ? AND date >= ? ORDER BY date`,
        [hotelId, roomTypeId, from],
      );
      return { rt: { hotelId, roomTypeId, ...u, currency: current.currency }, rows: after };
    });
    // MUTANT inventory-change-not-streamed: the cache never hears of the new totals.
    if (this.mutant !== 'inventory-change-not-streamed')
      this.cache.changed({ hotelId, roomTypeId, rows: rows.map(cachedOf) });
    return rt;
  }

  /** A night with `reserved` rooms is over 110% of `total`: reserved * 10 > total * 11, in integers. */
  private overLimit(reserved: number, total: number): boolean {
    // MUTANT inventory-limit-rounded: 110% in floating point, rounded to the nearest (5 rooms allow 6).
    if (this.mutant === 'inventory-limit-rounded') return reserved > Math.round(total * 1.1);
    // MUTANT inventory-limit-inclusive: a night at exactly 110% counts as over.
    if (this.mutant === 'inventory-limit-inclusive') return reserved * 10 >= total * 11;
    return reserved * 10 > total * 11;
  }

  /**
   * MUTANT inventory-checked-before-transaction: the nights are read and checked before the transaction, unlocked, a
   * moment before it (the gap widened, as a slower request would): a reservation committed in between is not seen.
   */
  private async checkBeforeTransaction(hotelId: string, roomTypeId: string, u: RoomTypeUpdate): Promise<void> {
    const nights = await this.db.all<InventoryRow>(
      `SELECT date, total_reserved FROM room_type_inventory WHERE hotel_id = ? AND room_type_id = ? AND date >= ?`,
      [hotelId, roomTypeId, dateOf(today())],
    );
    if (nights.some((n) => Number(n.total_reserved) * 10 > u.totalInventory * 11))
      throw new ProblemError(
        409,
        'inventory_below_reserved',
        `a night has more reserved than 110% of ${u.totalInventory}`,
      );
    await new Promise((ok) => setTimeout(ok, 20));
  }

  /** Deletes a room type with no confirmed reservation still to come: its row, rates and nights (under their locks). */
  async deleteRoomType(hotelId: string, roomTypeId: string): Promise<void> {
    await this.db.tx(async (sql) => {
      await this.lockRoomType(sql, hotelId, roomTypeId);
      await this.lockNights(sql, 'hotel_id = ? AND room_type_id = ?', [hotelId, roomTypeId]);
      const n = await this.comingReservations(sql, 'hotel_id = ? AND room_type_id = ?', [hotelId, roomTypeId]);
      // MUTANT delete-with-reservations: a room type is deleted under its guests' confirmed reservations.
      if (n > 0 && this.mutant !== 'delete-with-reservations')
        throw new ProblemError(
          409,
          'room_type_has_reservations',
          `room type ${roomTypeId} has ${n} confirmed reservation(s) not over yet; cancel them first`,
        );
      await this.deleteRows(sql, 'hotel_id = ? AND room_type_id = ?', [hotelId, roomTypeId]);
    });
  }

  /** Deletes a hotel with no confirmed reservation still to come, with its room types, their rates and nights. */
  async deleteHotel(hotelId: string): Promise<void> {
    const { forUpdate } = this.locks;
    await this.db.tx(async (sql) => {
      const [h] = await sql.all<{ hotel_id: string }>(`SELECT hotel_id FROM hotel WHERE hotel_id = ?${forUpdate}`, [
        hotelId,
      ]);
      if (!h) throw hotelNotFound(hotelId);
      await sql.all(`SELECT room_type_id FROM room_type WHERE hotel_id = ? ORDER BY room_type_id${forUpdate}`, [
        hotelId,
      ]);
      await this.lockNights(sql, 'hotel_id = ?', [hotelId]);
      const n = await this.comingReservations(sql, 'hotel_id = ?', [hotelId]);
      if (n > 0 && this.mutant !== 'delete-with-reservations')
        throw new ProblemError(
          409,
          'hotel_has_reservations',
          `hotel ${hotelId} has ${n} confirmed reservation(s) not over yet; cancel them first`,
        );
      await this.deleteRows(sql, 'hotel_id = ?', [hotelId]);
      await sql.run('DELETE FROM hotel WHERE hotel_id = ?', [hotelId]);
    });
  }

  private async lockRoomType(sql: Sql, hotelId: string, roomTypeId: string) {
    const [t] = await sql.all<{ total_inventory: number; currency: string }>(
      `SELECT total_inventory, currency FROM room_type WHERE hotel_id = ? AND room_type_id = ?${this.locks.forUpdate}`,
      [hotelId, roomTypeId],
    );
    if (t) return t;
    const [h] = await sql.all('SELECT hotel_id FROM hotel WHERE hotel_id = ?', [hotelId]);
    if (!h) throw hotelNotFound(hotelId);
    throw roomTypeGone({ hotelId, roomTypeId });
  }

  /** Locks the nights (in the order a reservation locks them), so a reservation in flight commits or waits first. */
  private async lockNights(sql: Sql, where: string, params: unknown[]): Promise<void> {
    await sql.all(
      `SELECT room_type_id, date FROM room_type_inventory WHERE ${where} ORDER BY room_type_id, date${this.locks.forUpdate}`,
      params,
    );
  }

  /** Confirmed reservations with a night from today on (the check-out day after today). */
  private async comingReservations(sql: Sql, where: string, params: unknown[]): Promise<number> {
    // MUTANT delete-ignores-stay-under-way: only stays starting after today count, not one under way or starting today.
    const day = this.mutant === 'delete-ignores-stay-under-way' ? 'start_date' : 'end_date';
    const [c] = await sql.all<{ n: number }>(
      `SELECT COUNT(*) AS n FROM reservation WHERE ${where} AND status = 'confirmed' AND ${day} > ?`,
      [...params, dateOf(today())],
    );
    return Number(c?.n ?? 0);
  }

  /** The room types' nights, rates and rows; reservations stay (guests' histories keep them). */
  private async deleteRows(sql: Sql, where: string, params: unknown[]): Promise<void> {
    await sql.run(`DELETE FROM room_type_inventory WHERE ${where}`, params);
    await sql.run(`DELETE FROM room_type_rate WHERE ${where}`, params);
    await sql.run(`DELETE FROM room_type WHERE ${where}`, params);
  }
}
