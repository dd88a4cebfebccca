// SE-I7: late subscribers (after a quiet spell, while orders stream in, and over a narrow connection to a deep book:
// md-narrow-subscriber.ts) against an earlier subscriber's stream and the REST L2 book.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { CASH, freshSymbol, freshUser, fund, type Order, type OrderBookL2, okBody, type Side, seApi } from './api.ts';
import { same, show, withLog } from './md-check-kit.ts';
import { MdClient, replay, streamUrl } from './md-client.ts';
import { candlesOfTrades } from './md-derived.ts';
import { narrowSubscriber } from './md-narrow-subscriber.ts';
import { RICH } from './properties.ts';

/** A small deterministic generator of orders around 100.00 (seeded by the run). */
function orderStream(seed: number, users: readonly string[], symbol: string) {
  let x = seed >>> 0 || 1;
  const next = (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  return () => ({
    userId: users[next(users.length)]!,
    symbol,
    side: (next(2) === 0 ? 'buy' : 'sell') as Side,
    price: 9995 + next(11),
    quantity: 1 + next(10),
  });
}

/** The candles' resolution of the late subscriber of every channel: one window a day, so one candle. */
const DAY = 86400;

export async function lateSubscribers(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const bookArb = fc.array(
    fc.record({
      side: fc.constantFrom<Side>('buy', 'sell'),
      price: fc.integer({ min: 9990, max: 10010 }),
      quantity: fc.integer({ min: 1, max: 20 }),
    }),
    { minLength: 1, maxLength: 30 },
  );
  let whileStreaming = 0;
  await ctx.property(
    bookArb,
    async (book) => {
      await withLog(ctx, async (log) => {
        const symbol = freshSymbol();
        const users = [freshUser('i7'), freshUser('i7'), freshUser('i7'), freshUser('i7')];
        for (const u of users) await fund(ctx, api, u, { [CASH]: RICH.cash, [symbol]: RICH.shares });
        const early = await MdClient.open(ctx, log, symbol);
        // Orders only once its snapshot is in, so the first subscriber's stream is the reference for the others.
        ctx.expect(await early.until(() => early.frames.length > 0), 'the first subscriber got no snapshot within 5 s');
        let accepted = 0;
        for (const [i, o] of book.entries()) {
          okBody<Order>(ctx, await api.place({ userId: users[i % 4]!, symbol, ...o }), 201, `order ${i}`);
          accepted++;
        }
        const caughtUp = () => early.until(() => early.count('l2update') >= accepted, timeLimit(5000));
        ctx.expect(await caughtUp(), `${accepted} orders were accepted; ${early.count('l2update')} l2updates came`);
        const e1 = replay(early.frames, symbol);
        ctx.expect(e1.errors.length === 0, `the first subscriber's stream: ${e1.errors.slice(0, 3).join('; ')}`);

        // A subscriber of every channel after a quiet spell: the snapshot is the book at the last update, then the
        // top of that book and the candle of the last trade's day (none before a trade), all at that seq. No l1 or
        // candle subscriber watched these orders, so a publisher that derives the top or the candles only while
        // someone watches shows here.
        const quiet = await MdClient.open(ctx, log, symbol, `channels=l2,l1,candles&resolution=${DAY}`);
        const lastCandle = candlesOfTrades(e1.trades, DAY).at(-1);
        const wantFirst = [
          { type: 'l1', symbol, seq: e1.lastSeq, bid: e1.bids[0] ?? null, ask: e1.asks[0] ?? null },
          ...(lastCandle ? [{ type: 'candle', symbol, seq: e1.lastSeq, resolution: DAY, ...lastCandle }] : []),
        ];
        ctx.expect(
          await quiet.until(() => quiet.frames.length > wantFirst.length),
          `a late subscriber of every channel got ${show(quiet.frames).slice(0, 600)} within 5 s, not the snapshot and ${wantFirst.length} more frames`,
        );
        const q = replay(quiet.frames, symbol);
        ctx.expect(
          q.errors.length === 0 && q.snapshotSeq === e1.lastSeq && same([q.bids, q.asks], [e1.bids, e1.asks]),
          `a subscriber after ${accepted} orders got ${show(quiet.frames[0])}; the first subscriber's stream gives seq ${e1.lastSeq} with ${show({ bids: e1.bids, asks: e1.asks })}`,
        );
        ctx.expect(
          same(quiet.frames.slice(1), wantFirst),
          `a late subscriber of every channel got ${show(quiet.frames.slice(1)).slice(0, 600)} after its snapshot; the first subscriber's stream (${e1.trades.length} trades) gives the top and the last candle ${show(wantFirst)}`,
        );

        // A subscriber while orders stream in (four clients placing orders one after another).
        const next = orderStream(ctx.seed + book.length, users, symbol);
        let stop = false;
        let streamed = 0;
        const loop = async () => {
          while (!stop && streamed < 400) {
            okBody<Order>(ctx, await api.place(next()), 201, 'an order while a subscriber joins');
            accepted++;
            streamed++;
          }
        };
        const loops = [loop(), loop(), loop(), loop()];
        let busy: MdClient | undefined;
        try {
          for (let i = 0; i < 1000 && streamed < 8; i++) await sleep(5);
          const at = streamed;
          busy = new MdClient(streamUrl(ctx, symbol), log);
          const b0 = busy;
          await b0.until(() => b0.frames.length > 0, timeLimit(5000));
          whileStreaming += streamed - at;
          // Some updates after its snapshot, so the snapshot meets later deltas.
          await b0.until(() => b0.frames.length > 10, timeLimit(5000));
        } finally {
          stop = true;
          await Promise.all(loops);
        }
        ctx.expect(await caughtUp(), `${accepted} orders were accepted; ${early.count('l2update')} l2updates came`);
        const e = replay(early.frames, symbol, true);
        const b = busy!;
        await b.until(() => b.frames.at(-1)?.seq === e.lastSeq, timeLimit(5000));
        const r = replay(b.frames, symbol);
        ctx.expect(
          r.errors.length === 0,
          `a subscriber that joined while orders streamed in: ${r.errors.slice(0, 3).join('; ')}`,
        );
        const atSnap = e.bookAt.get(r.snapshotSeq);
        const snap = b.frames[0]!;
        ctx.expect(
          atSnap !== undefined && same({ bids: snap.bids, asks: snap.asks }, atSnap),
          `a subscriber that joined while orders streamed in got a snapshot at seq ${r.snapshotSeq} of ${show({ bids: snap.bids, asks: snap.asks })}; the first subscriber's book at that seq is ${show(atSnap ?? 'not reached')}`,
        );
        const earlyBySeq = new Map(early.frames.slice(1).map((f) => [f.seq, f]));
        for (const f of b.frames.slice(1))
          ctx.expect(
            same(f, earlyBySeq.get(f.seq)),
            `update seq ${String(f.seq)} differs between subscribers: ${show(f)} and ${show(earlyBySeq.get(f.seq))}`,
          );
        ctx.expect(
          r.lastSeq === e.lastSeq && r.lastSeq > r.snapshotSeq,
          `the late subscriber ends at seq ${r.lastSeq} (snapshot ${r.snapshotSeq}); the first at ${e.lastSeq}`,
        );
        const x = await api.l2(symbol, 1000);
        const l2 = okBody<OrderBookL2>(ctx, x, 200, 'reading the L2 book');
        for (const [who, s] of [
          ['first', e],
          ['late', r],
        ] as const)
          ctx.expect(
            same({ bids: s.bids, asks: s.asks }, { bids: l2.bids, asks: l2.asks }),
            `the ${who} subscriber's book is not the REST L2 book.\n  stream: ${show({ bids: s.bids, asks: s.asks })}\n  REST:   ${show({ bids: l2.bids, asks: l2.asks })}`,
            x,
          );
      });
    },
    Math.min(ctx.numRuns, 3),
  );
  ctx.evidence.ordersWhileSubscribing = whileStreaming;
  // A subscriber the server cannot hand its whole snapshot to at once, reading nothing while orders are answered.
  await narrowSubscriber(ctx, api);
}
