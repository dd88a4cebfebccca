// The micro-benchmark's order flow, made and verified with both engines side by side: a seeded stream of limit
// orders around a fixed mid price (a share priced through it, so they trade) and cancels of resting orders, applied
// at once to the reference matching engine and to nodejs-order-book. Every event's fills (maker, price, quantity),
// every cancel's remaining quantity and, at checkpoints and at the end, both whole books (every level, its orders in
// time order with what they have left) must be the same: engines that executed the flow differently are not timed.
import { createRequire } from 'node:module';
import { CASH, Engine, type EngineFaults } from '../../../reference/29-stock-exchange/engine.ts';
import type { InboundEvent, Side } from '../../../reference/29-stock-exchange/types.ts';
import { seededRandom } from '../../fakes/prng.ts';

/** nodejs-order-book's limit order as it answers it (`toObject()`): its ID is a string, `size` what is left. */
export interface PeerOrder {
  id: string;
  price: number;
  size: number;
}

export interface PeerLimit {
  id: string;
  side: Side;
  size: number;
  price: number;
}

interface PeerResult {
  /** Makers filled whole by this order, in match order, then the order itself if it filled whole. */
  done: PeerOrder[];
  /** The order left partly filled (a maker, or the taker resting with its rest), if any. */
  partial: PeerOrder | null;
  partialQuantityProcessed: number;
  err: { message: string } | null;
}

export interface PeerBook {
  limit(o: PeerLimit): PeerResult;
  cancel(id: string): { order?: PeerOrder } | undefined;
  order(id: string): PeerOrder | undefined;
  snapshot(): { bids: { price: number; orders: PeerOrder[] }[]; asks: { price: number; orders: PeerOrder[] }[] };
}

// Its package.json points `types` at a file it does not ship and its ESM build has extensionless imports: the
// CommonJS build, typed by the interfaces above (the part of its API used here).
export const PeerOrderBook = (createRequire(import.meta.url)('nodejs-order-book') as { OrderBook: new () => PeerBook })
  .OrderBook;

/** One event as the peer takes it: a limit order or the cancel of an order ID. */
export interface PeerOp {
  limit?: PeerLimit;
  cancel?: string;
}

export interface FlowSettings {
  events: number;
  seed: number;
}

export const SYMBOL = 'BENCH';
/** 10:30 New York on a trading day; one millisecond per event keeps a flow within one UTC day (the risk counter's). */
const FLOW_START = Date.UTC(2026, 0, 5, 15, 30);
const USERS = 1000;
/** $100.00 in cents; a tick is one cent. */
const MID = 10_000;
const CROSSING_SHARE = 0.2;
/** The resting orders the cancel rate steers towards (exchange-core's benchmark keeps about 1,000). */
const TARGET_RESTING = 1000;
const CHECK_EVERY = 5000;

export interface FlowStats {
  events: number;
  orders: number;
  cancels: number;
  crossing: number;
  fills: number;
  sharesFilled: number;
  /** Mean resting orders and price levels (both sides) over the flow. */
  meanResting: number;
  meanLevels: number;
}

export interface OrderFlow {
  /** The events as the reference engine takes them (sequenced inbound events). */
  events: InboundEvent[];
  /** The same events as nodejs-order-book's calls. */
  peerOps: PeerOp[];
  stats: FlowStats;
  /** The first difference between the two engines, or null when every fill, cancel and book agreed. */
  mismatch: string | null;
}

/** A fresh reference engine whose 1,000 users can afford anything in the flow (funds are the order manager's check). */
export function freshEngine(faults: EngineFaults = {}): Engine {
  const e = new Engine(faults);
  for (let u = 0; u < USERS; u++) {
    e.balance(`u${u}`, CASH).available = 1e13;
    e.balance(`u${u}`, SYMBOL).available = 1e9;
  }
  return e;
}

type Execution = [maker: string, price: number, quantity: number];
const show = (xs: Execution[]) => (xs.length ? xs.map(([m, p, q]) => `${q}@${p} from ${m}`).join(', ') : 'none');

/** The peer's answer as executions: whole makers in match order, then a maker left partly filled (the last match). */
function peerExecutions(r: PeerResult, takerId: string): Execution[] {
  const out: Execution[] = r.done.filter((o) => o.id !== takerId).map((o) => [o.id, o.price, o.size]);
  if (r.partial && r.partial.id !== takerId && r.partialQuantityProcessed > 0)
    out.push([r.partial.id, r.partial.price, r.partialQuantityProcessed]);
  return out;
}

/** Both books as text: each side best price first, each level's orders oldest first with what they have left. */
function books(engine: Engine, peer: PeerBook): { ours: string; theirs: string } {
  const book = engine.book(SYMBOL);
  const side = (s: 'buy' | 'sell') =>
    book.side(s).prices.map((price) => {
      const ids: string[] = [];
      for (let o = book.side(s).levels.get(price)?.head ?? null; o; o = o.next) ids.push(`${o.id}:${o.remaining}`);
      return `${price}[${ids.join(' ')}]`;
    });
  const snap = peer.snapshot();
  const theirs = (levels: { price: number; orders: PeerOrder[] }[]) =>
    levels.map((l) => `${l.price}[${l.orders.map((o) => `${o.id}:${o.size}`).join(' ')}]`);
  return {
    ours: `bids ${side('buy').join(' ')} | asks ${side('sell').join(' ')}`,
    theirs: `bids ${theirs(snap.bids).join(' ')} | asks ${theirs(snap.asks).join(' ')}`,
  };
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const at = Math.max(0, i - 40);
  return `reference "...${a.slice(at, i + 40)}...", nodejs-order-book "...${b.slice(at, i + 40)}..."`;
}

