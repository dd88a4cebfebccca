// The market data publisher in process: fed the engine's sequenced output, its snapshot plus updates is the engine's
// book at every point, its sequence numbers have no gap, and every fill is one trade.
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { type Level, type MarketDataFrame, MarketDataPublisher } from './market-data.ts';
import type { InboundEvent, LogEvent } from './types.ts';

/** A seeded stream of orders and cancels on one symbol, through the engine: each inbound event with its fills. */
function batches(n: number): LogEvent[][] {
  const engine = new Engine();
  let seq = 0;
  let x = 7;
  const next = (m: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % m;
  };
  const out: LogEvent[][] = [];
  const run = (e: InboundEvent) => {
    seq = e.sequenceId;
    out.push([e, ...engine.apply(e, () => ++seq)]);
  };
  for (const [userId, asset] of [
    ['a', 'USD'],
    ['a', 'X'],
  ] as const)
    run({ sequenceId: seq + 1, type: 'deposit', time: 1, userId, asset, amount: 1e9 });
  for (let i = 0; i < n; i++) {
    const open = [...(engine.books.get('X')?.orderMap.keys() ?? [])];
    if (open.length > 0 && next(5) === 0)
      run({ sequenceId: seq + 1, type: 'cancel', time: 10 + i, orderId: open[next(open.length)]! });
    else
      run({
        sequenceId: seq + 1,
        type: 'new',
        time: 10 + i,
        orderId: engine.nextOrderId,
        userId: 'a',
        symbol: 'X',
        side: next(2) === 0 ? 'buy' : 'sell',
        price: 98 + next(5),
        quantity: 1 + next(9),
      });
  }
  return out;
}

function bookOf(frames: MarketDataFrame[]): { bids: Level[]; asks: Level[]; seq: number } {
  const [first, ...rest] = frames;
  if (first?.type !== 'snapshot') throw new Error('no snapshot first');
  const bids = new Map(first.bids.map((l) => [l.price, l.size]));
  const asks = new Map(first.asks.map((l) => [l.price, l.size]));
  let seq = first.seq;
  for (const f of rest) {
    expect(f.seq).toBe(seq + 1);
    seq = f.seq;
    if (f.type === 'l2update')
      for (const c of f.changes) {
        const m = c.side === 'buy' ? bids : asks;
        if (c.size === 0) m.delete(c.price);
        else m.set(c.price, c.size);
      }
  }
  const sorted = (m: Map<number, number>, desc: boolean) =>
    [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).map(([price, size]) => ({ price, size }));
  return { bids: sorted(bids, true), asks: sorted(asks, false), seq };
}

describe('market data publisher', () => {
  it('publishes snapshot plus updates that rebuild the book, with contiguous seq and one trade per fill', () => {
    const all = batches(300);
    const p = new MarketDataPublisher();
    const early: MarketDataFrame[] = [p.snapshot('X')];
    p.subscribe('X', (f) => early.push(f));
    let late: MarketDataFrame[] = [];
    for (const [i, b] of all.entries()) {
      p.publish(b);
      if (i === 150) {
        late = [p.snapshot('X')];
        p.subscribe('X', (f) => late.push(f));
      }
    }
    const fills = all.flat().filter((e) => e.type === 'fill');
    expect(fills.length).toBeGreaterThan(10);
    expect(early.filter((f) => f.type === 'trade').map((f) => f.sequenceId)).toEqual(fills.map((f) => f.sequenceId));
    const a = bookOf(early);
    const b = bookOf(late);
    expect(b).toEqual(a);
    expect(p.snapshot('X')).toEqual({ type: 'snapshot', symbol: 'X', seq: a.seq, bids: a.bids, asks: a.asks });
    // The engine's own book agrees.
    const engine = new Engine();
    let seq = 0;
    for (const [e] of all) {
      seq = e!.sequenceId;
      engine.apply(e as InboundEvent, () => ++seq);
    }
    const book = engine.books.get('X')!;
    expect({ bids: book.buyBook.depth(1000), asks: book.sellBook.depth(1000) }).toEqual({ bids: a.bids, asks: a.asks });
  });

  it('sends l1 right after each update that changed the top, equal to the book then, and none otherwise', () => {
    const p = new MarketDataPublisher();
    const frames: MarketDataFrame[] = [];
    p.subscribe('X', (f) => frames.push(f), { channels: new Set(['l2', 'l1']), resolution: 60 });
    let top = JSON.stringify({ bid: null, ask: null });
    let changes = 0;
    for (const b of batches(300)) {
      const from = frames.length;
      p.publish(b);
      const s = p.snapshot('X');
      const now = JSON.stringify({ bid: s.bids[0] ?? null, ask: s.asks[0] ?? null });
      const l1 = frames.slice(from).filter((f) => f.type === 'l1');
      if (now === top) expect(l1).toEqual([]);
      else {
        changes++;
        expect(frames.at(-1)).toEqual({ type: 'l1', symbol: 'X', seq: s.seq, ...JSON.parse(now) });
        expect(frames.at(-2)?.type).toBe('l2update');
        expect(l1.length).toBe(1);
      }
      top = now;
    }
    expect(changes).toBeGreaterThan(10);
  });

  it('sends after each trade its window candle, windows [start, start + width), volume once per match', () => {
    const p = new MarketDataPublisher();
    const frames: MarketDataFrame[] = [];
    p.subscribe('X', (f) => frames.push(f), { channels: new Set(['candles']), resolution: 1 });
    let seq = 0;
    let order = 0;
    const match = (time: number, price: number, quantity: number) => {
      const maker = ++order;
      p.publish([
        {
          sequenceId: ++seq,
          type: 'new',
          time,
          orderId: maker,
          userId: 'a',
          symbol: 'X',
          side: 'sell',
          price,
          quantity,
        },
      ]);
      const taker = ++order;
      p.publish([
        {
          sequenceId: ++seq,
          type: 'new',
          time,
          orderId: taker,
          userId: 'b',
          symbol: 'X',
          side: 'buy',
          price,
          quantity,
        },
        {
          sequenceId: ++seq,
          type: 'fill',
          time,
          symbol: 'X',
          price,
          quantity,
          makerOrderId: maker,
          takerOrderId: taker,
        },
      ]);
    };
    match(10, 100, 2);
    match(999, 103, 1); // the last millisecond of the first window
    match(1000, 101, 3); // exactly at the first window's end: the next window
    match(1999, 105, 1);
    expect(frames.map((f) => f.type === 'candle' && [f.timestamp, f.open, f.high, f.low, f.close, f.volume])).toEqual([
      [0, 100, 100, 100, 100, 2],
      [0, 100, 103, 100, 103, 3],
      [1000, 101, 101, 101, 101, 3],
      [1000, 101, 105, 101, 105, 4],
    ]);
    expect(p.firstFrames('X', { channels: new Set(['candles']), resolution: 1 })).toEqual([
      {
        type: 'candle',
        symbol: 'X',
        seq: 12,
        resolution: 1,
        timestamp: 1000,
        open: 101,
        high: 105,
        low: 101,
        close: 105,
        volume: 4,
      },
    ]);
  });
});
