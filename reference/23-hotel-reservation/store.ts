// Hotels, room types, rates and reservations on the relational store, with the book's improved data model
// (room_type_inventory: one row per hotel, room type and night); the rooms of a reservation are taken by the
// CONCURRENCY strategy (room-taker.ts).
import { randomBytes } from 'node:crypto';
import { ProblemError } from '../kit/problem.ts';
import type { CachedNight, InventoryCache } from './cache.ts';
import { dateOf, dayNumber, nightsOf } from './dates.ts';
import { type Db, isCheckViolation, isUniqueViolation, type Sql } from './db.ts';
import { ensureNights, lockClauses, roomTypeGone } from './hotel-admin.ts';
import { availableOf, cachedOf, fits, type InventoryRow, readInventory, unavailableRooms } from './inventory.ts';
import type { Hotel, NewReservation, Night, Reservation, RoomType } from './model.ts';
import type { MutantName } from './mutants.ts';
import { StaleVersion } from './optimistic-taker.ts';
import { type RoomTaker, roomTakerFor, type Strategy } from './room-taker.ts';

interface ReservationRow {
  reservation_id: string;
  hotel_id: string;
  room_type_id: string;
  guest_id: string;
  start_date: string;
  end_date: string;
  room_count: number;
  status: 'confirmed' | 'cancelled';
  total_minor: number;
  currency: string;
  created_at: string;
}

const newId = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex')}`;

const toReservation = (r: ReservationRow): Reservation => ({
  reservationId: r.reservation_id,
  hotelId: r.hotel_id,
  roomTypeId: r.room_type_id,
  roomCount: Number(r.room_count),
  startDate: r.start_date,
  endDate: r.end_date,
  guestId: r.guest_id,
  status: r.status,
  totalMinor: Number(r.total_minor),
  currency: r.currency,
  createdAt: r.created_at,
});

const sameRequest = (a: Reservation, b: NewReservation, ignoreGuest = false) =>
  a.hotelId === b.hotelId &&
  a.roomTypeId === b.roomTypeId &&
  a.roomCount === b.roomCount &&
  a.startDate === b.startDate &&
  a.endDate === b.endDate &&
  (ignoreGuest || a.guestId === b.guestId);

export class HotelStore {
  private readonly taker: RoomTaker;
  private readonly mutant: MutantName | undefined;

  constructor(
    private readonly db: Db,
    readonly strategy: Strategy,
    private readonly cache: InventoryCache,
    mutant: MutantName | undefined,
  ) {
    // MUTANT key-not-rechecked-in-transaction: reserve() looks the reservationId up only before its transaction, as
    // under idempotency-key-not-unique, while the column stays unique (StrykerJS store.ts:281): copies that passed
    // that lookup wait behind the first one's lock and, when it took the last rooms, are refused 409, not 200.
    this.mutant = mutant === 'key-not-rechecked-in-transaction' ? 'idempotency-key-not-unique' : mutant;
    // The store's one lock clause serves the pessimistic read and cancel alike.
    this.taker = roomTakerFor(strategy, this.forUpdate, cache, mutant);
  }

  /** PostgreSQL locks the rows it reads; SQLite's transaction already holds the one write lock (BEGIN IMMEDIATE). */
  private get forUpdate(): string {
    return this.db.kind === 'postgres' ? ' FOR UPDATE' : '';
  }

  async createHotel(h: Omit<Hotel, 'hotelId'>): Promise<Hotel> {
    const hotel = { hotelId: newId('h'), ...h };
    await this.db.run('INSERT INTO hotel (hotel_id, name, address) VALUES (?, ?, ?)', [
      hotel.hotelId,
      hotel.name,
      hotel.address,
    ]);
    return hotel;
  }

  async hotel(hotelId: string): Promise<Hotel> {
    const [h] = await this.db.all<{ name: string; address: string }>(
      'SELECT name, address FROM hotel WHERE hotel_id = ?',
      [hotelId],
    );
    if (!h) throw new ProblemError(404, 'hotel_not_found', `no hotel ${hotelId}`);
    return { hotelId, name: h.name, address: h.address };
  }