/**
 * Makes the flow by running it: each step is a cancel of a resting order (more often the more orders rest) or a new
 * limit order, applied to both engines and compared before the next step. `faults` break the reference engine the
 * way the chapter's mutants do, to show the comparison catches an engine that matches differently.
 */
export function buildFlow(s: FlowSettings, faults: EngineFaults = {}): OrderFlow {
  const rnd = seededRandom(s.seed); // mulberry32: a flow is the same in every run
  const engine = freshEngine(faults);
  const peer = new PeerOrderBook();
  const book = engine.book(SYMBOL);
  const events: InboundEvent[] = [];
  const peerOps: PeerOp[] = [];
  const stats: FlowStats = {
    events: 0,
    orders: 0,
    cancels: 0,
    crossing: 0,
    fills: 0,
    sharesFilled: 0,
    meanResting: 0,
    meanLevels: 0,
  };
  // Orders that rested when placed: cancel candidates (one filled since is dropped when drawn).
  const candidates: number[] = [];
  let seq = 0;
  const stamp = () => ++seq;
  let nextOrderId = 1;
  let resting = 0;
  let levels = 0;
  const result = (mismatch: string | null): OrderFlow => {
    stats.events = events.length;
    stats.meanResting = Math.round(resting / Math.max(1, events.length));
    stats.meanLevels = Math.round(levels / Math.max(1, events.length));
    return { events, peerOps, stats, mismatch };
  };

  /** A resting order to cancel, drawn uniformly among the candidates; both engines must agree it rests. */
  const drawResting = (): number | string | null => {
    while (candidates.length > 0) {
      const k = Math.floor(rnd() * candidates.length);
      const id = candidates[k]!;
      candidates[k] = candidates[candidates.length - 1]!;
      candidates.pop();
      const ours = book.orderMap.has(id);
      const theirs = peer.order(String(id)) !== undefined;
      if (ours !== theirs)
        return `order ${id} ${ours ? 'rests' : 'is gone'} in the reference engine but ${theirs ? 'rests' : 'is gone'} in nodejs-order-book`;
      if (ours) return id;
    }
    return null;
  };

  for (let i = 0; i < s.events; i++) {
    const time = FLOW_START + i;
    resting += book.orderMap.size;
    levels += book.buyBook.prices.length + book.sellBook.prices.length;
    const where = `event ${i + 1} of the flow (seed ${s.seed})`;
    if (rnd() < Math.min(0.6, (0.3 * book.orderMap.size) / TARGET_RESTING)) {
      const drawn = drawResting();
      if (typeof drawn === 'string') return result(`${where}: ${drawn}`);
      if (drawn !== null) {
        const left = book.orderMap.get(drawn)!.remaining;
        const e: InboundEvent = { sequenceId: ++seq, type: 'cancel', time, orderId: drawn };
        const op: PeerOp = { cancel: String(drawn) };
        events.push(e);
        peerOps.push(op);
        engine.apply(e, stamp);
        const theirs = peer.cancel(op.cancel!)?.order?.size;
        stats.cancels++;
        if (theirs !== left)
          return result(
            `${where}: cancel of order ${drawn}: ${left} shares left in the reference engine, ${theirs ?? 'no order'} in nodejs-order-book`,
          );
        continue;
      }
    }
    const side: Side = rnd() < 0.5 ? 'buy' : 'sell';
    const crossing = rnd() < CROSSING_SHARE;
    // Passive orders rest 1 to 30 ticks off the mid on their own side; crossing ones are priced 1 to 3 ticks through
    // it and larger, so they take one or more levels (and rest with what is left).
    const ticks = 1 + Math.floor(rnd() * (crossing ? 3 : 30));
    const above = (side === 'buy') === crossing;
    const price = above ? MID + ticks : MID - ticks;
    const quantity = 1 + Math.floor(rnd() * (crossing ? 300 : 100));
    const orderId = nextOrderId++;
    const userId = `u${Math.floor(rnd() * USERS)}`;
    const e: InboundEvent = {
      sequenceId: ++seq,
      type: 'new',
      time,
      orderId,
      userId,
      symbol: SYMBOL,
      side,
      price,
      quantity,
    };
    const op: PeerOp = { limit: { id: String(orderId), side, size: quantity, price } };
    events.push(e);
    peerOps.push(op);
    const ours: Execution[] = engine.apply(e, stamp).map((f) => [String(f.makerOrderId), f.price, f.quantity]);
    const answer = peer.limit(op.limit!);
    if (answer.err) return result(`${where}: nodejs-order-book refused order ${orderId}: ${answer.err.message}`);
    const theirs = peerExecutions(answer, String(orderId));
    stats.orders++;
    if (crossing) stats.crossing++;
    if (show(ours) !== show(theirs))
      return result(
        `${where}: order ${orderId} (${side} ${quantity} at ${price}) executed ${show(ours)} in the reference engine, ${show(theirs)} in nodejs-order-book`,
      );
    stats.fills += ours.length;
    for (const [, , q] of ours) stats.sharesFilled += q;
    if (book.orderMap.has(orderId)) candidates.push(orderId);
    if ((i + 1) % CHECK_EVERY === 0) {
      const b = books(engine, peer);
      if (b.ours !== b.theirs) return result(`${where}: the books differ: ${firstDifference(b.ours, b.theirs)}`);
    }
  }
  const b = books(engine, peer);
  if (b.ours !== b.theirs)
    return result(`at the end of the flow: the books differ: ${firstDifference(b.ours, b.theirs)}`);
  return result(null);
}
