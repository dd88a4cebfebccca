// The book's market data publisher: it reads the sequenced event stream (each inbound order or cancel with the fills
// it caused, in log order) and keeps its own L2 book per symbol from it - nothing is read from the matching engine -
// and publishes to the symbol's subscribers a `trade` per fill and one `l2update` per event, each with the symbol's
// next market-data sequence number. From the same events it derives the top of the book (L1), sent after an update
// that changed it, and the candles (candles.ts), sent after each trade; both carry the seq of the update they
// reflect. A subscriber gets its channels' first frames (the snapshot of the same book, the top, the last candle)
// taken, labelled and registered in one synchronous step, so no update falls between them and the first update.
import { type Candle, type CandleFaults, CandleSet, type Resolution } from './candles.ts';
import type { FillEvent, InboundEvent, LogEvent, Side } from './types.ts';

export interface MarketDataFaults extends CandleFaults {
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
  /** MUTANT md-l1-stale: an l1 frame carries the top as it was before the update that changed it. */
  l1Stale?: boolean;
  /** MUTANT md-l1-sides-swapped: an l1 frame's best bid and best ask are swapped. */
  l1SidesSwapped?: boolean;
  /** MUTANT md-l1-size-change-missed: an l1 frame is sent only when a best price changes, not a best size. */
  l1PriceOnly?: boolean;
  /** MUTANT md-candles-only-while-watched: fills go into the candles only while a candles subscriber watches. */
  candlesOnlyWatched?: boolean;
}

export type Channel = 'l2' | 'l1' | 'candles';

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
export interface L1Frame {
  type: 'l1';
  symbol: string;
  seq: number;
  bid: Level | null;
  ask: Level | null;
}
export interface CandleFrame extends Candle {
  type: 'candle';
  symbol: string;
  seq: number;
}
export type MarketDataFrame = SnapshotFrame | UpdateFrame | TradeFrame | L1Frame | CandleFrame;
export type Send = (frame: MarketDataFrame) => void;

/** A subscription: its channels (the default is `l2` alone) and the candle resolution in seconds. */
export interface Subscription {
  channels: ReadonlySet<Channel>;
  resolution: Resolution;
}
const L2_ONLY: Subscription = { channels: new Set<Channel>(['l2']), resolution: 60 };

interface Subscriber extends Subscription {
  send: Send;
}

interface Feed {
  seq: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
  candles: CandleSet;
  subscribers: Set<Subscriber>;
}

/** What the publisher knows of a resting order: enough to take it off its level on a fill or cancel. */
interface Resting {
  symbol: string;
  side: Side;
  price: number;
  remaining: number;
}

interface Top {
  bid: Level | null;
  ask: Level | null;
}

/** The best level of one side: the highest bid or the lowest ask (a scan of the side's levels). */
function best(levels: Map<number, number>, highest: boolean): Level | null {
  let price: number | undefined;
  for (const p of levels.keys()) if (price === undefined || (highest ? p > price : p < price)) price = p;
  return price === undefined ? null : { price, size: levels.get(price)! };
}

const sameLevel = (a: Level | null, b: Level | null, sizeToo: boolean) =>
  a === null || b === null ? a === b : a.price === b.price && (!sizeToo || a.size === b.size);

export class MarketDataPublisher {
  private readonly feeds = new Map<string, Feed>();
  private readonly resting = new Map<number, Resting>();

  constructor(private readonly faults: MarketDataFaults = {}) {}