  async createRoomType(hotelId: string, t: Omit<RoomType, 'hotelId' | 'roomTypeId'>): Promise<RoomType> {
    const rt = { hotelId, roomTypeId: newId('rt'), ...t };
    // MUTANT room-type-inventory-dropped: the room type is stored (and answered) with no rooms.
    if (this.mutant === 'room-type-inventory-dropped') rt.totalInventory = 0;
    // The hotel is read under a share lock in the same transaction: a hotel being deleted is waited for, then 404.
    await this.db.tx(async (sql) => {
      const [h] = await sql.all(`SELECT hotel_id FROM hotel WHERE hotel_id = ?${lockClauses(this.db).forShare}`, [
        hotelId,
      ]);
      if (!h) throw new ProblemError(404, 'hotel_not_found', `no hotel ${hotelId}`);
      await sql.run(
        'INSERT INTO room_type (hotel_id, room_type_id, name, total_inventory, rate_minor, currency) VALUES (?, ?, ?, ?, ?, ?)',
        [hotelId, rt.roomTypeId, rt.name, rt.totalInventory, rt.rateMinor, rt.currency],
      );
    });
    return rt;
  }

  async roomType(hotelId: string, roomTypeId: string): Promise<RoomType> {
    const [t] = await this.db.all<{ name: string; total_inventory: number; rate_minor: number; currency: string }>(
      'SELECT name, total_inventory, rate_minor, currency FROM room_type WHERE hotel_id = ? AND room_type_id = ?',
      [hotelId, roomTypeId],
    );
    if (!t) {
      await this.hotel(hotelId);
      throw new ProblemError(404, 'room_type_not_found', `hotel ${hotelId} has no room type ${roomTypeId}`);
    }
    return {
      hotelId,
      roomTypeId,
      name: t.name,
      totalInventory: Number(t.total_inventory),
      rateMinor: Number(t.rate_minor),
      currency: t.currency,
    };
  }

  async setRates(hotelId: string, roomTypeId: string, rates: { date: string; rateMinor: number }[]): Promise<number> {
    await this.roomType(hotelId, roomTypeId);
    // The last entry for a date wins, as if each were sent in order.
    const byDate = new Map(rates.map((r) => [r.date, r.rateMinor]));
    await this.db.tx(async (sql) => {
      for (const [date, rate] of byDate)
        await sql.run(
          `INSERT INTO room_type_rate (hotel_id, room_type_id, date, rate_minor) VALUES (?, ?, ?, ?)
           ON CONFLICT (hotel_id, room_type_id, date) DO UPDATE SET rate_minor = excluded.rate_minor`,
          [hotelId, roomTypeId, date, rate],
        );
    });
    return rates.length;
  }

  private async ratesOf(rt: RoomType, nights: readonly string[]): Promise<number[]> {
    const rows = await this.db.all<{ date: string; rate_minor: number }>(
      'SELECT date, rate_minor FROM room_type_rate WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ?',
      [rt.hotelId, rt.roomTypeId, nights[0], nights.at(-1)],
    );
    const set = new Map(rows.map((r) => [r.date, Number(r.rate_minor)]));
    return nights.map((d) => set.get(d) ?? rt.rateMinor);
  }

  /**
   * The book pre-populates room_type_inventory with a daily job; here a night's row is made on first use, with the
   * room type's inventory and nothing reserved (a concurrent maker of the same row wins, the other does nothing).
   */
  private async ensureInventory(rt: RoomType, nights: readonly string[]): Promise<void> {
    // The inventory is the room type's as it is when the row is made (an ops change may have come since rt was read).
    await ensureNights(this.db, rt, nights, this.mutant === 'night-made-with-stale-inventory');
  }

  async availability(hotelId: string, roomTypeId: string, startDate: string, endDate: string): Promise<Night[]> {
    const rt = await this.roomType(hotelId, roomTypeId);
    const nights = nightsOf(startDate, endDate);
    const rates = await this.ratesOf(rt, nights);
    // The cache answers what it has; the rest is read from the database (and cached).
    let cached = await this.cache.get(hotelId, roomTypeId, nights);
    // MUTANT cache-partial-hit-trusted: the database is read only when the cache has none of the nights, so a night
    // missing from a partly cached range shows nothing reserved.
    const partialTrusted = this.mutant === 'cache-partial-hit-trusted';
    if (partialTrusted ? cached.every((c) => c === undefined) : cached.some((c) => c === undefined)) {
      const rows = await readInventory(this.db, rt, nights, '');
      await this.cache.put({ hotelId, roomTypeId, rows: rows.map(cachedOf) });
      const byDate = new Map(rows.map((r) => [r.date, cachedOf(r)]));
      cached = nights.map((d, i) => cached[i] ?? byDate.get(d));
    }
    return nights.map((date, i) => {
      const c = cached[i] ?? { date, totalInventory: rt.totalInventory, totalReserved: 0, version: -1 };
      return {
        date,
        totalInventory: c.totalInventory,
        totalReserved: c.totalReserved,
        available: availableOf(c.totalReserved, c.totalInventory),
        // MUTANT availability-ignores-rates: every night at the default rate.
        rateMinor: this.mutant === 'availability-ignores-rates' ? rt.rateMinor : rates[i]!,
      };
    });
  }

