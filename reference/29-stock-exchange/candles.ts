// The market data publisher's candlesticks: per symbol the candle in progress of every resolution the REST candles
// offer, updated by each fill as the sequencer logged it (the fill's sequenced time picks the window), so the
// stream's candles are a function of the event log like the L2 book. A window is [start, start + width): a fill
// exactly at a window's end opens the next one.

export const RESOLUTIONS = [1, 60, 300, 3600, 86400] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

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
}

/** The window start of a fill at `time` (ms) for a resolution in seconds. */
export function windowStart(time: number, resolution: number, faults: CandleFaults = {}): number {
  const width = resolution * 1000;
  // MUTANT md-candle-boundary-left: windows closed on the right, (start, end], so a boundary fill goes left.
  if (faults.boundaryLeft) return Math.ceil(time / width) * width - width;
  return Math.floor(time / width) * width;
}

/** The candles in progress of one symbol, one per resolution. */
export class CandleSet {
  private readonly current = new Map<Resolution, Candle>();

  constructor(private readonly faults: CandleFaults = {}) {}

  /** Adds one fill to the candle of its window at every resolution. */
  add(time: number, price: number, quantity: number): void {
    const volume = this.faults.volumeBothSides ? 2 * quantity : quantity; // MUTANT md-candle-volume-both-sides
    for (const resolution of RESOLUTIONS) {
      const timestamp = windowStart(time, resolution, this.faults);
      const c = this.current.get(resolution);
      // Sequenced times never go back, so a fill is in the current window or opens a later one.
      if (c && c.timestamp === timestamp) {
        // MUTANT md-candle-high-lags: the high follows the close before this fill.
        c.high = Math.max(c.high, this.faults.highLags ? c.close : price);
        c.low = Math.min(c.low, price);
        c.close = price;
        c.volume += volume;
      } else
        this.current.set(resolution, {
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
    const c = this.current.get(resolution);
    return c && { ...c };
  }
}
