// Shared by the market-data checks (SE-C5, SE-I6, SE-I7, SE-F1's stream part): a frame log per check that closes
// every subscriber and fails on any frame that broke marketdata-frames.schema.json, and waiting for a frame.
import { isDeepStrictEqual } from 'node:util';
import type { CheckContext } from '../../core/check-context.ts';
import { CANDLE_HISTORY, type Candles, keptCandles, okBody, type SeApi } from './api.ts';
import type { Frame, MdClient } from './md-client.ts';
import { MdLog } from './md-client.ts';
import { candleErrors } from './md-derived.ts';

export const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);
export const show = (v: unknown) => JSON.stringify(v);

/** Runs a check body with a frame log; closes every subscriber and fails on any frame that broke the schemas. */
export async function withLog(ctx: CheckContext, body: (log: MdLog) => Promise<void>): Promise<void> {
  const log = new MdLog(ctx);
  try {
    await body(log);
  } catch (e) {
    for (const c of log.clients) c.terminate();
    throw e;
  }
  log.finish();
}

export function expectNoViolations(ctx: CheckContext, log: MdLog, what: string): void {
  ctx.expect(
    log.violations.length === 0,
    `${what}: frames do not fit marketdata-frames.schema.json: ${log.violations.slice(0, 3).join('; ')}`,
  );
}

/** The frame at index `i`, waiting for it (within the scaled 5 s). */
export async function frameAt(ctx: CheckContext, c: MdClient, i: number, what: string): Promise<Frame> {
  const ok = await c.until(() => c.frames.length > i);
  ctx.expect(ok, `${what}: frame ${i + 1} did not arrive within 5 s (frames: ${show(c.frames).slice(0, 600)})`);
  return c.frames[i]!;
}

/**
 * Once the stream is quiet: the candle frames against the stream's trades (each trade followed by its window's
 * candle) and the last candle of each window against GET /v1/marketdata/candles, OHLC and volume exact. The
 * subscription must have seen the symbol's every trade (subscribed before its first).
 */
export async function expectCandlesAreRest(
  ctx: CheckContext,
  api: SeApi,
  symbol: string,
  frames: readonly Frame[],
  resolution: number,
  what: string,
): Promise<number> {
  const k = candleErrors(frames, symbol, resolution);
  ctx.expect(k.errors.length === 0, `${what}: ${k.errors.join('; ')}`);
  const x = await api.candles({ symbol, resolution });
  const rest = okBody<Candles>(ctx, x, 200, `${what}: reading the REST candles`).candles;
  // GET candles answers the last CANDLE_HISTORY candles of the resolution (a long run passes ten 1 s windows).
  ctx.expect(
    same(keptCandles(k.candles, resolution), rest),
    `${what}: the last candle frame of each window (resolution ${resolution} s; the last ${CANDLE_HISTORY[resolution]} kept) is not GET /v1/marketdata/candles.\n  stream: ${show(k.candles).slice(0, 800)}\n  REST:   ${show(rest).slice(0, 800)}`,
    x,
  );
  return k.boundaryTrades;
}
