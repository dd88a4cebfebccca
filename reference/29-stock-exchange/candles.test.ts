// The candle rings: the last CANDLE_HISTORY candles per resolution, oldest first, slots reused once full.
import { describe, expect, it } from 'vitest';
import { CANDLE_HISTORY, CandleRing, CandleSet } from './candles.ts';

const candle = (timestamp: number) => ({
  resolution: 1 as const,
  timestamp,
  open: 1,
  high: 1,
  low: 1,
  close: 1,
  volume: 1,
});

describe('CandleRing', () => {
  it('keeps the last `depth` candles in order, before and after it wraps', () => {
    const r = new CandleRing(3);
    expect(r.toArray()).toEqual([]);
    for (const t of [1, 2]) r.push(candle(t));
    expect(r.toArray().map((c) => c.timestamp)).toEqual([1, 2]);
    for (const t of [3, 4, 5, 6, 7]) r.push(candle(t));
    expect(r.toArray().map((c) => c.timestamp)).toEqual([5, 6, 7]);
    expect(r.newest()?.timestamp).toBe(7);
  });

  it('answers copies: a caller cannot change what it keeps', () => {
    const r = new CandleRing(2);
    r.push(candle(1));
    r.toArray()[0]!.close = 99;
    expect(r.toArray()[0]!.close).toBe(1);
  });
});

describe('CandleSet history', () => {
  it('one-second candles past the history depth: only the last CANDLE_HISTORY[1] answered', () => {
    const s = new CandleSet();
    const n = CANDLE_HISTORY[1] + 4;
    for (let i = 0; i < n; i++) {
      s.add(i * 1000, 100 + i, 1);
      s.add(i * 1000 + 500, 200 + i, 2);
    }
    const h = s.history(1);
    expect(h).toHaveLength(CANDLE_HISTORY[1]);
    expect(h[0]).toMatchObject({ timestamp: 4000, open: 104, high: 204, low: 104, close: 204, volume: 3 });
    expect(h.at(-1)!.timestamp).toBe((n - 1) * 1000);
    // The minute candle holds every fill.
    expect(s.history(60)).toEqual([
      { resolution: 60, timestamp: 0, open: 100, high: 200 + n - 1, low: 100, close: 200 + n - 1, volume: 3 * n },
    ]);
  });
});
