// The market-data stream against the event log, for SE-F1's kill -9 and graceful-stop rounds: the seq a symbol's
// log implies, and a new subscriber's snapshot at that seq with the REST L2 book.
import type { CheckContext } from '../../core/check-context.ts';
import { type LogEvent, type OrderBookL2, okBody, readLog, type SeApi } from './api.ts';
import { frameAt, same, show } from './md-check-kit.ts';
import { type Frame, MdClient, type MdLog } from './md-client.ts';

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
 * A new subscriber's snapshot against the event log and the REST book: its seq is the one the log implies, its
 * levels the REST L2 book's (every level). Nothing may trade on the symbol meanwhile.
 */
export async function expectSnapshotFromLog(
  ctx: CheckContext,
  api: SeApi,
  log: MdLog,
  symbol: string,
  what: string,
): Promise<Frame> {
  const c = await MdClient.open(ctx, log, symbol);
  const snap = await frameAt(ctx, c, 0, what);
  c.close();
  const want = seqFromLog((await readLog(ctx, api, 1)).events, symbol);
  const x = await api.l2(symbol, 1000);
  const l2 = okBody<OrderBookL2>(ctx, x, 200, `${what}: reading the L2 book`);
  const book = { bids: l2.bids, asks: l2.asks };
  ctx.expect(
    snap.type === 'snapshot' && snap.seq === want && same({ bids: snap.bids, asks: snap.asks }, book),
    `${what}: a new subscriber's first frame is ${show(snap).slice(0, 600)}; the event log implies a snapshot at seq ${want} (a trade per fill, an l2update per order and cancel of ${symbol}) of the REST L2 book ${show(book).slice(0, 600)}`,
    x,
  );
  return snap;
}
