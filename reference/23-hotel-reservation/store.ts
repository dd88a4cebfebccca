// Hotels, room types, rates and reservations on the relational store, with the book's improved data model
// (room_type_inventory: one row per hotel, room type and night); the rooms of a reservation are taken by the
// CONCURRENCY strategy (room-taker.ts).
import { randomBytes } from 'node:crypto';
import { ProblemError } from '../kit/problem.ts';
import type { CachedNight, InventoryCache } from './cache.ts';
import { OutsideClaims } from './claim-outside.ts';
import { dateOf, dayNumber, nightsOf } from './dates.ts';
import { type Db, isCheckViolation, isUniqueViolation, type Sql } from './db.ts';
import { bookableNights, insertNights, lockClauses, roomTypeGone } from './hotel-admin.ts';
import { availableOf, cachedOf, fits, type InventoryRow, readInventory, unavailableRooms } from './inventory.ts';
import type { Hotel, NewReservation, Night, Reservation, RoomType } from './model.ts';
import type { MutantName } from './mutants.ts';
import { MissingNights, makeNights, makeNightsAfterAnswer } from './nights-ahead.ts';
import { StaleVersion } from './optimistic-taker.ts';
import { type PricedClaim, pricedClaim } from './priced-claim.ts';
import { type ReservationRow, toReservation } from './reservation-row.ts';
import { type RoomTaker, roomTakerFor, type Strategy } from './room-taker.ts';

