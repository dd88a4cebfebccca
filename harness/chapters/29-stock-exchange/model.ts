// The model exchange the properties compare with: written for clarity, not speed. Resting orders are a plain list;
// the best opposite order is found by sorting on price, then arrival (price-time priority), every time. Wallets
// move exactly as the spec's funds and holds say. Nothing here is shared with the reference.
import type { Side } from './api.ts';

export const CASH = 'USD';

export interface ModelOrder {
  id: number;
  userId: string;
  side: Side;
  price: number;
  quantity: number;
  filled: number;
  remaining: number;
  status: 'new' | 'partially_filled' | 'filled' | 'canceled';
  /** Arrival order in this model (its place in time priority). */
  arrival: number;
}

export interface ModelFill {
  makerOrderId: number;
  takerOrderId: number;
  price: number;
  quantity: number;
}

export class ModelExchange {
  readonly orders = new Map<number, ModelOrder>();
  readonly resting: ModelOrder[] = [];
  readonly fills: ModelFill[] = [];
  /** userId -> asset -> balance. */
  readonly wallets = new Map<string, Map<string, { available: number; held: number }>>();
  private arrivals = 0;

  wallet(userId: string, asset: string) {
    let w = this.wallets.get(userId);
    if (!w) {
      w = new Map();
      this.wallets.set(userId, w);
    }
    let b = w.get(asset);
    if (!b) {
      b = { available: 0, held: 0 };
      w.set(asset, b);
    }
    return b;
  }

  deposit(userId: string, asset: string, amount: number): void {
    this.wallet(userId, asset).available += amount;
  }

  static hold(side: Side, symbol: string, price: number, quantity: number) {
    return side === 'buy' ? { asset: CASH, amount: price * quantity } : { asset: symbol, amount: quantity };
  }

  /** Whether the order's hold is available (else the spec's insufficient_funds). */
  canHold(userId: string, symbol: string, side: Side, price: number, quantity: number): boolean {
    const h = ModelExchange.hold(side, symbol, price, quantity);
    return (this.wallets.get(userId)?.get(h.asset)?.available ?? 0) >= h.amount;
  }

  /** Places an accepted order with the ID the exchange gave it; returns the fills it made, in order. */
  place(symbol: string, id: number, userId: string, side: Side, price: number, quantity: number): ModelFill[] {
    const taker: ModelOrder = {
      id,
      userId,
      side,
      price,
      quantity,
      filled: 0,
      remaining: quantity,
      status: 'new',
      arrival: this.arrivals++,
    };
    this.orders.set(id, taker);
    const h = ModelExchange.hold(side, symbol, price, quantity);
    this.wallet(userId, h.asset).available -= h.amount;
    this.wallet(userId, h.asset).held += h.amount;
    const made: ModelFill[] = [];
    for (;;) {
      if (taker.remaining === 0) break;
      const candidates = this.resting
        .filter((o) => o.side !== side && (side === 'buy' ? o.price <= price : o.price >= price))
        .sort((a, b) => (side === 'buy' ? a.price - b.price : b.price - a.price) || a.arrival - b.arrival);
      const maker = candidates[0];
      if (!maker) break;
      const q = Math.min(maker.remaining, taker.remaining);
      const fill = { makerOrderId: maker.id, takerOrderId: id, price: maker.price, quantity: q };
      made.push(fill);
      for (const o of [maker, taker]) {
        o.filled += q;
        o.remaining -= q;
        o.status = o.remaining === 0 ? 'filled' : 'partially_filled';
      }
      if (maker.remaining === 0) this.resting.splice(this.resting.indexOf(maker), 1);
      const buy = maker.side === 'buy' ? maker : taker;
      const sell = maker.side === 'buy' ? taker : maker;
      this.wallet(buy.userId, CASH).held -= buy.price * q;
      this.wallet(buy.userId, CASH).available += (buy.price - fill.price) * q;
      this.wallet(buy.userId, symbol).available += q;
      this.wallet(sell.userId, symbol).held -= q;
      this.wallet(sell.userId, CASH).available += fill.price * q;
    }
    if (taker.remaining > 0) this.resting.push(taker);
    this.fills.push(...made);
    return made;
  }

  /** Cancels a resting order; false when it is not resting (filled or canceled: the spec's 409). */
  cancel(symbol: string, id: number): boolean {
    const o = this.orders.get(id);
    const i = o ? this.resting.indexOf(o) : -1;
    if (!o || i < 0) return false;
    this.resting.splice(i, 1);
    const h = ModelExchange.hold(o.side, symbol, o.price, o.remaining);
    this.wallet(o.userId, h.asset).held -= h.amount;
    this.wallet(o.userId, h.asset).available += h.amount;
    o.remaining = 0;
    o.status = 'canceled';
    return true;
  }

  /** The L2 book: per side, price levels best first with the summed remaining quantity. */
  l2(depth = 1000): { bids: { price: number; size: number }[]; asks: { price: number; size: number }[] } {
    const side = (s: Side) => {
      const levels = new Map<number, number>();
      for (const o of this.resting) if (o.side === s) levels.set(o.price, (levels.get(o.price) ?? 0) + o.remaining);
      return [...levels]
        .sort((a, b) => (s === 'buy' ? b[0] - a[0] : a[0] - b[0]))
        .slice(0, depth)
        .map(([price, size]) => ({ price, size }));
    };
    return { bids: side('buy'), asks: side('sell') };
  }
}

/** Candles of trades (time, price, quantity) per window of `resolution` seconds, as the spec defines them. */
export function candlesOf(trades: readonly { time: number; price: number; quantity: number }[], resolution: number) {
  const width = resolution * 1000;
  const out: { timestamp: number; open: number; high: number; low: number; close: number; volume: number }[] = [];
  for (const t of [...trades].sort((a, b) => a.time - b.time)) {
    const timestamp = Math.floor(t.time / width) * width;
    const c = out.find((x) => x.timestamp === timestamp);
    if (!c) out.push({ timestamp, open: t.price, high: t.price, low: t.price, close: t.price, volume: t.quantity });
    else {
      c.high = Math.max(c.high, t.price);
      c.low = Math.min(c.low, t.price);
      c.close = t.price;
      c.volume += t.quantity;
    }
  }
  return out;
}
