// The book's market data publisher: it reads the sequenced event stream (each inbound order or cancel with the fills
// it caused, in log order) and keeps its own L2 book per symbol from it - nothing is read from the matching engine -
// and publishes to the symbol's subscribers a `trade` per fill and one `l2update` per event, each with the symbol's
// next market-data sequence number. A subscriber gets a snapshot of the same book first: taken, labelled and
// registered in one synchronous step, so no update falls between the snapshot and the first update it is sent.
import type { FillEvent, InboundEvent, LogEvent, Side } from './types.ts';

export interface MarketDataFaults {
  /** MUTANT md-emptied-level-dropped: a level that became empty is left out of its update. */
  dropEmptiedLevels?: boolean;
  /** MUTANT md-sequence-skips: the sequence number skips one after every trade. */
  skipSeqAfterTrade?: boolean;
  /** MUTANT md-trade-published-twice: every trade goes out twice, each copy with its own sequence number. */
  tradeTwice?: boolean;
  /** MUTANT md-maker-side-wrong: a level a fill reduced is reported on the taker's side. */
  makerSideWrong?: boolean;
  /** MUTANT md-price-as-string: a trade's price goes out as a decimal string of dollars. */
  priceAsString?: boolean;
  /** MUTANT md-snapshot-depth-limited: a snapshot carries the best 10 levels per side only. */
  snapshotTopLevels?: boolean;
  /** MUTANT md-seq-reset-on-recovery: after the recovery's replay every symbol's seq starts again at 0. */
  resetSeqAfterRecovery?: boolean;
}

export interface Level {
  price: number;
  size: number;
}
export interface Change {
  side: Side;
  price: number;
  size: number;
}
export interface SnapshotFrame {
  type: 'snapshot';
  symbol: string;
  seq: number;
  bids: Level[];
  asks: Level[];
}
export interface UpdateFrame {
  type: 'l2update';
  symbol: string;
  seq: number;
  sequenceId: number;
  changes: Change[];
}
export interface TradeFrame {
  type: 'trade';
  symbol: string;
  seq: number;
  sequenceId: number;
  price: number | string;
  quantity: number;
  makerOrderId: number;
  takerOrderId: number;
  takerSide: Side;
  time: number;
}
export type MarketDataFrame = SnapshotFrame | UpdateFrame | TradeFrame;
export type Subscriber = (frame: MarketDataFrame) => void;

interface Feed {
  seq: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
  subscribers: Set<Subscriber>;
}

/** What the publisher knows of a resting order: enough to take it off its level on a fill or cancel. */
interface Resting {
  symbol: string;
  side: Side;
  price: number;
  remaining: number;
}

export class MarketDataPublisher {
  private readonly feeds = new Map<string, Feed>();
  private readonly resting = new Map<number, Resting>();

  constructor(private readonly faults: MarketDataFaults = {}) {}

  private feed(symbol: string): Feed {
    let f = this.feeds.get(symbol);
    if (!f) {
      f = { seq: 0, bids: new Map(), asks: new Map(), subscribers: new Set() };
      this.feeds.set(symbol, f);
    }
    return f;
  }

