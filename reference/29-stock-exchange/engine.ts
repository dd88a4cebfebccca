// The exchange's state as a pure function of the sequenced inbound events: wallets and holds, orders, the order
// books, fills and the daily risk counters. Nothing here reads a clock or a random number (the book's functional
// determinism), so replaying the event log into a fresh engine gives the same state byte for byte; the order
// manager's checks (risk, funds, duplicates) read this state before an event is sequenced.
import { OrderBook, type RestingOrder } from './order-book.ts';
import type { FillEvent, InboundEvent, Order, Side } from './types.ts';

export const CASH = 'USD';
/**
 * The book's example risk rule: at most 1,000,000 shares of one symbol per user per UTC day, the day of the order's
 * sequenced time (so a replay of the log counts every order in the day it was checked in).
 */
export const DAILY_LIMIT = 1_000_000;
const DAY_MS = 86_400_000;

export interface EngineFaults {
  /** MUTANT fifo-broken */
  lifo?: boolean;
  /** MUTANT partial-fill-loses-quantity */
  dropPartlyFilledMaker?: boolean;
  /** MUTANT wall-clock-in-matching */
  wallClock?: boolean;
  /** MUTANT hold-not-released */
  keepPriceImprovement?: boolean;
  /** MUTANT client-order-id-global */
  clientIdsGlobal?: boolean;
  /** MUTANT client-order-ids-lost-on-restart: the order manager indexes clientOrderIds, so a replay does not. */
  clientIdsOutsideEngine?: boolean;
  /** MUTANT order-ids-reused-after-restart: the order manager counts order IDs, so a replay does not advance them. */
  orderIdsOutsideEngine?: boolean;
  /** MUTANT risk-day-never-resets: one risk window for ever, not one a day. */
  riskNeverResets?: boolean;
  /** MUTANT risk-day-from-clock: the exchange's clock when an order is applied picks its risk day (a replay: today). */
  riskDayClock?: () => number;
}

export interface Balance {
  available: number;
  held: number;
}

export class Engine {
  readonly orders = new Map<number, Order>();
  readonly books = new Map<string, OrderBook>();
  readonly wallets = new Map<string, Map<string, Balance>>();
  readonly fillsBySymbol = new Map<string, FillEvent[]>();
  /** `${userId}\n${symbol}\n${day}` -> shares ordered. */
  readonly traded = new Map<string, number>();
  readonly byClientOrderId = new Map<string, number>();
  nextOrderId = 1;

  constructor(private readonly faults: EngineFaults = {}) {}

