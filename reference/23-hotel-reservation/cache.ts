// The inventory cache of the book's scaling section (key hotelID_roomTypeID_date -> the night's inventory and
// reservations): in process (memory, the default) or in Redis (cache-redis.ts, CACHE=redis or REDIS_URL given). The
// database is the truth: the cache only answers availability reads, never the reservation check, and is updated
// after each commit by a change stream polled every 20 ms, as the book's CDC stream would (so it lags the database
// by that much). Entries carry the row's version, so a late update never overwrites a newer one.
import type { DependencyState } from '../kit/health.ts';

export interface CachedNight {
  date: string;
  totalInventory: number;
  totalReserved: number;
  version: number;
}

/** Rows of one room type changed by one commit (or read from the database now). */
export interface InventoryChange {
  hotelId: string;
  roomTypeId: string;
  rows: readonly CachedNight[];
}

export interface InventoryCache {
  readonly kind: 'memory' | 'redis';
  /** The cached nights; undefined where the cache has none or cannot answer now (the caller reads the database). */
  get(hotelId: string, roomTypeId: string, dates: readonly string[]): Promise<(CachedNight | undefined)[]>;
  /** Stores rows read from the database now, unless a newer version is cached; a cache that is down skips them. */
  put(change: InventoryChange): Promise<void>;
  /** A commit changed these rows: the change stream applies them within STREAM_POLL_MS (or once the cache is back). */
  changed(change: InventoryChange): void;
  /** For readiness: undefined when the cache is in process. */
  health(): DependencyState | undefined;
  close(): Promise<void>;
}

/** How often the change stream applies committed changes to the cache. */
export const STREAM_POLL_MS = 20;
/** After the cache refused a batch (down, paused), the stream tries it again after this long. */
const STREAM_RETRY_MS = 200;
/** Nights the stream holds while the cache is away; past it the oldest are dropped (those entries stay stale). */
const STREAM_BACKLOG_MAX = 100_000;

/** The book's key, hotelID_roomTypeID_date; `withoutRoomType` is MUTANT cache-key-without-room-type. */
export function cacheKey(withoutRoomType: boolean) {
  return (hotelId: string, roomTypeId: string, date: string) =>
    withoutRoomType ? `${hotelId}_${date}` : `${hotelId}_${roomTypeId}_${date}`;
}

/**
 * The change stream: committed changes are applied in batches, one poll every STREAM_POLL_MS, as a CDC connector
 * polls its log. A batch the cache refuses waits for the next try (a connector resumes from its offset), so a cache
 * that was down or paused catches up once it is back; only a backlog past STREAM_BACKLOG_MAX nights is dropped.
 */
export class ChangeStream {
  private pending: InventoryChange[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private dropped = false;

  constructor(
    private readonly apply: (batch: readonly InventoryChange[]) => Promise<void>,
    private readonly log: (m: string) => void = () => {},
    /** MUTANT stream-drops-refused: a batch the cache refused is dropped, not tried again. */
    private readonly dropRefused = false,
    /**
     * MUTANT stream-stalls-after-flush (the blind bug stream-stalls-after-busy-flush): what was pushed while a batch
     * was being written waits for the next push once the write succeeded.
     */
    private readonly stallAfterFlush = false,
  ) {}

  push(change: InventoryChange): void {
    if (change.rows.length === 0) return;
    this.pending.push(change);
    this.pendingRows += change.rows.length;
    this.trim();
    this.schedule(STREAM_POLL_MS);
  }

  private trim(): void {
    while (this.pendingRows > STREAM_BACKLOG_MAX && this.pending.length > 1) {
      this.pendingRows -= this.pending.shift()!.rows.length;
      if (!this.dropped)
        this.log(`inventory cache: change stream backlog past ${STREAM_BACKLOG_MAX} nights, oldest dropped`);
      this.dropped = true;
    }
  }

  private schedule(ms: number): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    let next = STREAM_POLL_MS;
    try {
      await this.apply(batch);
      this.dropped = false;
    } catch {
      if (!this.dropRefused) this.pending = [...batch, ...this.pending];
      this.pendingRows = this.pending.reduce((n, c) => n + c.rows.length, 0);
      this.trim();
      next = STREAM_RETRY_MS;
    } finally {
      this.flushing = false;
    }
    if (this.pending.length > 0 && !(this.stallAfterFlush && next === STREAM_POLL_MS)) this.schedule(next);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Nights cached in process at most (oldest dropped first); a night is a few dozen bytes. */
const MAX_ENTRIES = 200_000;

export class MemoryInventoryCache implements InventoryCache {
  readonly kind = 'memory';
  private readonly nights = new Map<string, CachedNight>();
  private readonly key: ReturnType<typeof cacheKey>;
  private readonly stream = new ChangeStream(async (batch) => {
    for (const c of batch) this.store(c);
  });

  constructor(withoutRoomType = false) {
    this.key = cacheKey(withoutRoomType);
  }

  async get(hotelId: string, roomTypeId: string, dates: readonly string[]): Promise<(CachedNight | undefined)[]> {
    return dates.map((d) => this.nights.get(this.key(hotelId, roomTypeId, d)));
  }

  async put(change: InventoryChange): Promise<void> {
    this.store(change);
  }

  changed(change: InventoryChange): void {
    this.stream.push(change);
  }

  private store({ hotelId, roomTypeId, rows }: InventoryChange): void {
    for (const row of rows) {
      const key = this.key(hotelId, roomTypeId, row.date);
      const had = this.nights.get(key);
      if (had && had.version >= row.version) continue;
      this.nights.delete(key);
      this.nights.set(key, row);
      if (this.nights.size > MAX_ENTRIES) this.nights.delete(this.nights.keys().next().value!);
    }
  }

  health(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.stream.close();
  }
}