  private feed(symbol: string): Feed {
    let f = this.feeds.get(symbol);
    if (!f) {
      f = { seq: 0, bids: new Map(), asks: new Map(), candles: new CandleSet(this.faults), subscribers: new Set() };
      if (this.faults.candlesOnlyWatched) {
        // MUTANT md-candles-only-while-watched: a fill nobody watches on the candles channel never reaches them.
        const feed = f;
        const add = f.candles.add.bind(f.candles);
        f.candles.add = (time, price, quantity) => {
          if ([...feed.subscribers].some((s) => s.channels.has('candles'))) add(time, price, quantity);
        };
      }
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
    let before: Top | undefined;
    if (inbound.type === 'new') {
      symbol = inbound.symbol;
      const feed = this.feed(symbol);
      before = this.topIfWatched(feed);
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
      before = this.topIfWatched(this.feed(symbol));
      this.move(this.feed(symbol), order.side, order.price, -order.remaining);
      changed.set(`${order.side} ${order.price}`, { side: order.side, price: order.price });
    }
    const feed = this.feed(symbol);
    const changes = [...changed.values()]
      .map((c) => ({ ...c, size: (c.side === 'buy' ? feed.bids : feed.asks).get(c.price) ?? 0 }))
      // MUTANT md-emptied-level-dropped: levels that became empty are not reported.
      .filter((c) => !this.faults.dropEmptiedLevels || c.size > 0);
    if (changes.length === 0) return;
    this.send(feed, 'l2', { type: 'l2update', symbol, seq: ++feed.seq, sequenceId: inbound.sequenceId, changes });
    if (!before) return;
    const after = this.top(feed);
    // MUTANT md-l1-size-change-missed: only a new best price counts as a change of the top.
    const sizeToo = !this.faults.l1PriceOnly;
    if (!sameLevel(before.bid, after.bid, sizeToo) || !sameLevel(before.ask, after.ask, sizeToo))
      this.send(feed, 'l1', this.l1Frame(symbol, feed.seq, this.faults.l1Stale ? before : after)); // MUTANT md-l1-stale
  }

  private trade(feed: Feed, fill: FillEvent, takerSide: Side): void {
    const copies = this.faults.tradeTwice ? 2 : 1; // MUTANT md-trade-published-twice
    feed.candles.add(fill.time, fill.price, fill.quantity);
    for (let i = 0; i < copies; i++)
      this.send(feed, 'l2', {
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
    for (const s of feed.subscribers)
      if (s.channels.has('candles')) s.send(this.candleFrame(fill.symbol, feed, s.resolution)!);
    if (this.faults.skipSeqAfterTrade) feed.seq++; // MUTANT md-sequence-skips
  }

  private move(feed: Feed, side: Side, price: number, by: number): void {
    const levels = side === 'buy' ? feed.bids : feed.asks;
    const size = (levels.get(price) ?? 0) + by;
    if (size > 0) levels.set(price, size);
    else levels.delete(price);
  }

  private send(feed: Feed, channel: Channel, frame: MarketDataFrame): void {
    for (const s of feed.subscribers) if (s.channels.has(channel)) s.send(frame);
  }

  /** The top before an event, only when a subscriber of the l1 channel will need to compare it (a scan per side). */
  private topIfWatched(feed: Feed): Top | undefined {
    for (const s of feed.subscribers) if (s.channels.has('l1')) return this.top(feed);
    return undefined;
  }

  private top(feed: Feed): Top {
    return { bid: best(feed.bids, true), ask: best(feed.asks, false) };
  }

  private l1Frame(symbol: string, seq: number, top: Top): L1Frame {
    // MUTANT md-l1-sides-swapped: the best ask goes out as the bid and the best bid as the ask.
    if (this.faults.l1SidesSwapped) return { type: 'l1', symbol, seq, bid: top.ask, ask: top.bid };
    return { type: 'l1', symbol, seq, bid: top.bid, ask: top.ask };
  }

  private candleFrame(symbol: string, feed: Feed, resolution: Resolution): CandleFrame | undefined {
    const c = feed.candles.last(resolution);
    return c && { type: 'candle', symbol, seq: feed.seq, ...c };
  }

  /** The kept candles of a symbol at a resolution, oldest first (GET candles' source; no feed made for a query). */
  candles(symbol: string, resolution: Resolution): Candle[] {
    return this.feeds.get(symbol)?.candles.history(resolution) ?? [];
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

  /** A new subscriber's first frames, as of the symbol's last update: snapshot (l2), top (l1), last candle. */
  firstFrames(symbol: string, sub: Subscription = L2_ONLY): MarketDataFrame[] {
    const feed = this.feed(symbol);
    const frames: MarketDataFrame[] = [];
    if (sub.channels.has('l2')) frames.push(this.snapshot(symbol));
    if (sub.channels.has('l1')) frames.push(this.l1Frame(symbol, feed.seq, this.top(feed)));
    const candle = sub.channels.has('candles') ? this.candleFrame(symbol, feed, sub.resolution) : undefined;
    if (candle) frames.push(candle);
    return frames;
  }

  /** MUTANT md-seq-reset-on-recovery: the book is kept, the sequence numbers start again (seq is not the log's). */
  recovered(): void {
    if (this.faults.resetSeqAfterRecovery) for (const feed of this.feeds.values()) feed.seq = 0;
  }

  /** Registers a subscriber (by default of the l2 channel alone); returns the function that unregisters it. */
  subscribe(symbol: string, send: Send, sub: Subscription = L2_ONLY): () => void {
    const feed = this.feed(symbol);
    const s: Subscriber = { ...sub, send };
    feed.subscribers.add(s);
    return () => feed.subscribers.delete(s);
  }
}
