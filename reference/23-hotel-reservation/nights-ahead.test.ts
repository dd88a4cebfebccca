// The nights made ahead (the book's daily job), which no check over the wire can reach (the date cannot be moved):
// a room type's nights exist to the horizon from its creation, the job makes the nights a new day brings with the
// room type's inventory as it is then, and a reservation whose nights are not made yet makes them and is taken.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryInventoryCache } from './cache.ts';
import { dateOf, HORIZON_DAYS, today } from './dates.ts';
import { SqliteDb, schemaOptionsFor } from './db.ts';
import { rollNightsForward } from './hotel-admin.ts';
import { STRATEGIES } from './room-taker.ts';
import { HotelStore } from './store.ts';

async function withStore(
  strategy: (typeof STRATEGIES)[number],
  fn: (db: SqliteDb, store: HotelStore) => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-23-nights-'));
  const db = new SqliteDb(join(dir, 'hotel.sqlite'), schemaOptionsFor(strategy, undefined));
  const cache = new MemoryInventoryCache(false);
  try {
    await fn(db, new HotelStore(db, strategy, cache, undefined));
  } finally {
    await cache.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const nightsOf = (db: SqliteDb, roomTypeId: string) =>
  db.all<{ date: string; total_inventory: number; total_reserved: number }>(
    'SELECT date, total_inventory, total_reserved FROM room_type_inventory WHERE room_type_id = ? ORDER BY date',
    [roomTypeId],
  );

describe('nights made ahead', () => {
  for (const strategy of STRATEGIES)
    it(`${strategy}: made with the room type, rolled forward, and made by a reservation that needs them`, async () => {
      await withStore(strategy, async (db, store) => {
        const { hotelId } = await store.createHotel({ name: 'H', address: 'A' });
        const rt = await store.createRoomType(hotelId, {
          name: 'T',
          totalInventory: 5,
          rateMinor: 100,
          currency: 'EUR',
        });
        const made = await nightsOf(db, rt.roomTypeId);
        expect(made.length).toBe(HORIZON_DAYS);
        expect([made[0]!.date, made.at(-1)!.date]).toEqual([dateOf(today()), dateOf(today() + HORIZON_DAYS - 1)]);

        // As if days had passed since the job last ran, and the inventory had changed: the job makes the missing
        // nights with the inventory as it is now, and leaves the others as they are.
        const cut = dateOf(today() + HORIZON_DAYS - 30);
        await db.run('DELETE FROM room_type_inventory WHERE room_type_id = ? AND date >= ?', [rt.roomTypeId, cut]);
        await db.run('UPDATE room_type SET total_inventory = 7 WHERE room_type_id = ?', [rt.roomTypeId]);
        await rollNightsForward(db);
        const rolled = await nightsOf(db, rt.roomTypeId);
        expect(rolled.length).toBe(HORIZON_DAYS);
        expect(rolled.filter((n) => n.date >= cut).every((n) => Number(n.total_inventory) === 7)).toBe(true);
        expect(rolled.filter((n) => n.date < cut).every((n) => Number(n.total_inventory) === 5)).toBe(true);

        // Nights the job has not made: the reservation makes them (with today's inventory) and takes its rooms.
        const [from, to] = [dateOf(today() + 10), dateOf(today() + 13)];
        await db.run('DELETE FROM room_type_inventory WHERE room_type_id = ? AND date >= ? AND date < ?', [
          rt.roomTypeId,
          from,
          to,
        ]);
        const asked = { reservationId: 'r1', hotelId, roomTypeId: rt.roomTypeId, roomCount: 2, guestId: 'g' };
        const { created } = await store.reserve({ ...asked, startDate: from, endDate: to });
        expect(created).toBe(true);
        const taken = (await nightsOf(db, rt.roomTypeId)).filter((n) => n.date >= from && n.date < to);
        expect(taken.map((n) => [Number(n.total_inventory), Number(n.total_reserved)])).toEqual([
          [7, 2],
          [7, 2],
          [7, 2],
        ]);
      });
    });
});