  book(symbol: string): OrderBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = new OrderBook(this.faults.lifo);
      this.books.set(symbol, b);
    }
    return b;
  }

  balance(userId: string, asset: string): Balance {
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

  /** Client order IDs are per user: the same ID from two users names two orders. */
  clientKey(userId: string, clientOrderId: string): string {
    return this.faults.clientIdsGlobal ? clientOrderId : `${userId}\n${clientOrderId}`; // MUTANT client-order-id-global
  }

  static dayOf(time: number): number {
    return Math.floor(time / DAY_MS);
  }

  /** The risk day an order sequenced at `time` counts in: its UTC day, never a clock read here. */
  riskDay(time: number): number {
    if (this.faults.riskNeverResets) return 0; // MUTANT risk-day-never-resets
    return Engine.dayOf(this.faults.riskDayClock?.() ?? time); // MUTANT risk-day-from-clock
  }

  tradedKey(userId: string, symbol: string, time: number): string {
    return `${userId}\n${symbol}\n${this.riskDay(time)}`;
  }

  /** What a new order must hold: cash for a buy, shares for a sell. */
  static holdOf(side: Side, symbol: string, price: number, quantity: number): { asset: string; amount: number } {
    return side === 'buy' ? { asset: CASH, amount: price * quantity } : { asset: symbol, amount: quantity };
  }

  /** Applies one sequenced inbound event; `stamp` gives each fill it causes the next sequence ID. */
  apply(e: InboundEvent, stamp: () => number): FillEvent[] {
    switch (e.type) {
      case 'deposit':
        this.balance(e.userId, e.asset).available += e.amount;
        return [];
      case 'cancel':
        this.cancel(e.orderId);
        return [];
      case 'new':
        return this.placeNew(e, stamp);
    }
  }

  private cancel(orderId: number): void {
    const order = this.orders.get(orderId)!;
    const resting = this.book(order.symbol).remove(orderId);
    if (resting) {
      const hold = Engine.holdOf(order.side, order.symbol, order.price, resting.remaining);
      const b = this.balance(order.userId, hold.asset);
      b.held -= hold.amount;
      b.available += hold.amount;
    }
    order.remainingQuantity = 0;
    order.status = 'canceled';
  }

  private placeNew(e: Extract<InboundEvent, { type: 'new' }>, stamp: () => number): FillEvent[] {
    const order: Order = {
      id: e.orderId,
      clientOrderId: e.clientOrderId ?? null,
      userId: e.userId,
      symbol: e.symbol,
      side: e.side,
      price: e.price,
      orderType: 'limit',
      quantity: e.quantity,
      filledQuantity: 0,
      remainingQuantity: e.quantity,
      status: 'new',
      creationTime: e.time,
      sequenceId: e.sequenceId,
    };
    this.orders.set(order.id, order);
    if (!this.faults.orderIdsOutsideEngine) this.nextOrderId = Math.max(this.nextOrderId, order.id + 1);
    if (order.clientOrderId !== null && !this.faults.clientIdsOutsideEngine)
      this.byClientOrderId.set(this.clientKey(order.userId, order.clientOrderId), order.id);
    const key = this.tradedKey(order.userId, order.symbol, e.time);
    this.traded.set(key, (this.traded.get(key) ?? 0) + order.quantity);
    const hold = Engine.holdOf(order.side, order.symbol, order.price, order.quantity);
    const hb = this.balance(order.userId, hold.asset);
    hb.available -= hold.amount;
    hb.held += hold.amount;
    return this.match(order, e.time, stamp);
  }

  /** Price-time priority: the best opposite level first, and within it the oldest order (the list's head). */
  private match(taker: Order, time: number, stamp: () => number): FillEvent[] {
    const book = this.book(taker.symbol);
    const opposite = book.side(taker.side === 'buy' ? 'sell' : 'buy');
    const crosses = (p: number) => (taker.side === 'buy' ? p <= taker.price : p >= taker.price);
    const fills: FillEvent[] = [];
    for (let level = opposite.best(); level && taker.remainingQuantity > 0 && crosses(level.price); ) {
      const maker = level.head!;
      const q = Math.min(maker.remaining, taker.remainingQuantity);
      const fill: FillEvent = {
        sequenceId: stamp(),
        type: 'fill',
        // The taker's sequenced time, never a clock: a replay must give the same fill.
        time: this.faults.wallClock ? Date.now() : time, // MUTANT wall-clock-in-matching
        symbol: taker.symbol,
        price: level.price,
        quantity: q,
        makerOrderId: maker.id,
        takerOrderId: taker.id,
      };
      fills.push(fill);
      this.settle(fill);
      book.reduce(maker, q);
      // MUTANT partial-fill-loses-quantity: a maker left with shares is dropped from the book (its rest is lost).
      if (this.faults.dropPartlyFilledMaker && maker.remaining > 0) book.remove(maker.id);
      level = opposite.best();
    }
    if (taker.remainingQuantity > 0) {
      const resting: RestingOrder = {
        id: taker.id,
        side: taker.side,
        price: taker.price,
        remaining: taker.remainingQuantity,
        prev: null,
        next: null,
        level: null,
      };
      book.add(resting);
    }
    let list = this.fillsBySymbol.get(taker.symbol);
    if (!list) {
      list = [];
      this.fillsBySymbol.set(taker.symbol, list);
    }
    list.push(...fills);
    return fills;
  }

  /** Moves the held cash and shares of one match, at the maker's price; a buy below its limit gets the rest back. */
  private settle(f: FillEvent): void {
    const maker = this.orders.get(f.makerOrderId)!;
    const taker = this.orders.get(f.takerOrderId)!;
    for (const o of [maker, taker]) {
      o.filledQuantity += f.quantity;
      o.remainingQuantity -= f.quantity;
      o.status = o.remainingQuantity === 0 ? 'filled' : 'partially_filled';
    }
    const buy = maker.side === 'buy' ? maker : taker;
    const sell = maker.side === 'buy' ? taker : maker;
    const buyerCash = this.balance(buy.userId, CASH);
    buyerCash.held -= buy.price * f.quantity;
    if (!this.faults.keepPriceImprovement) buyerCash.available += (buy.price - f.price) * f.quantity; // MUTANT hold-not-released
    this.balance(buy.userId, f.symbol).available += f.quantity;
    this.balance(sell.userId, f.symbol).held -= f.quantity;
    this.balance(sell.userId, CASH).available += f.price * f.quantity;
  }

  /** Forgets everything, as a fresh engine (the exchange replays what its log holds into it after a lost write). */
  reset(): void {
    for (const m of [this.orders, this.books, this.wallets, this.fillsBySymbol, this.traded, this.byClientOrderId])
      m.clear();
    this.nextOrderId = 1;
  }

  /**
   * Whose balance the fills a new order would make now take past 2^53 - 1 (a buyer's shares, a seller's cash; the
   * order's user or a resting order's owner), walking the book without changing it; null when none. Every balance
   * grows only by a deposit or a fill, so refusing these keeps each one an exact integer.
   */
  overflowOf(userId: string, symbol: string, side: Side, price: number, quantity: number): string | null {
    const book = this.books.get(symbol);
    if (!book) return null;
    const totals = new Map<string, number>();
    const grows = (user: string, asset: string, amount: number): boolean => {
      const k = `${user}\n${asset}`;
      const b = this.wallets.get(user)?.get(asset);
      const total = (totals.get(k) ?? (b ? b.available + b.held : 0)) + amount;
      totals.set(k, total);
      return total > Number.MAX_SAFE_INTEGER;
    };
    const opposite = book.side(side === 'buy' ? 'sell' : 'buy');
    let left = quantity;
    for (const p of opposite.prices) {
      if (left === 0 || (side === 'buy' ? p > price : p < price)) break;
      for (let o = opposite.levels.get(p)!.head; o && left > 0; o = o.next) {
        const q = Math.min(o.remaining, left);
        left -= q;
        const maker = this.orders.get(o.id)!.userId;
        const [buyer, seller] = side === 'buy' ? [userId, maker] : [maker, userId];
        if (grows(buyer, symbol, q)) return buyer;
        if (grows(seller, CASH, p * q)) return seller;
      }
    }
    return null;
  }
}
