// The market-data stream against the event log, for SE-F1's kill -9 and graceful-stop rounds: the seq a symbol's
// log implies, and a new subscriber's first frames at that seq: the snapshot of the REST L2 book, the top of it
// (l1) and the day's candle the log's fills make (candles), so the derived frames are graded across a restart too.
import type { CheckContext } from '../../core/check-context.ts';
import { type LogEvent, type OrderBookL2, okBody, readLog, type SeApi } from './api.ts';
import { frameAt, same, show } from './md-check-kit.ts';
import { type Frame, MdClient, type MdLog, type Trade } from './md-client.ts';
import { candlesOfTrades } from './md-derived.ts';

const DAY = 86400;

/**
 * The symbol's market-data seq the event log implies (marketdata-frames.schema.json Seq: +1 per trade or l2update;
 * openapi.yaml subscribeMarketData: per accepted order or cancel of the symbol a trade per fill, then one l2update).
 * A model of the log, so a snapshot's seq is graded without trusting the exchange's stream, also across a restart.
 */
export function seqFromLog(events: readonly LogEvent[], symbol: string): number {
  const orders = new Set<number>();
  let seq = 0;
  for (const e of events)
    if (e.type === 'new' && e.symbol === symbol) {
      orders.add(e.orderId);
      seq++;
    } else if (e.type === 'fill' && e.symbol === symbol) seq++;
    else if (e.type === 'cancel' && orders.has(e.orderId)) seq++;
  return seq;
}

/**
 * A new subscriber of every channel against the event log and the REST book: its snapshot at the seq the log
 * implies with the REST L2 book's levels (every level), then the top of that book and the day's candle of the log's
 * fills of the symbol (none before a trade), both at that seq. Nothing may trade on the symbol meanwhile.
 */
export async function expectSnapshotFromLog(
  ctx: CheckContext,
  api: SeApi,
  log: MdLog,
  symbol: string,
  what: string,
): Promise<Frame> {
  const c = await MdClient.open(ctx, log, symbol, `channels=l2,l1,candles&resolution=${DAY}`);
  const snap = await frameAt(ctx, c, 0, what);
  const { events } = await readLog(ctx, api, 1);
  const want = seqFromLog(events, symbol);
  const fills = events.filter((e) => e.type === 'fill' && e.symbol === symbol) as unknown as Trade[];
  const candle = candlesOfTrades(fills, DAY).at(-1);
  const derived = 1 + (candle ? 1 : 0);
  await c.until(() => c.frames.length > derived);
  c.close();
  const x = await api.l2(symbol, 1000);
  const l2 = okBody<OrderBookL2>(ctx, x, 200, `${what}: reading the L2 book`);
  const book = { bids: l2.bids, asks: l2.asks };
  ctx.expect(
    snap.type === 'snapshot' && snap.seq === want && same({ bids: snap.bids, asks: snap.asks }, book),
    `${what}: a new subscriber's first frame is ${show(snap).slice(0, 600)}; the event log implies a snapshot at seq ${want} (a trade per fill, an l2update per order and cancel of ${symbol}) of the REST L2 book ${show(book).slice(0, 600)}`,
    x,
  );
  const wantDerived = [
    { type: 'l1', symbol, seq: want, bid: l2.bids[0] ?? null, ask: l2.asks[0] ?? null },
    ...(candle ? [{ type: 'candle', symbol, seq: want, resolution: DAY, ...candle }] : []),
  ];
  ctx.expect(
    same(c.frames.slice(1, 1 + derived), wantDerived),
    `${what}: after its snapshot a new subscriber of every channel got ${show(c.frames.slice(1)).slice(0, 600)}; the event log gives the top of the REST book and the day's candle of its ${fills.length} fills of ${symbol}: ${show(wantDerived).slice(0, 600)}`,
  );
  return snap;
}