  private async byId(sql: Sql, reservationId: string, lock = ''): Promise<Reservation | undefined> {
    const [r] = await sql.all<ReservationRow>(
      `SELECT reservation_id, hotel_id, room_type_id, guest_id, start_date, end_date, room_count, status, total_minor,
              currency, created_at FROM reservation WHERE reservation_id = ? ORDER BY id LIMIT 1${lock}`,
      [reservationId],
    );
    return r ? toReservation(r) : undefined;
  }

  async reservation(reservationId: string): Promise<Reservation> {
    const r = await this.byId(this.db, reservationId);
    if (!r) throw new ProblemError(404, 'reservation_not_found', `no reservation ${reservationId}`);
    return r;
  }

  async reservationsOf(guestId: string): Promise<Reservation[]> {
    const rows = await this.db.all<ReservationRow>(
      `SELECT reservation_id, hotel_id, room_type_id, guest_id, start_date, end_date, room_count, status, total_minor,
              currency, created_at FROM reservation WHERE guest_id = ? ORDER BY id`,
      [guestId],
    );
    return rows.map(toReservation);
  }

  /** The answer to a reservationId seen before: the same request is a replay (200), another one a 409. */
  private async replay(
    existing: Reservation,
    r: NewReservation,
  ): Promise<{ created: false; reservation: Reservation }> {
    // MUTANT replay-ignores-guest: another guest's request under the same key counts as a replay.
    // MUTANT replay-ignores-hotel: so does one naming another hotel (taken as the first request's hotel).
    const asked = this.mutant === 'replay-ignores-hotel' ? { ...r, hotelId: existing.hotelId } : r;
    if (this.mutant === 'replay-checked-against-today') {
      // MUTANT replay-checked-against-today: the request is checked against today's state before it is answered as a
      // replay (StrykerJS store.ts:251, the lookup before the transaction skipped): the same request for a room type
      // ops deleted since answers 404, and one whose start day has passed 422.
      nightsOf(r.startDate, r.endDate);
      await this.roomType(r.hotelId, r.roomTypeId);
    }
    if (!sameRequest(existing, asked, this.mutant === 'replay-ignores-guest'))
      throw new ProblemError(
        409,
        'idempotency_key_reused',
        `reservation ${r.reservationId} exists with another hotel, room type, count, dates or guest`,
      );
    await this.refeedCache(existing);
    return { created: false, reservation: existing };
  }

  /**
   * Feeds a replayed reservation's nights to the change stream again, as they are now: the first answer may have been
   * lost with the database (committed, then the connection dropped), and its change with it; the client's retry
   * brings the cache back to the truth. Best effort: the versions keep an older read from winning.
   */
  private async refeedCache(r: Reservation): Promise<void> {
    const lastNight = dateOf(dayNumber(r.endDate) - 1);
    try {
      const rows = await readInventory(this.db, r, [r.startDate, lastNight], '');
      this.cache.changed({ hotelId: r.hotelId, roomTypeId: r.roomTypeId, rows: rows.map(cachedOf) });
    } catch {
      // the database went away again: the next change of these nights puts them right
    }
  }

