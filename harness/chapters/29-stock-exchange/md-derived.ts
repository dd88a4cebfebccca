// The market-data stream's derived frames graded against what the same subscriber saw of the L2 stream (the spec:
// marketdata-frames.schema.json L1 and Candle). L1: the expected `l1` frames are computed from the book replayed
// from the snapshot and the l2updates - the top as of the snapshot first, then one right after every l2update that
// changed the best bid or ask (price or size), with its seq - and compared with the ones received, in place.
// Candles: every trade on the stream is aggregated into its window [start, start + width) here, and the `candle`
// frame right after it must be that window's candle so far, with the trade's seq.
import { type Frame, type Level, replay, type Trade } from './md-client.ts';

interface Top {
  bid: Level | null;
  ask: Level | null;
}
export interface Candle {
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

const show = (v: unknown) => JSON.stringify(v);
const sameTop = (a: Top, b: Top) => show(a) === show(b);

/** The window start of a trade at `time` (ms): windows start at multiples of the resolution since the epoch. */
export function windowOf(time: number, resolution: number): number {
  return Math.floor(time / (resolution * 1000)) * resolution * 1000;
}

/** The candles of trades (in stream order) per window of `resolution` seconds, ascending: OHLC and volume. */
export function candlesOfTrades(trades: readonly Trade[], resolution: number): Candle[] {
  const windows = new Map<number, Candle>();
  for (const t of trades) {
    const timestamp = windowOf(t.time, resolution);
    const c = windows.get(timestamp);
    if (!c) {
      windows.set(timestamp, {
        timestamp,
        open: t.price,
        high: t.price,
        low: t.price,
        close: t.price,
        volume: t.quantity,
      });
      continue;
    }
    c.high = Math.max(c.high, t.price);
    c.low = Math.min(c.low, t.price);
    c.close = t.price;
    c.volume += t.quantity;
  }
  return [...windows.values()].sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * The errors of the `l1` frames of a subscription with the l2 and l1 channels (empty when every l1 frame is the
 * top of the book replayed to its seq, one comes right after each l2update that changed the top, and no other).
 * Also returns how many l1 frames were compared.
 */
export function l1Errors(frames: readonly Frame[], symbol: string): { errors: string[]; compared: number } {
  const r = replay(frames, symbol, true);
  if (r.errors.length) return { errors: r.errors, compared: 0 };
  const topAt = (seq: number): Top => {
    const b = r.bookAt.get(seq)!;
    return { bid: b.bids[0] ?? null, ask: b.asks[0] ?? null };
  };
  // Where each l1 frame must be: right after the snapshot, and right after each l2update that changed the top.
  const want: { after: number; frame: Frame }[] = [];
  let top = topAt(r.snapshotSeq);
  want.push({ after: 0, frame: { type: 'l1', symbol, seq: r.snapshotSeq, ...top } });
  for (const [i, f] of frames.entries()) {
    if (f.type !== 'l2update') continue;
    const now = topAt(Number(f.seq));
    if (!sameTop(top, now)) want.push({ after: i, frame: { type: 'l1', symbol, seq: Number(f.seq), ...now } });
    top = now;
  }
  const got = [...frames.entries()].filter(([, f]) => f.type === 'l1');
  const errors: string[] = [];
  // Each expected frame must be the next l1 frame, placed right after its update (candle frames aside).
  for (const [k, w] of want.entries()) {
    const g = got[k];
    if (!g) {
      errors.push(
        `no l1 frame after ${w.after === 0 ? 'the snapshot' : `the l2update at seq ${String(w.frame.seq)}`}, which made the top ${show({ bid: w.frame.bid, ask: w.frame.ask })} (l1 frames: ${got.length}, expected ${want.length})`,
      );
      break;
    }
    const [i, f] = g;
    const between = frames.slice(w.after + 1, i).filter((x) => x.type !== 'candle');
    // After its update, never before it (an l1 frame that overtakes its l2update has nothing between either).
    const early = i < w.after;
    if (show(f) !== show(w.frame) || early || between.length > 0) {
      errors.push(
        `l1 frame ${k + 1} (frame ${i}) is ${show(f)}; the book replayed from the snapshot and the l2updates makes it ${show(w.frame)}, right after ${w.after === 0 ? 'the snapshot' : `frame ${w.after} (the l2update that changed the top)`}${early ? ', but it came before that update' : ''}${between.length ? `, but ${between.length} frames came between (first ${show(between[0]).slice(0, 200)})` : ''}`,
      );
      break;
    }
  }
  if (!errors.length && got.length > want.length) {
    const [i, f] = got[want.length]!;
    errors.push(`an l1 frame ${show(f)} (frame ${i}) where the top did not change (it is ${show(want.at(-1)!.frame)})`);
  }
  return { errors, compared: Math.min(got.length, want.length) };
}

/**
 * The errors of the `candle` frames of a subscription with the l2 and candles channels at `resolution` (empty when
 * each trade is followed by its window's candle as the stream's trades make it), and the last candle of each
 * window, to compare with GET /v1/marketdata/candles once the stream is quiet. A first candle frame before any
 * update (the symbol's last candle when subscribing) seeds its window.
 */
export function candleErrors(
  frames: readonly Frame[],
  symbol: string,
  resolution: number,
): { errors: string[]; candles: Candle[]; boundaryTrades: number } {
  const windows = new Map<number, Candle>();
  const errors: string[] = [];
  let boundaryTrades = 0;
  const asCandle = (f: Frame): Candle => ({
    timestamp: Number(f.timestamp),
    open: Number(f.open),
    high: Number(f.high),
    low: Number(f.low),
    close: Number(f.close),
    volume: Number(f.volume),
  });
  for (const [i, f] of frames.entries()) {
    if (f.type === 'candle' && frames.slice(0, i).every((x) => x.type === 'snapshot' || x.type === 'l1')) {
      windows.set(Number(f.timestamp), asCandle(f));
      continue;
    }
    if (f.type === 'candle' && frames[i - 1]?.type !== 'trade') {
      errors.push(`candle frame ${i} ${show(f)} does not follow a trade`);
      break;
    }
    if (f.type !== 'trade') continue;
    const time = Number(f.time);
    const price = Number(f.price);
    const quantity = Number(f.quantity);
    const timestamp = windowOf(time, resolution);
    if (time === timestamp) boundaryTrades++;
    const c = windows.get(timestamp);
    if (c) {
      c.high = Math.max(c.high, price);
      c.low = Math.min(c.low, price);
      c.close = price;
      c.volume += quantity;
    } else windows.set(timestamp, { timestamp, open: price, high: price, low: price, close: price, volume: quantity });
    const want = { type: 'candle', symbol, seq: f.seq, resolution, ...windows.get(timestamp)! };
    const next = frames[i + 1];
    if (!next) break; // the candle may still be on its way; the caller waits for quiescence first
    if (show(next) !== show(want)) {
      errors.push(
        `after the trade ${show(f)} (frame ${i}; its time falls in the window starting ${timestamp}, windows [start, start + ${resolution * 1000} ms)) came ${show(next).slice(0, 300)}; the stream's trades make the candle ${show(want)}`,
      );
      break;
    }
  }
  return { errors, candles: [...windows.values()].sort((a, b) => a.timestamp - b.timestamp), boundaryTrades };
}
