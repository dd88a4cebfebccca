// The inventory cache of the book's scaling section (key hotelID_roomTypeID_date -> the night's inventory and
// reservations), in process. The database is the truth: the cache only answers availability reads, and is updated
// after each commit by a change stream polled every 20 ms, as the book's CDC stream would (so it lags the database by that much), never
// read by the reservation check. Entries carry the row's version, so a late update never overwrites a newer one.
export interface CachedNight {
  date: string;
  totalInventory: number;
  totalReserved: number;
  version: number;
}

/** Nights cached at most (oldest dropped first); a night is a few dozen bytes. */
const MAX_ENTRIES = 200_000;
/** How often the in-process change stream applies committed changes to the cache. */
const STREAM_POLL_MS = 20;

export class AvailabilityCache {
  private readonly nights = new Map<string, CachedNight>();

  /** `withoutRoomType` is MUTANT cache-key-without-room-type: a hotel's room types share one entry per night. */
  constructor(private readonly withoutRoomType = false) {}

  private key(hotelId: string, roomTypeId: string, date: string): string {
    return this.withoutRoomType ? `${hotelId}_${date}` : `${hotelId}_${roomTypeId}_${date}`;
  }

  get(hotelId: string, roomTypeId: string, dates: readonly string[]): (CachedNight | undefined)[] {
    return dates.map((d) => this.nights.get(this.key(hotelId, roomTypeId, d)));
  }

  /** Stores rows read from the database now, unless a newer version is cached. */
  put(hotelId: string, roomTypeId: string, rows: readonly CachedNight[]): void {
    for (const row of rows) {
      const key = this.key(hotelId, roomTypeId, row.date);
      const had = this.nights.get(key);
      if (had && had.version >= row.version) continue;
      this.nights.delete(key);
      this.nights.set(key, row);
      if (this.nights.size > MAX_ENTRIES) this.nights.delete(this.nights.keys().next().value!);
    }
  }

  /** Changes committed but not yet applied: the change stream's backlog. */
  private pending: { hotelId: string; roomTypeId: string; rows: readonly CachedNight[] }[] = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * A commit changed these rows. Applied by the next poll of the change stream, every STREAM_POLL_MS as a CDC
   * connector polls its log: the cache lags the database by that much (the spec allows up to 1 s).
   */
  changed(hotelId: string, roomTypeId: string, rows: readonly CachedNight[]): void {
    if (rows.length === 0) return;
    this.pending.push({ hotelId, roomTypeId, rows });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const batch = this.pending;
      this.pending = [];
      for (const c of batch) this.put(c.hotelId, c.roomTypeId, c.rows);
    }, STREAM_POLL_MS).unref();
  }
}
