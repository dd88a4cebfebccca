// The order book's structure and the engine's determinism, in process: what the wire checks cannot see directly.
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { OrderBook, type RestingOrder } from './order-book.ts';
import type { FillEvent, InboundEvent } from './types.ts';

const resting = (id: number, side: 'buy' | 'sell', price: number, remaining: number): RestingOrder => ({
  id,
  side,
  price,
  remaining,
  prev: null,
  next: null,
  level: null,
});

describe('order book', () => {
  it('keeps FIFO within a level, unlinks from the middle and keeps level totals and best prices', () => {
    const b = new OrderBook();
    for (const [id, price, q] of [
      [1, 100, 5],
      [2, 100, 7],
      [3, 100, 9],
      [4, 101, 1],
      [5, 99, 2],
    ] as const)
      b.add(resting(id, 'sell', price, q));
    expect(b.sellBook.prices).toEqual([99, 100, 101]);
    b.remove(2);
    const level = b.sellBook.levels.get(100)!;
    expect(level.head!.id).toBe(1);
    expect(level.head!.next!.id).toBe(3);
    expect(level.tail!.prev!.id).toBe(1);
    expect(level.totalVolume).toBe(14);
    b.reduce(b.sellBook.best()!.head!, 2);
    expect(b.sellBook.prices).toEqual([100, 101]);
    expect(b.orderMap.has(5)).toBe(false);
    expect(b.sellBook.depth(1)).toEqual([{ price: 100, size: 14 }]);
  });
});

describe('engine', () => {
  const events = (): InboundEvent[] => {
    const out: InboundEvent[] = [];
    let seq = 0;
    out.push({ sequenceId: ++seq, type: 'deposit', time: 1, userId: 'a', asset: 'USD', amount: 1_000_000 });
    out.push({ sequenceId: ++seq, type: 'deposit', time: 1, userId: 'b', asset: 'X', amount: 1_000 });
    let id = 1;
    for (let i = 0; i < 40; i++) {
      const side = i % 3 === 0 ? 'buy' : 'sell';
      out.push({
        sequenceId: ++seq,
        type: 'new',
        time: 10 + i,
        orderId: id++,
        userId: side === 'buy' ? 'a' : 'b',
        symbol: 'X',
        side,
        price: 100 + ((i * 7) % 5),
        quantity: 1 + ((i * 5) % 4),
      });
      seq += 10; // room for the fills the engine stamps
    }
    return out;
  };
  const run = (faults = {}) => {
    const e = new Engine(faults);
    const fills: FillEvent[] = [];
    for (const ev of events()) {
      let s = ev.sequenceId;
      fills.push(...e.apply(ev, () => ++s));
    }
    return { e, fills };
  };

  it('replays the same events into the same fills, orders and wallets', () => {
    const one = run();
    const two = run();
    expect(one.fills.length).toBeGreaterThan(0);
    expect(JSON.stringify(two.fills)).toBe(JSON.stringify(one.fills));
    expect(JSON.stringify([...two.e.orders])).toBe(JSON.stringify([...one.e.orders]));
    expect(JSON.stringify([...two.e.wallets].map(([u, w]) => [u, [...w]]))).toBe(
      JSON.stringify([...one.e.wallets].map(([u, w]) => [u, [...w]])),
    );
    // Every fill's time is its taker's sequenced time.
    for (const f of one.fills) expect(f.time).toBe(one.e.orders.get(f.takerOrderId)!.creationTime);
  });

  it("counts each order in the UTC day of its sequenced time: the last millisecond of a day, then the next day's first", () => {
    const e = new Engine();
    const midnight = Date.UTC(2026, 11, 8);
    e.apply({ sequenceId: 1, type: 'deposit', time: 1, userId: 'a', asset: 'USD', amount: 10 }, () => 0);
    for (const [sequenceId, time] of [
      [2, midnight - 1],
      [3, midnight],
    ] as const)
      e.apply(
        {
          sequenceId,
          type: 'new',
          time,
          orderId: sequenceId,
          userId: 'a',
          symbol: 'X',
          side: 'buy',
          price: 1,
          quantity: 5,
        },
        () => 0,
      );
    expect(e.traded.get(e.tradedKey('a', 'X', midnight - 1))).toBe(5);
    expect(e.traded.get(e.tradedKey('a', 'X', midnight))).toBe(5);
    expect(e.riskDay(midnight) - e.riskDay(midnight - 1)).toBe(1);
  });

  it('conserves cash and shares across fills', () => {
    const { e } = run();
    const total = (asset: string) =>
      [...e.wallets.values()].reduce((n, w) => n + (w.get(asset)?.available ?? 0) + (w.get(asset)?.held ?? 0), 0);
    expect(total('USD')).toBe(1_000_000);
    expect(total('X')).toBe(1_000);
  });
});
