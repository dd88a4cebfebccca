// One symbol's order book, the book's data structure: per side a map from price to a price level, each level a
// doubly linked list of resting orders (oldest at the head), and an order map from ID to its list node. Adding an
// order to a known level, matching at the head and cancelling any order are O(1); the best price per side comes
// from a sorted array of the level prices (a new or emptied level costs a binary search and a splice).
import type { Side } from './types.ts';

export interface RestingOrder {
  id: number;
  side: Side;
  price: number;
  /** Shares still to execute. */
  remaining: number;
  prev: RestingOrder | null;
  next: RestingOrder | null;
  level: PriceLevel | null;
}

export class PriceLevel {
  head: RestingOrder | null = null;
  tail: RestingOrder | null = null;
  /** Sum of the remaining quantity of the orders here (the L2 size). */
  totalVolume = 0;
  constructor(readonly price: number) {}

  pushTail(o: RestingOrder): void {
    o.level = this;
    o.prev = this.tail;
    o.next = null;
    if (this.tail) this.tail.next = o;
    else this.head = o;
    this.tail = o;
    this.totalVolume += o.remaining;
  }

  /** MUTANT fifo-broken puts a newcomer first: the level becomes last-in, first-out. */
  pushHead(o: RestingOrder): void {
    o.level = this;
    o.next = this.head;
    o.prev = null;
    if (this.head) this.head.prev = o;
    else this.tail = o;
    this.head = o;
    this.totalVolume += o.remaining;
  }

  unlink(o: RestingOrder): void {
    if (o.prev) o.prev.next = o.next;
    else this.head = o.next;
    if (o.next) o.next.prev = o.prev;
    else this.tail = o.prev;
    this.totalVolume -= o.remaining;
    o.prev = o.next = o.level = null;
  }

  get empty(): boolean {
    return this.head === null;
  }
}

class BookSide {
  readonly levels = new Map<number, PriceLevel>();
  /** Level prices, best first (bids descending, asks ascending). */
  readonly prices: number[] = [];
  constructor(readonly side: Side) {}

  private better(a: number, b: number): boolean {
    return this.side === 'buy' ? a > b : a < b;
  }

  levelFor(price: number): PriceLevel {
    let level = this.levels.get(price);
    if (level) return level;
    level = new PriceLevel(price);
    this.levels.set(price, level);
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.better(this.prices[mid]!, price)) lo = mid + 1;
      else hi = mid;
    }
    this.prices.splice(lo, 0, price);
    return level;
  }

  dropIfEmpty(level: PriceLevel): void {
    if (!level.empty) return;
    this.levels.delete(level.price);
    const i = this.prices.indexOf(level.price);
    if (i >= 0) this.prices.splice(i, 1);
  }

  best(): PriceLevel | undefined {
    const p = this.prices[0];
    return p === undefined ? undefined : this.levels.get(p);
  }

  depth(n: number): { price: number; size: number }[] {
    return this.prices.slice(0, n).map((price) => ({ price, size: this.levels.get(price)!.totalVolume }));
  }
}

export class OrderBook {
  readonly buyBook = new BookSide('buy');
  readonly sellBook = new BookSide('sell');
  readonly orderMap = new Map<number, RestingOrder>();

  constructor(private readonly lifo = false) {}

  side(s: Side): BookSide {
    return s === 'buy' ? this.buyBook : this.sellBook;
  }

  /** Rests an order at the tail of its price level. */
  add(o: RestingOrder): void {
    const level = this.side(o.side).levelFor(o.price);
    if (this.lifo) level.pushHead(o);
    else level.pushTail(o);
    this.orderMap.set(o.id, o);
  }

  remove(id: number): RestingOrder | undefined {
    const o = this.orderMap.get(id);
    if (!o) return undefined;
    const level = o.level!;
    level.unlink(o);
    this.side(o.side).dropIfEmpty(level);
    this.orderMap.delete(id);
    return o;
  }

  /** Takes `q` shares from the head order of a level (the caller matched it); removes it when none are left. */
  reduce(o: RestingOrder, q: number): void {
    o.remaining -= q;
    o.level!.totalVolume -= q;
    if (o.remaining === 0) this.remove(o.id);
  }
}
