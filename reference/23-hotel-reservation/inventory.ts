// room_type_inventory, the book's improved data model (one row per hotel, room type and night): its rows, how they
// are read, and the book's overbooking rule (at most 110% of the inventory reserved).
import { ProblemError } from '../kit/problem.ts';
import type { CachedNight } from './cache.ts';
import type { Sql } from './db.ts';
import type { RoomType } from './model.ts';
import type { MutantName } from './mutants.ts';

export interface InventoryRow {
  date: string;
  total_inventory: number;
  total_reserved: number;
  version: number;
}

/** Within the book's overbooking limit: reserved + n <= 110% of the inventory, in integers. */
export function fits(totalReserved: number, roomCount: number, totalInventory: number): boolean {
  return (totalReserved + roomCount) * 10 <= totalInventory * 11;
}

/** Rooms still available on a night: floor(110% of the inventory) - reserved, never below 0. */
export function availableOf(totalReserved: number, totalInventory: number): number {
  return Math.max(0, Math.floor((totalInventory * 11) / 10) - totalReserved);
}

/** The overbooking rule as this deployment applies it. */
export function fitsFor(mutant: MutantName | undefined): typeof fits {
  // MUTANT no-overbooking-allowance: 100% of the inventory, not 110%.
  if (mutant === 'no-overbooking-allowance')
    return (totalReserved, roomCount, totalInventory) => totalReserved + roomCount <= totalInventory;
  return fits;
}

/** The nights' rows in date order; lock is '' or ' FOR UPDATE'. */
export function readInventory(
  sql: Sql,
  rt: Pick<RoomType, 'hotelId' | 'roomTypeId'>,
  nights: readonly string[],
  lock: string,
): Promise<InventoryRow[]> {
  return sql.all<InventoryRow>(
    `SELECT date, total_inventory, total_reserved, version FROM room_type_inventory
       WHERE hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ? ORDER BY date${lock}`,
    [rt.hotelId, rt.roomTypeId, nights[0], nights.at(-1)],
  );
}

/** The columns a reservation's UPDATE returns: the nights as it left them (fed to the cache after the commit). */
export const RETURNING_ROWS = 'RETURNING date, total_inventory, total_reserved, version';

/**
 * Adds n to total_reserved on every night of the range in one UPDATE, unchecked (the strategies check before, or the
 * CHECK does); returns the nights it changed (fewer than asked if some have no row yet).
 */
export function addReserved(sql: Sql, rt: RoomType, nights: readonly string[], n: number): Promise<InventoryRow[]> {
  const where = 'hotel_id = ? AND room_type_id = ? AND date >= ? AND date <= ?';
  return sql.all<InventoryRow>(
    `UPDATE room_type_inventory SET total_reserved = total_reserved + ?, version = version + 1 WHERE ${where}
     ${RETURNING_ROWS}`,
    [n, rt.hotelId, rt.roomTypeId, nights[0], nights.at(-1)],
  );
}

export function cachedOf(r: InventoryRow): CachedNight {
  return {
    date: r.date,
    totalInventory: Number(r.total_inventory),
    totalReserved: Number(r.total_reserved),
    version: Number(r.version),
  };
}

export function unavailableRooms(n: number): ProblemError {
  return new ProblemError(409, 'rooms_unavailable', `fewer than ${n} rooms left within 110% on a night of the range`);
}