const newId = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex')}`;

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
  private readonly outside: OutsideClaims;

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
    this.outside = new OutsideClaims(db, mutant === 'key-claimed-outside-transaction');
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

  async hotel(hotelId: string, sql: Sql = this.db): Promise<Hotel> {
    const [h] = await sql.all<{ name: string; address: string }>('SELECT name, address FROM hotel WHERE hotel_id = ?', [
      hotelId,
    ]);
    if (!h) throw new ProblemError(404, 'hotel_not_found', `no hotel ${hotelId}`);
    return { hotelId, name: h.name, address: h.address };
  }

  async createRoomType(hotelId: string, t: Omit<RoomType, 'hotelId' | 'roomTypeId'>): Promise<RoomType> {
    const rt = { hotelId, roomTypeId: newId('rt'), ...t };
    // MUTANT room-type-inventory-dropped: the room type is stored (and answered) with no rooms.
    if (this.mutant === 'room-type-inventory-dropped') rt.totalInventory = 0;
    // The hotel is read under a share lock in the same transaction: a hotel being deleted is waited for, then 404.
    // The nights are made with the room type, up to the horizon (the book's daily job makes them from then on).
    await this.db.tx(async (sql) => {
      const [h] = await sql.all(`SELECT hotel_id FROM hotel WHERE hotel_id = ?${lockClauses(this.db).forShare}`, [
        hotelId,
      ]);
      if (!h) throw new ProblemError(404, 'hotel_not_found', `no hotel ${hotelId}`);
      await sql.run(
        'INSERT INTO room_type (hotel_id, room_type_id, name, total_inventory, rate_minor, currency) VALUES (?, ?, ?, ?, ?, ?)',
        [hotelId, rt.roomTypeId, rt.name, rt.totalInventory, rt.rateMinor, rt.currency],
      );
      // MUTANT night-made-with-stale-inventory: no night is made ahead, so every reservation makes its own (as it does
      // for a night the daily job has not made yet), where the mutant's stale inventory lands.
      // MUTANT nights-made-after-answer (the blind bug nights-made-after-answer-with-old-inventory): a month now, the
      // rest after the answer with the inventory it was made with (nights-ahead.ts).
      const later = this.mutant === 'nights-made-after-answer';
      if (this.mutant !== 'night-made-with-stale-inventory')
        await insertNights(sql, rt, rt.totalInventory, later ? bookableNights().slice(0, 31) : bookableNights());
    });
    if (this.mutant === 'nights-made-after-answer') makeNightsAfterAnswer(this.db, rt);
    return rt;
  }

  /** sql is the transaction's when read inside one (where this.db must not be used: SQLite's turn is taken). */
  async roomType(hotelId: string, roomTypeId: string, sql: Sql = this.db): Promise<RoomType> {
    const [t] = await sql.all<{ name: string; total_inventory: number; rate_minor: number; currency: string }>(
      'SELECT name, total_inventory, rate_minor, currency FROM room_type WHERE hotel_id = ? AND room_type_id = ?',
      [hotelId, roomTypeId],
    );
    if (!t) {
      await this.hotel(hotelId, sql);
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

  private async ratesOf(rt: RoomType, nights: readonly string[], sql: Sql = this.db): Promise<number[]> {
    const rows = await sql.all<{ date: string; rate_minor: number }>(
      'SELECT date, rate_minor FROM room_type_rate WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ?',
      [rt.hotelId, rt.roomTypeId, nights[0], nights.at(-1)],
    );
    const set = new Map(rows.map((r) => [r.date, Number(r.rate_minor)]));
    return nights.map((d) => set.get(d) ?? rt.rateMinor);
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
    // MUTANT replay-repriced (the blind bug replay-repriced-refused): the request priced again at today's rates; a
    // total that moved is taken for another request (409), though the fields are the same.
    const repriced =
      this.mutant === 'replay-repriced' &&
      (await this.priced(this.db, r, nightsOf(r.startDate, r.endDate), '')).reservation.totalMinor !==
        existing.totalMinor;
    if (repriced || !sameRequest(existing, asked, this.mutant === 'replay-ignores-guest'))
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
    // MUTANT replay-not-refed (the blind bug replay-does-not-refeed-cache): a replay leaves the cache as it is.
    if (this.mutant === 'replay-not-refed') return;
    const lastNight = dateOf(dayNumber(r.endDate) - 1);
    try {
      const rows = await readInventory(this.db, r, [r.startDate, lastNight], '');
      this.cache.changed({ hotelId: r.hotelId, roomTypeId: r.roomTypeId, rows: rows.map(cachedOf) });
    } catch {
      // the database went away again: the next change of these nights puts them right
    }
  }

  /**
   * One transaction: the room type and its rates read, the reservationId claimed (INSERT ... ON CONFLICT DO NOTHING: a
   * copy of the request sent at once waits for the first copy's claim, then finds it and is answered as a replay), and
   * the rooms taken by the strategy, whose UPDATE returns the nights as it left them (for the cache). The nights were
   * made ahead (the book's daily job); a night whose row is not made yet rolls the transaction back, is made, and the
   * reservation runs again.
   */
  async reserve(r: NewReservation): Promise<{ created: boolean; reservation: Reservation }> {
    // MUTANT idempotency-key-not-unique: the key is looked up before the transaction and inserted after the rooms are
    // taken, on a column that is not unique, so two copies sent at once both find nothing and both insert.
    const keyOutsideTx = this.mutant === 'idempotency-key-not-unique';
    if (keyOutsideTx) {
      const seen = await this.byId(this.db, r.reservationId);
      if (seen) return await this.replay(seen, r);
    }
    // MUTANT refusal-not-rechecked: the key is inserted after the rooms are taken, not claimed first: a copy waits
    // behind the first copy's row locks (not its key) and is refused 409 when that copy took the last rooms.
    const claimFirst = !keyOutsideTx && this.mutant !== 'refusal-not-rechecked';
    const nights = nightsOf(
      r.startDate,
      r.endDate,
      this.mutant === 'date-range-off-by-one',
      this.mutant === 'start-today-refused',
    );
    if (this.mutant === 'refused-on-stale-cache') {
      // MUTANT refused-on-stale-cache: a night the cache shows full is refused without asking the database.
      const cached = await this.cache.get(r.hotelId, r.roomTypeId, nights);
      if (cached.some((c) => c && !fits(c.totalReserved, r.roomCount, c.totalInventory)))
        throw unavailableRooms(r.roomCount);
    }
    const createdAt = new Date().toISOString();
    const attempts = this.taker.attempts;
    let nightsMade = false;
    for (let attempt = 1; ; attempt++) {
      // Read before the transaction, without a lock: the optimistic strategy's first step (and the unlocked
      // mutants' whole check).
      const unlocked = this.taker.readsFirst ? await this.unlockedView(r, nights) : undefined;
      try {
        if (unlocked && unlocked.length !== nights.length) throw new MissingNights();
        const transaction = this.db.tx(async (sql) => {
          const { rt, reservation, claimed, read } = await this.pricedAndClaimed(sql, r, nights, createdAt, claimFirst);
          if (!claimed) return await this.claimed(sql, r);
          const rows = await this.taker.take(sql, rt, nights, r.roomCount, unlocked ?? read);
          if (rows.length !== nights.length) throw new MissingNights();
          if (!claimFirst) await this.claim(sql, reservation, false);
          return { reservation, rows };
        });
        if (this.mutant === 'commit-not-awaited') {
          // MUTANT commit-not-awaited: 201 as soon as the transaction is under way; its failure is only logged.
          transaction.then(
            (made) =>
              'rows' in made &&
              this.cache.changed({ hotelId: r.hotelId, roomTypeId: r.roomTypeId, rows: made.rows.map(cachedOf) }),
            (e) => console.error(`reservation ${r.reservationId} not committed: ${(e as Error).message}`),
          );
          return { created: true, reservation: (await this.priced(this.db, r, nights, createdAt)).reservation };
        }
        const made = await transaction;
        if (!('rows' in made)) return await this.replay(made, r);
        this.cache.changed({ hotelId: r.hotelId, roomTypeId: r.roomTypeId, rows: made.rows.map(cachedOf) });
        return { created: true, reservation: made.reservation };
      } catch (e) {
        if (e instanceof MissingNights) {
          // Made once; missing again means the room type was deleted meanwhile.
          if (nightsMade) throw roomTypeGone(r);
          nightsMade = true;
          await this.makeNights(r, nights);
          attempt--;
          continue;
        }
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
          // The key inserted after the rooms (the mutants): a concurrent copy committed first, answered as a replay.
          const existing = await this.byId(this.db, r.reservationId);
          if (existing) return await this.replay(existing, r);
        }
        if (isCheckViolation(e)) throw unavailableRooms(r.roomCount);
        throw e;
      }
    }
  }

  /** The room type (404 if it or its hotel is gone) and the reservation as it will be stored, priced by its rates. */
  private async priced(
    sql: Sql,
    r: NewReservation,
    nights: readonly string[],
    createdAt: string,
  ): Promise<{ rt: RoomType; reservation: Reservation }> {
    const rt = await this.roomType(r.hotelId, r.roomTypeId, sql);
    const totalMinor = (await this.ratesOf(rt, nights, sql)).reduce((a, b) => a + b, 0) * r.roomCount;
    return { rt, reservation: { ...r, status: 'confirmed', totalMinor, currency: rt.currency, createdAt } };
  }

  /**
   * The room type, the reservation priced, and with claimFirst its reservationId claimed (claimed false: another
   * copy's). On PostgreSQL one statement (priced-claim.ts), with the nights read as the strategy asks.
   */
  private async pricedAndClaimed(
    sql: Sql,
    r: NewReservation,
    nights: readonly string[],
    createdAt: string,
    claimFirst: boolean,
  ): Promise<PricedClaim> {
    if (claimFirst && this.db.kind === 'postgres' && this.mutant !== 'key-claimed-outside-transaction') {
      const done = await pricedClaim(sql, r, nights, createdAt, this.taker.readWithClaim);
      if (done) return done;
      await this.roomType(r.hotelId, r.roomTypeId, sql); // the 404: no such hotel, or no such room type
      throw roomTypeGone(r);
    }
    const { rt, reservation } = await this.priced(sql, r, nights, createdAt);
    const claimed = !claimFirst || (await this.claim(sql, reservation, true));
    return { rt, reservation, claimed, read: undefined };
  }

  /**
   * Inserts the reservation; with onConflict, as a claim of its reservationId that yields to one already made or being
   * made (false then: PostgreSQL waits for that transaction to end, and the key is the other copy's).
   */
  private async claim(tx: Sql, reservation: Reservation, onConflict: boolean): Promise<boolean> {
    // MUTANT key-claimed-outside-transaction: the claim on a connection of its own (claim-outside.ts).
    const sql = this.outside.sqlFor(tx, onConflict);
    const inserted = await sql.run(
      `INSERT INTO reservation (reservation_id, hotel_id, room_type_id, guest_id, start_date, end_date, room_count,
         status, total_minor, currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ${onConflict ? 'ON CONFLICT DO NOTHING' : ''}`,
      [
        reservation.reservationId,
        reservation.hotelId,
        reservation.roomTypeId,
        reservation.guestId,
        reservation.startDate,
        reservation.endDate,
        reservation.roomCount,
        'confirmed',
        reservation.totalMinor,
        reservation.currency,
        reservation.createdAt,
      ],
    );
    this.outside.made(sql, reservation.reservationId, inserted === 1);
    return inserted === 1;
  }

  /** The reservation whose claim this request's yielded to (committed: the claim waited for it). */
  private async claimed(sql: Sql, r: NewReservation): Promise<Reservation> {
    const existing = await this.byId(sql, r.reservationId);
    if (!existing) throw new Error(`reservationId ${r.reservationId} claimed, but no reservation holds it`);
    return existing;
  }

  /** The nights the daily job has not made yet, made in their own transaction before the reservation runs again. */
  private async makeNights(r: NewReservation, nights: readonly string[]): Promise<void> {
    const rt = await this.roomType(r.hotelId, r.roomTypeId);
    await makeNights(this.db, rt, nights, this.mutant === 'night-made-with-stale-inventory');
  }

  /** Reserves, or answers a replay; a 404 or 422 is looked up as a replay first (see madeBefore). */
  async reserveOrReplay(r: NewReservation): Promise<{ created: boolean; reservation: Reservation }> {
    try {
      const done = await this.reserve(r);
      this.outside.kept(r.reservationId);
      return done;
    } catch (e) {
      await this.outside.giveBack(r.reservationId);
      const made = await this.madeBefore(e, r.reservationId);
      if (made) return await this.replay(made, r);
      throw e;
    }
  }

  /**
   * After a 404 (the room type or hotel) or a 422 (the dates), the reservation this reservationId names if one was made
   * before: its room type deleted or its start day passed since, the same request is still a replay (200). The
   * transaction claims the key only after the dates and the room type passed, so this is where such a replay is found.
   */
  private async madeBefore(e: unknown, reservationId: string): Promise<Reservation | undefined> {
    const refused = e instanceof ProblemError && (e.status === 404 || e.status === 422);
    if (!refused) return;
    return await this.byId(this.db, reservationId);
  }

  /** What the unlocked check sees: the rows as read now, outside the transaction. */
  private async unlockedView(r: NewReservation, nights: readonly string[]): Promise<CachedNight[]> {
    return (await readInventory(this.db, r, nights, '')).map(cachedOf);
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