  async reserve(r: NewReservation): Promise<{ created: boolean; reservation: Reservation }> {
    // MUTANT idempotency-key-not-unique: the key is looked up before the transaction and the column is not unique,
    // so two copies sent at once both find nothing and both insert.
    const keyOutsideTx = this.mutant === 'idempotency-key-not-unique';
    const seen = await this.byId(this.db, r.reservationId);
    if (seen) return await this.replay(seen, r);
    const nights = nightsOf(
      r.startDate,
      r.endDate,
      this.mutant === 'date-range-off-by-one',
      this.mutant === 'start-today-refused',
    );
    const rt = await this.roomType(r.hotelId, r.roomTypeId);
    if (this.mutant === 'refused-on-stale-cache') {
      // MUTANT refused-on-stale-cache: a night the cache shows full is refused without asking the database.
      const cached = await this.cache.get(rt.hotelId, rt.roomTypeId, nights);
      if (cached.some((c) => c && !fits(c.totalReserved, r.roomCount, c.totalInventory)))
        throw unavailableRooms(r.roomCount);
    }
    await this.ensureInventory(rt, nights);
    const totalMinor = (await this.ratesOf(rt, nights)).reduce((a, b) => a + b, 0) * r.roomCount;
    const reservation: Reservation = {
      ...r,
      status: 'confirmed',
      totalMinor,
      currency: rt.currency,
      createdAt: new Date().toISOString(),
    };
    const attempts = this.taker.attempts;
    for (let attempt = 1; ; attempt++) {
      // Read before the transaction, without a lock: the optimistic strategy's first step (and the unlocked
      // mutants' whole check).
      const unlocked = this.taker.readsFirst ? await this.unlockedView(rt, nights) : undefined;
      try {
        const transaction = this.db.tx(async (sql) => {
          if (!keyOutsideTx) {
            const existing = await this.byId(sql, r.reservationId);
            if (existing) return existing;
          }
          const rows = await this.take(sql, rt, nights, r.roomCount, unlocked);
          await sql.run(
            `INSERT INTO reservation (reservation_id, hotel_id, room_type_id, guest_id, start_date, end_date, room_count,
               status, total_minor, currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [
              r.reservationId,
              r.hotelId,
              r.roomTypeId,
              r.guestId,
              r.startDate,
              r.endDate,
              r.roomCount,
              'confirmed',
              totalMinor,
              rt.currency,
              reservation.createdAt,
            ],
          );
          return rows;
        });
        if (this.mutant === 'commit-not-awaited') {
          // MUTANT commit-not-awaited: 201 as soon as the transaction is under way; its failure is only logged.
          transaction.then(
            (rows) =>
              Array.isArray(rows) &&
              this.cache.changed({ hotelId: rt.hotelId, roomTypeId: rt.roomTypeId, rows: rows.map(cachedOf) }),
            (e) => console.error(`reservation ${r.reservationId} not committed: ${(e as Error).message}`),
          );
          return { created: true, reservation };
        }
        const rows = await transaction;
        if (!Array.isArray(rows)) return await this.replay(rows, r);
        this.cache.changed({ hotelId: rt.hotelId, roomTypeId: rt.roomTypeId, rows: rows.map(cachedOf) });
        return { created: true, reservation };
      } catch (e) {
        if (e instanceof StaleVersion) {
          if (attempt < attempts) {
            // A short random pause so the writers that collided do not collide again in step.
            await new Promise((ok) => setTimeout(ok, Math.random() * 5 * attempt));
            continue;
          }
          throw new ProblemError(409, 'write_conflict', `still conflicting after ${attempts} optimistic attempts`, {
            headers: { 'retry-after': '0' },
          });
        }
        if (isUniqueViolation(e)) {
          // A concurrent request with this reservationId committed first: answer as a replay of it.
          const existing = await this.byId(this.db, r.reservationId);
          if (existing) return await this.replay(existing, r);
        }
        if (isCheckViolation(e)) throw unavailableRooms(r.roomCount);
        throw e;
      }
    }
  }

  /** Reserves, or answers a replay; a refusal for want of rooms is looked up again first (see madeMeanwhile). */
  async reserveOrReplay(r: NewReservation): Promise<{ created: boolean; reservation: Reservation }> {
    try {
      return await this.reserve(r);
    } catch (e) {
      const made = await this.madeMeanwhile(e, r.reservationId);
      if (made) return await this.replay(made, r);
      throw e;
    }
  }

  /**
   * After a refusal for want of rooms, the reservation this reservationId names if it was made meanwhile. On PostgreSQL
   * (READ COMMITTED) the lookup inside the transaction can run before a concurrent copy of the same request commits,
   * while the rows locked after it already show that copy's rooms: the copy is the same request, so it is a replay.
   */
  private async madeMeanwhile(e: unknown, reservationId: string): Promise<Reservation | undefined> {
    const refused = e instanceof ProblemError && e.code === 'rooms_unavailable';
    // MUTANT refusal-not-rechecked: a refusal is answered 409 without this lookup. (The mutants that look the key up
    // only before the transaction skip it too: key-not-rechecked-in-transaction, idempotency-key-not-unique.)
    if (!refused || this.mutant === 'refusal-not-rechecked' || this.mutant === 'idempotency-key-not-unique') return;
    return await this.byId(this.db, reservationId);
  }

  /** What the unlocked check sees: the rows as read now, outside the transaction. */
  private async unlockedView(rt: RoomType, nights: readonly string[]): Promise<CachedNight[]> {
    return (await readInventory(this.db, rt, nights, '')).map(cachedOf);
  }

  /** Takes roomCount rooms on every night inside the transaction, by the chosen strategy; returns the new rows. */
  private async take(
    sql: Sql,
    rt: RoomType,
    nights: readonly string[],
    n: number,
    unlocked: CachedNight[] | undefined,
  ): Promise<InventoryRow[]> {
    await this.taker.take(sql, rt, nights, n, unlocked);
    const after = await readInventory(sql, rt, nights, '');
    // Rows made before the transaction are gone only if ops deleted the room type since: the transaction rolls back.
    if (after.length !== nights.length) throw roomTypeGone(rt);
    return after;
  }

  async cancel(reservationId: string): Promise<Reservation> {
    if (this.mutant === 'cancel-outside-transaction') return await this.cancelInSteps(reservationId);
    const result = await this.db.tx(async (sql) => {
      const r = await this.byId(sql, reservationId, this.forUpdate);
      if (!r) throw new ProblemError(404, 'reservation_not_found', `no reservation ${reservationId}`);
      // A cancelled reservation gave its rooms back already (MUTANT cancel-restores-twice: it gives them again).
      if (r.status === 'cancelled' && this.mutant !== 'cancel-restores-twice') return { r, rows: [] };
      const start = dayNumber(r.startDate);
      const end = dayNumber(r.endDate) + (this.mutant === 'date-range-off-by-one' ? 1 : 0);
      const first = dateOf(start);
      const last = dateOf(end - 1);
      // The nights' rows locked in date order first, as a reservation locks them, so a cancellation racing
      // reservations on the same nights cannot deadlock with them (an UPDATE alone locks in the table's order).
      await readInventory(sql, r, [first, last], this.forUpdate);
      await sql.run(
        `UPDATE room_type_inventory SET total_reserved = total_reserved - ?, version = version + 1
         WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ?`,
        [r.roomCount, r.hotelId, r.roomTypeId, first, last],
      );
      await sql.run(`UPDATE reservation SET status = 'cancelled' WHERE reservation_id = ?`, [reservationId]);
      const rows = await sql.all<InventoryRow>(
        `SELECT date, total_inventory, total_reserved, version FROM room_type_inventory
         WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ?`,
        [r.hotelId, r.roomTypeId, first, last],
      );
      return { r: { ...r, status: 'cancelled' as const }, rows };
    });
    // MUTANT cancel-not-streamed: the change stream never hears of a cancellation, so the cache keeps its rooms taken.
    if (this.mutant !== 'cancel-not-streamed')
      this.cache.changed({
        hotelId: result.r.hotelId,
        roomTypeId: result.r.roomTypeId,
        rows: result.rows.map(cachedOf),
      });
    return result.r;
  }

  /**
   * MUTANT cancel-outside-transaction: the status is turned to cancelled on its own, and the rooms are given back in a
   * second step a moment later (as a queue consumer would); a database lost in between keeps them taken for good (a
   * retry finds the reservation cancelled and gives nothing back).
   */
  private async cancelInSteps(reservationId: string): Promise<Reservation> {
    const turned = await this.db.run(
      `UPDATE reservation SET status = 'cancelled' WHERE reservation_id = ? AND status = 'confirmed'`,
      [reservationId],
    );
    const r = await this.reservation(reservationId);
    if (turned === 0) return r;
    await new Promise((ok) => setTimeout(ok, 200));
    const [first, last] = [r.startDate, dateOf(dayNumber(r.endDate) - 1)];
    await this.db.run(
      `UPDATE room_type_inventory SET total_reserved = total_reserved - ?, version = version + 1
       WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ?`,
      [r.roomCount, r.hotelId, r.roomTypeId, first, last],
    );
    const rows = await readInventory(this.db, r, [first, last], '');
    this.cache.changed({ hotelId: r.hotelId, roomTypeId: r.roomTypeId, rows: rows.map(cachedOf) });
    return r;
  }
}
