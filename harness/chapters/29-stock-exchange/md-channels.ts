// SE-C5's part on the subscription's channels: subscribers of `channels=l1` and `channels=candles` opened beside
// the default subscriber before the symbol's first order, so after SE-C5's orders (a resting sell, a match that
// leaves a smaller best ask, a cancel, a bid, 11 bids below it) and two more here (a sell above, a buy that takes it
// at a new high) each stream is known frame by frame: the default subscriber got no l1 or candle frame, the l1
// subscriber the top after each update that changed it (a size change at the same price included), the candle
// subscriber the daily candle after each trade, one that gave a resolution but no channels the l2 stream alone; and
// a late subscriber of every channel gets the snapshot, the top and the last candle, in that order, at the current
// seq.
import type { CheckContext } from '../../core/check-context.ts';
import { type Order, okBody, type SeApi } from './api.ts';
import { frameAt, same, show } from './md-check-kit.ts';
import { MdClient, type MdLog } from './md-client.ts';
import { windowOf } from './md-derived.ts';

export interface ChannelRun {
  symbol: string;
  seller: string;
  buyer: string;
  /** The default subscriber (no channels chosen), and the l1 and candles (resolution 86400) ones. */
  l2: MdClient;
  l1: MdClient;
  candles: MdClient;
  /** One that gives a resolution but chooses no channels: still the l2 stream alone. */
  resolutionOnly: MdClient;
  /** SE-C5's crossing buy (3 at 10100 against the sell of 5 at 10000). */
  firstTaker: Order;
}

const DAY = 86400;

/** Opens SE-C5's channel subscribers (before the symbol's first order). */
export async function openChannelSubscribers(ctx: CheckContext, log: MdLog, symbol: string) {
  return {
    l1: await MdClient.open(ctx, log, symbol, 'channels=l1'),
    candles: await MdClient.open(ctx, log, symbol, `channels=candles&resolution=${DAY}`),
    resolutionOnly: await MdClient.open(ctx, log, symbol, `resolution=${DAY}`),
  };
}

export async function expectChannels(ctx: CheckContext, api: SeApi, log: MdLog, run: ChannelRun): Promise<void> {
  const { symbol, seller, buyer, l2 } = run;
  okBody<Order>(
    ctx,
    await api.place({ userId: seller, symbol, side: 'sell', price: 10050, quantity: 1 }),
    201,
    'a sell',
  );
  const taker = okBody<Order>(
    ctx,
    await api.place({ userId: buyer, symbol, side: 'buy', price: 10050, quantity: 1 }),
    201,
    'a buy taking the sell at 10050',
  );
  await frameAt(ctx, l2, 19, 'after a sell at 10050 and a buy taking it');
  const types = l2.frames.map((f) => f.type);
  ctx.expect(
    types.length === 20 && types.every((t) => t === 'snapshot' || t === 'l2update' || t === 'trade'),
    `a subscriber that chose no channels got ${show(types)}: only the l2 stream (snapshot, trade, l2update), 20 frames, as before the channels existed`,
  );
  // A resolution alone chooses no channel: the default stands (l2 alone), the same frames as the default subscriber.
  const r = run.resolutionOnly;
  await r.until(() => r.frames.length >= 20);
  ctx.expect(
    same(r.frames, l2.frames.slice(0, r.frames.length)) && r.frames.length === 20,
    `a subscriber that gave resolution=${DAY} but no channels got ${show(r.frames.map((f) => f.type))}, not the default subscriber's l2 stream (20 frames)`,
  );

  const bid = { price: 9900, size: 2 };
  const want = (seq: number, b: unknown, a: unknown) => ({ type: 'l1', symbol, seq, bid: b, ask: a });
  const wantL1 = [
    want(0, null, null),
    want(1, null, { price: 10000, size: 5 }),
    want(3, null, { price: 10000, size: 2 }),
    want(4, null, null),
    want(5, bid, null),
    want(17, bid, { price: 10050, size: 1 }),
    want(19, bid, null),
  ];
  await run.l1.until(() => run.l1.frames.length >= wantL1.length);
  ctx.expect(
    same(run.l1.frames, wantL1),
    `a channels=l1 subscriber got ${show(run.l1.frames)}; the book's top changed at seq 1 (a sell of 5 at 10000), 3 (its size down to 2), 4 (cancelled), 5 (a bid of 2 at 9900), 17 (a sell at 10050) and 19 (taken), and at no other seq: ${show(wantL1)}`,
  );

  // The daily candle after each trade: one window (or two when the trades straddle midnight UTC).
  const t1 = run.firstTaker.creationTime;
  const t2 = taker.creationTime;
  const first = { timestamp: windowOf(t1, DAY), open: 10000, high: 10000, low: 10000, close: 10000, volume: 3 };
  const second =
    windowOf(t2, DAY) === first.timestamp
      ? { ...first, high: 10050, close: 10050, volume: 4 }
      : { timestamp: windowOf(t2, DAY), open: 10050, high: 10050, low: 10050, close: 10050, volume: 1 };
  const wantCandles = [
    { type: 'candle', symbol, seq: 2, resolution: DAY, ...first },
    { type: 'candle', symbol, seq: 18, resolution: DAY, ...second },
  ];
  await run.candles.until(() => run.candles.frames.length >= wantCandles.length);
  ctx.expect(
    same(run.candles.frames, wantCandles),
    `a channels=candles&resolution=${DAY} subscriber got ${show(run.candles.frames)}; the two trades (3 at 10000, then 1 at 10050, a new high) make ${show(wantCandles)}`,
  );

  // A late subscriber of every channel: the snapshot, the top and the last candle, all at seq 19.
  const late = await MdClient.open(ctx, log, symbol, `channels=candles,l1,l2&resolution=${DAY}`);
  await late.until(() => late.frames.length >= 3);
  const bids = [bid, ...Array.from({ length: 11 }, (_, i) => ({ price: 9810 - i, size: 1 }))];
  const wantLate = [
    { type: 'snapshot', symbol, seq: 19, bids, asks: [] },
    want(19, bid, null),
    { ...wantCandles[1], seq: 19 },
  ];
  ctx.expect(
    same(late.frames, wantLate),
    `a late subscriber of every channel got ${show(late.frames).slice(0, 900)}, not the snapshot, the top and the last candle at seq 19: ${show(wantLate).slice(0, 900)}`,
  );
}
