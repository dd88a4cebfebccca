// The candle history past its depth (part of SE-I4; the book: candlesticks in ring buffers, only part of them kept).
// One fresh symbol trades in more 1-second windows than GET candles keeps (CANDLE_HISTORY[1]); the answer must be the
// aggregation of the executions, exactly its last CANDLE_HISTORY[1] candles, oldest first, also with filters.
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { timeScale } from '../../core/time-scale.ts';
import {
  CANDLE_HISTORY,
  CASH,
  type Candles,
  executionsOf,
  freshSymbol,
  freshUser,
  fund,
  keptCandles,
  type Order,
  okBody,
  type SeApi,
} from './api.ts';
import { candlesOf } from './model.ts';

const canonical = (v: unknown) => JSON.stringify(v);

export async function candleHistoryWraps(ctx: CheckContext, api: SeApi): Promise<void> {
  const depth = CANDLE_HISTORY[1]!;
  const windows = depth + 3;
  const symbol = freshSymbol();
  const [seller, buyer] = [freshUser('i4r'), freshUser('i4r')];
  await fund(ctx, api, seller, { [symbol]: 4 * windows });
  await fund(ctx, api, buyer, { [CASH]: 1_000_000 });
  // Each window gets two matches at two prices (so open, high, low and close differ between windows and within
  // them), then the check waits until the exchange's clock is past the window the last match fell in: a match's
  // sequenced time is its buy's creationTime, and the clock it read moves at the client's pace.
  const seen = new Set<number>();
  const budgetMs = (windows * 1000 + 30_000) * timeScale();
  const deadline = performance.now() + budgetMs;
  for (let i = 0; seen.size < windows; i++) {
    if (performance.now() > deadline)
      ctx.fail(`matches in ${windows} distinct 1-second windows not made within ${Math.round(budgetMs / 1000)} s`);
    let last = 0;
    for (const price of [100 + i, 150 - i]) {
      okBody<Order>(
        ctx,
        await api.place({ userId: seller, symbol, side: 'sell', price, quantity: 1 }),
        201,
        `selling 1 at ${price}`,
      );
      const buy = okBody<Order>(
        ctx,
        await api.place({ userId: buyer, symbol, side: 'buy', price, quantity: 1 }),
        201,
        `buying 1 at ${price}`,
      );
      ctx.expect(buy.status === 'filled', `a buy at the resting sell's price answered ${buy.status}`);
      last = buy.creationTime;
      seen.add(Math.floor(last / 1000));
    }
    // One window is left without a trade: it has no candle (the answer holds the windows that traded, no flat filler).
    await sleep(1000 - (last % 1000) + 5 + (i === windows - 4 ? 1000 : 0));
  }
  const { executions } = await executionsOf(ctx, api, symbol, [buyer]);
  const trades = executions.sort((a, b) => a.sequenceId - b.sequenceId);
  const all = candlesOf(trades, 1);
  ctx.expect(all.length > depth, `${all.length} one-second candles made; the check needs more than ${depth}`);
  const want = keptCandles(all, 1);
  const gaps = want.filter((c, n) => n > 0 && c.timestamp - want[n - 1]!.timestamp > 1000).length;
  const read = async (q: { startTime?: number; endTime?: number }, expected: typeof all, what: string) => {
    const x = await api.candles({ symbol, resolution: 1, ...q });
    const got = okBody<Candles>(ctx, x, 200, `reading the 1 s candles ${what}`).candles;
    ctx.expect(
      canonical(got) === canonical(expected),
      `${all.length} one-second candles traded, ${depth} kept: GET candles ${what} answered ${got.length} (${canonical(got).slice(0, 600)}); the aggregation of the executions gives the last ${depth}, ${expected.length} of them in range (${canonical(expected).slice(0, 600)})`,
      x,
    );
  };
  await read({}, want, 'without filters');
  // A startTime before the oldest kept candle answers the kept ones only (older windows are gone, not recomputed).
  await read({ startTime: all[0]!.timestamp }, want, `from the first window's start (${all[0]!.timestamp})`);
  const cut = want.at(-2)!.timestamp;
  await read({ endTime: cut }, want.slice(0, -2), `up to the second newest kept window (${cut})`);
  // The minute candles keep far more: every match is still in them.
  const x = await api.candles({ symbol, resolution: 60 });
  const minutes = okBody<Candles>(ctx, x, 200, 'reading the 60 s candles').candles;
  ctx.expect(
    canonical(minutes) === canonical(candlesOf(trades, 60)),
    `the 60 s candles are not the aggregation of every execution: ${canonical(minutes)}`,
    x,
  );
  ctx.evidence.oneSecondCandles = all.length;
  ctx.evidence.kept = depth;
  ctx.evidence.windowsWithoutTradeAmongKept = gaps;
}