  /** One inbound event and the fills it caused, as the sequencer logged them; recovery feeds the whole log. */
  publish(events: readonly LogEvent[]): void {
    const [inbound, ...fills] = events as [InboundEvent, ...FillEvent[]];
    if (!inbound || inbound.type === 'deposit') return;
    const changed = new Map<string, { side: Side; price: number }>();
    let symbol: string;
    if (inbound.type === 'new') {
      symbol = inbound.symbol;
      const feed = this.feed(symbol);
      let remaining = inbound.quantity;
      for (const fill of fills) {
        const maker = this.resting.get(fill.makerOrderId)!;
        maker.remaining -= fill.quantity;
        if (maker.remaining === 0) this.resting.delete(fill.makerOrderId);
        this.move(feed, maker.side, maker.price, -fill.quantity);
        // MUTANT md-maker-side-wrong: the change is filed under the taker's side.
        const side = this.faults.makerSideWrong ? inbound.side : maker.side;
        changed.set(`${side} ${maker.price}`, { side, price: maker.price });
        remaining -= fill.quantity;
        this.trade(feed, fill, inbound.side);
      }
      if (remaining > 0) {
        this.resting.set(inbound.orderId, { symbol, side: inbound.side, price: inbound.price, remaining });
        this.move(feed, inbound.side, inbound.price, remaining);
        changed.set(`${inbound.side} ${inbound.price}`, { side: inbound.side, price: inbound.price });
      }
    } else {
      const order = this.resting.get(inbound.orderId);
      if (!order) return; // not resting: the cancel changed no level
      this.resting.delete(inbound.orderId);
      symbol = order.symbol;
      this.move(this.feed(symbol), order.side, order.price, -order.remaining);
      changed.set(`${order.side} ${order.price}`, { side: order.side, price: order.price });
    }
    const feed = this.feed(symbol);
    const changes = [...changed.values()]
      .map((c) => ({ ...c, size: (c.side === 'buy' ? feed.bids : feed.asks).get(c.price) ?? 0 }))
      // MUTANT md-emptied-level-dropped: levels that became empty are not reported.
      .filter((c) => !this.faults.dropEmptiedLevels || c.size > 0);
    if (changes.length === 0) return;
    this.send(feed, { type: 'l2update', symbol, seq: ++feed.seq, sequenceId: inbound.sequenceId, changes });
  }

  private trade(feed: Feed, fill: FillEvent, takerSide: Side): void {
    const copies = this.faults.tradeTwice ? 2 : 1; // MUTANT md-trade-published-twice
    for (let i = 0; i < copies; i++)
      this.send(feed, {
        type: 'trade',
        symbol: fill.symbol,
        seq: ++feed.seq,
        sequenceId: fill.sequenceId,
        // MUTANT md-price-as-string: dollars as a string, the way some feeds send prices.
        price: this.faults.priceAsString ? (fill.price / 100).toFixed(2) : fill.price,
        quantity: fill.quantity,
        makerOrderId: fill.makerOrderId,
        takerOrderId: fill.takerOrderId,
        takerSide,
        time: fill.time,
      });
    if (this.faults.skipSeqAfterTrade) feed.seq++; // MUTANT md-sequence-skips
  }

  private move(feed: Feed, side: Side, price: number, by: number): void {
    const levels = side === 'buy' ? feed.bids : feed.asks;
    const size = (levels.get(price) ?? 0) + by;
    if (size > 0) levels.set(price, size);
    else levels.delete(price);
  }

  private send(feed: Feed, frame: MarketDataFrame): void {
    for (const s of feed.subscribers) s(frame);
  }

  /** The symbol's whole book as of its last update. */
  snapshot(symbol: string): SnapshotFrame {
    const feed = this.feed(symbol);
    const sorted = (levels: Map<number, number>, descending: boolean) =>
      [...levels].sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0])).map(([price, size]) => ({ price, size }));
    const frame: SnapshotFrame = {
      type: 'snapshot',
      symbol,
      seq: feed.seq,
      bids: sorted(feed.bids, true),
      asks: sorted(feed.asks, false),
    };
    // MUTANT md-snapshot-depth-limited: GET L2's default depth, 10 levels a side.
    if (this.faults.snapshotTopLevels)
      return { ...frame, bids: frame.bids.slice(0, 10), asks: frame.asks.slice(0, 10) };
    return frame;
  }

  /** MUTANT md-seq-reset-on-recovery: the book is kept, the sequence numbers start again (seq is not the log's). */
  recovered(): void {
    if (this.faults.resetSeqAfterRecovery) for (const feed of this.feeds.values()) feed.seq = 0;
  }

  /** Registers a subscriber; returns the function that unregisters it. */
  subscribe(symbol: string, subscriber: Subscriber): () => void {
    const feed = this.feed(symbol);
    feed.subscribers.add(subscriber);
    return () => feed.subscribers.delete(subscriber);
  }
}
