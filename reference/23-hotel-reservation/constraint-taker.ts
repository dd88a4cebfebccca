// Option 3 of the book, a database constraint: no check here; the CHECK on room_type_inventory refuses a row past
// 110% and the transaction rolls back (the store answers that violation with 409 rooms_unavailable).
import type { Sql } from './db.ts';
import { addReserved, type InventoryRow } from './inventory.ts';
import type { RoomType } from './model.ts';
import type { RoomTaker } from './room-taker.ts';

export function constraintTaker(): RoomTaker {
  return {
    readsFirst: false,
    attempts: 1,
    take(sql: Sql, rt: RoomType, nights: readonly string[], n: number): Promise<InventoryRow[]> {
      return addReserved(sql, rt, nights, n);
    },
  };
}
