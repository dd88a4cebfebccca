// SE-I6: random order and cancel streams watched on the market-data WebSocket (every channel); after every answer
// the book replayed from the snapshot and the l2updates against a model book and the REST L2 book, every match as
// one trade against the model and the REST executions, the l1 frames against that book at their seq and the candle
// frames against the stream's trades and, at the end of a run, the REST candles.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { type OrderBookL2, okBody, type SeApi, seApi } from './api.ts';
import { expectCandlesAreRest, expectNoViolations, same, show, withLog } from './md-check-kit.ts';
import { MdClient, type Replayed, replay } from './md-client.ts';
import { candleErrors, l1Errors } from './md-derived.ts';
import type { ModelExchange } from './model.ts';
import { matchesOf, RICH } from './properties.ts';
import { commandsArb, runSession } from './session.ts';

/** The subscriber's state against the model book, its trades against the model's matches, and the REST book. */
async function expectStream(
  ctx: CheckContext,
  api: SeApi,
  symbol: string,
  r: Replayed,
  model: ModelExchange,
  what: string,
): Promise<void> {
  ctx.expect(r.errors.length === 0, `${what}: ${r.errors.slice(0, 3).join('; ')}`);
  const want = model.l2();
  ctx.expect(
    same({ bids: r.bids, asks: r.asks }, want),
    `${what}: the book replayed from the snapshot and the l2updates is not the resting orders' sum.\n  stream: ${show({ bids: r.bids, asks: r.asks })}\n  model:  ${show(want)}`,
  );
  const trades = r.trades.map((t) => ({
    makerOrderId: t.makerOrderId,
    takerOrderId: t.takerOrderId,
    price: t.price,
    quantity: t.quantity,
  }));
  ctx.expect(
    same(trades, model.fills),
    `${what}: the trades published are not the matches, each once.\n  stream: ${show(trades)}\n  model:  ${show(model.fills)}`,
  );
  const x = await api.l2(symbol, 1000);
  const l2 = okBody<OrderBookL2>(ctx, x, 200, `${what}: reading the L2 book`);
  ctx.expect(
    same({ bids: r.bids, asks: r.asks }, { bids: l2.bids, asks: l2.asks }),
    `${what}: the streamed book is not the REST L2 book.\n  stream: ${show({ bids: r.bids, asks: r.asks })}\n  REST:   ${show({ bids: l2.bids, asks: l2.asks })}`,
    x,
  );
}

/** Every trade against the REST executions of its match: one trade per match, same sequence ID, orders, price. */
async function expectTradesAreExecutions(
  ctx: CheckContext,
  api: SeApi,
  symbol: string,
  users: readonly string[],
  r: Replayed,
): Promise<void> {
  const { executions } = await matchesOf(ctx, api, symbol, users);
  const want = new Map<number, unknown>();
  for (const e of executions)
    if (e.role === 'maker')
      want.set(e.sequenceId, {
        sequenceId: e.sequenceId,
        price: e.price,
        quantity: e.quantity,
        makerOrderId: e.orderId,
        takerOrderId: e.counterOrderId,
        takerSide: e.side === 'buy' ? 'sell' : 'buy',
        time: e.time,
      });
  const got = r.trades.map((t) => ({
    sequenceId: t.sequenceId,
    price: t.price,
    quantity: t.quantity,
    makerOrderId: t.makerOrderId,
    takerOrderId: t.takerOrderId,
    takerSide: t.takerSide,
    time: t.time,
  }));
  ctx.expect(
    same(got, [...want.values()]),
    `the trades published are not the executions GET /v1/execution reports, one per match.\n  stream: ${show(got)}\n  REST:   ${show([...want.values()])}`,
  );
}

/** SE-I6's candle resolution: 1-second windows, so a run's trades fall in several. */
const RESOLUTION = 1;

export async function marketDataReplay(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  // Three prices, so levels fill up, empty and come back; takers of up to 12 sweep levels.
  const shape = { users: 3, minPrice: 99, maxPrice: 101, maxQuantity: 12 };
  let steps = 0;
  let trades = 0;
  let l1Checked = 0;
  let candlesChecked = 0;
  await ctx.property(commandsArb(shape), async (commands) => {
    await withLog(ctx, async (log) => {
      let l1Frames = 0;
      let client: MdClient | undefined;
      let symbol = '';
      const s = await runSession(ctx, api, [RICH, RICH, RICH], commands, 'i6', false, {
        beforeCommands: async (sym) => {
          symbol = sym;
          // Every channel, so the l1 and candle frames are graded against the L2 stream of the same subscriber.
          client = await MdClient.open(ctx, log, sym, `channels=l2,l1,candles&resolution=${RESOLUTION}`);
        },
        // A quiescent point: the answer is in, so the stream owes one l2update per accepted order and cancel.
        afterStep: async (step, model, sequenced) => {
          const c = client!;
          const arrived = await c.until(() => c.count('l2update') >= sequenced, timeLimit(3000));
          const r = replay(c.frames, symbol);
          expectNoViolations(ctx, log, `after step ${step}`);
          ctx.expect(r.errors.length === 0, `after step ${step}: ${r.errors.slice(0, 3).join('; ')}`);
          ctx.expect(
            arrived,
            `after step ${step}: ${sequenced} orders and cancels were accepted but ${c.count('l2update')} l2update frames arrived within 3 s (one per accepted order or cancel)`,
          );
          await expectStream(ctx, api, symbol, r, model, `after step ${step}`);
          const l1 = l1Errors(c.frames, symbol);
          ctx.expect(l1.errors.length === 0, `after step ${step}: ${l1.errors.join('; ')}`);
          l1Frames = Math.max(l1Frames, l1.compared);
          const k = candleErrors(c.frames, symbol, RESOLUTION);
          ctx.expect(k.errors.length === 0, `after step ${step}: ${k.errors.join('; ')}`);
          steps++;
        },
      });
      if (!client) return;
      const r = replay(client.frames, s.symbol);
      await expectTradesAreExecutions(ctx, api, s.symbol, s.users, r);
      trades += r.trades.length;
      l1Checked += l1Frames;
      await expectCandlesAreRest(ctx, api, s.symbol, client.frames, RESOLUTION, 'at the end of the run');
      candlesChecked += candleErrors(client.frames, s.symbol, RESOLUTION).candles.length;
    });
  });
  ctx.evidence.quiescentPoints = steps;
  ctx.evidence.tradesChecked = trades;
  ctx.evidence.l1FramesChecked = l1Checked;
  ctx.evidence.candleWindowsChecked = candlesChecked;
  ctx.expect(trades > 0, 'no run made a trade: the property compared no trade frames');
}
