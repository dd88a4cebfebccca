// The market data publisher's candlesticks: per symbol and resolution a ring buffer of the last candles (the book's
// "pre-allocated ring buffers to hold sticks", "we only keep part of the candlesticks"), the newest the candle in
// progress, updated by each fill as the sequencer logged it (the fill's sequenced time picks the window), so the
// stream's candles and the REST candles are a function of the event log like the L2 book. A window is
// [start, start + width): a fill exactly at a window's end opens the next one.

export const RESOLUTIONS = [1, 60, 300, 3600, 86400] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/**
 * The candles kept per symbol and resolution (the spec's history depth; GET candles answers no older ones): ten
 * 1-second candles (finer history is the stream's), a day of minutes, a week of 5 minutes, 90 days of hours, ten
 * years of days. Candles are windows that traded, so the history spans at least this many windows.
 */
export const CANDLE_HISTORY: Record<Resolution, number> = { 1: 10, 60: 1440, 300: 2016, 3600: 2160, 86400: 3660 };

export interface Candle {
  resolution: Resolution;
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface CandleFaults {
  /** MUTANT md-candle-high-lags: the high is lifted by the previous trade's price, not the new one. */
  highLags?: boolean;
  /** MUTANT md-candle-boundary-left: a fill exactly at a window's start goes to the window before it. */
  boundaryLeft?: boolean;
  /** MUTANT md-candle-volume-both-sides: volume counts the buy and the sell execution of a match. */
  volumeBothSides?: boolean;
  /** MUTANT candle-close-first: the close stays the window's first price. */
  closeFirst?: boolean;
  /** MUTANT ring-wrap-off-by-one: once a ring has wrapped, reading it starts one slot late (the oldest is lost). */
  wrapOffByOne?: boolean;
}

/**
 * A fixed-size ring of candles, oldest overwritten first. Slots are allocated as the ring first fills (a symbol
 * that trades little costs little) and reused in place once it is full, so a full ring allocates nothing more.
 */
export class CandleRing {
  private readonly slots: Candle[] = [];
  /** Candles ever pushed; the newest is in slot (pushed - 1) % depth. */
  private pushed = 0;

  constructor(
    readonly depth: number,
    private readonly faults: CandleFaults = {},
  ) {}

  /** The candle in progress (the newest), itself (the caller updates it in place), or undefined before the first. */
  newest(): Candle | undefined {
    return this.pushed === 0 ? undefined : this.slots[(this.pushed - 1) % this.depth];
  }

  push(c: Candle): void {
    const at = this.pushed % this.depth;
    if (this.slots.length < this.depth) this.slots.push(c);
    else Object.assign(this.slots[at]!, c);
    this.pushed++;
  }

  /** Copies of the kept candles, oldest first. */
  toArray(): Candle[] {
    const kept = Math.min(this.pushed, this.depth);
    let first = this.pushed - kept;
    // MUTANT ring-wrap-off-by-one: a wrapped ring is read from the slot after the oldest.
    if (this.faults.wrapOffByOne && this.pushed > this.depth) first++;
    const out: Candle[] = [];
    for (let i = first; i < this.pushed; i++) out.push({ ...this.slots[i % this.depth]! });
    return out;
  }
}

/** The window start of a fill at `time` (ms) for a resolution in seconds. */
export function windowStart(time: number, resolution: number, faults: CandleFaults = {}): number {
  const width = resolution * 1000;
  // MUTANT md-candle-boundary-left: windows closed on the right, (start, end], so a boundary fill goes left.
  if (faults.boundaryLeft) return Math.ceil(time / width) * width - width;
  return Math.floor(time / width) * width;
}

/** The candles of one symbol, a ring per resolution. */
export class CandleSet {
  private readonly rings = new Map<Resolution, CandleRing>();

  constructor(private readonly faults: CandleFaults = {}) {}

  /** Adds one fill to the candle of its window at every resolution. */
  add(time: number, price: number, quantity: number): void {
    const volume = this.faults.volumeBothSides ? 2 * quantity : quantity; // MUTANT md-candle-volume-both-sides
    for (const resolution of RESOLUTIONS) {
      const timestamp = windowStart(time, resolution, this.faults);
      const ring = this.ring(resolution);
      const c = ring.newest();
      // Sequenced times never go back, so a fill is in the current window or opens a later one.
      if (c && c.timestamp === timestamp) {
        // MUTANT md-candle-high-lags: the high follows the close before this fill.
        c.high = Math.max(c.high, this.faults.highLags ? c.close : price);
        c.low = Math.min(c.low, price);
        if (!this.faults.closeFirst) c.close = price; // MUTANT candle-close-first
        c.volume += volume;
      } else
        ring.push({
          resolution,
          timestamp,
          open: price,
          high: price,
          low: price,
          close: price,
          volume,
        });
    }
  }

  /** The candle of the last fill at a resolution (undefined before the first fill). */
  last(resolution: Resolution): Candle | undefined {
    const c = this.rings.get(resolution)?.newest();
    return c && { ...c };
  }

  /** The kept candles of a resolution, oldest first (the last CANDLE_HISTORY[resolution] windows that traded). */
  history(resolution: Resolution): Candle[] {
    return this.rings.get(resolution)?.toArray() ?? [];
  }

  private ring(resolution: Resolution): CandleRing {
    let r = this.rings.get(resolution);
    if (!r) {
      r = new CandleRing(CANDLE_HISTORY[resolution], this.faults);
      this.rings.set(resolution, r);
    }
    return r;
  }
}
