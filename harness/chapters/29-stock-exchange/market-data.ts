// SE-C5, SE-I6, SE-I7: the market-data WebSocket (`GET /v1/marketdata/ws?symbol=`), graded as a subscriber sees it:
// every frame against marketdata-frames.schema.json, the book replayed from the snapshot and the updates against a
// model book and the REST L2 book, the sequence numbers, every match as one trade against the REST executions, and
// late subscribers (also ones that subscribe while orders stream in) against an earlier subscriber's stream.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { timeLimit } from '../../core/time-scale.ts';
import {
  CASH,
  type EventPage,
  freshSymbol,
  freshUser,
  fund,
  type LogEvent,
  type Order,
  type OrderBookL2,
  okBody,
  readLog,
  type SeApi,
  type Side,
  seApi,
} from './api.ts';
import { type Frame, MdClient, MdLog, type Replayed, replay, streamUrl } from './md-client.ts';
import type { ModelExchange } from './model.ts';
import { matchesOf, RICH } from './properties.ts';
import { commandsArb, runSession } from './session.ts';

const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);
const show = (v: unknown) => JSON.stringify(v);

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

function expectNoViolations(ctx: CheckContext, log: MdLog, what: string): void {
  ctx.expect(
    log.violations.length === 0,
    `${what}: frames do not fit marketdata-frames.schema.json: ${log.violations.slice(0, 3).join('; ')}`,
  );
}

/** The frame at index `i`, waiting for it (within the scaled 5 s). */
async function frameAt(ctx: CheckContext, c: MdClient, i: number, what: string): Promise<Frame> {
  const ok = await c.until(() => c.frames.length > i);
  ctx.expect(ok, `${what}: frame ${i + 1} did not arrive within 5 s (frames: ${show(c.frames).slice(0, 600)})`);
  return c.frames[i]!;
}

export async function marketDataConformance(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  await withLog(ctx, async (log) => {
    const symbol = freshSymbol();
    // A plain GET is not a subscription: 426; a malformed symbol 400 (both validated against the spec).
    ctx.expectStatus(
      await ctx.http.send({ method: 'GET', path: `/v1/marketdata/ws?symbol=${symbol}` }),
      426,
      'upgrade_required',
    );
    ctx.expectStatus(
      await ctx.http.send({ method: 'GET', path: '/v1/marketdata/ws?symbol=aapl', validRequest: false }),
      400,
      'invalid_request',
    );
    // A malformed subscription is refused before the upgrade, with the documented problem.
    for (const [what, s] of [
      ['a lowercase symbol', 'aapl'],
      ['a symbol of 9 letters', 'ABCDEFGHI'],
      ['an empty symbol', ''],
      ['no symbol', null],
    ] as const) {
      const c = new MdClient(streamUrl(ctx, s), log);
      let timer: NodeJS.Timeout | undefined;
      const opened = await Promise.race([
        c.opened,
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeLimit(5000));
        }),
      ]).finally(() => clearTimeout(timer));
      const r = c.refused;
      let code: unknown;
      try {
        code = (JSON.parse(r?.body ?? '') as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      c.terminate();
      ctx.expect(
        !opened &&
          r?.status === 400 &&
          r.contentType.startsWith('application/problem+json') &&
          code === 'invalid_request',
        `subscribing with ${what} ${opened ? 'opened a WebSocket' : `was answered ${r ? `${r.status} ${r.contentType} ${r.body.slice(0, 200)}` : 'with nothing'}`}, not 400 invalid_request with a problem body`,
      );
    }

    // One subscriber of another symbol sees none of this symbol's frames.
    const other = await MdClient.open(ctx, log, freshSymbol());
    const seller = freshUser('c5');
    const buyer = freshUser('c5');
    await fund(ctx, api, seller, { [symbol]: 10 });
    await fund(ctx, api, buyer, { [CASH]: 1_000_000 });
    const c = await MdClient.open(ctx, log, symbol);
    const snap = await frameAt(ctx, c, 0, 'subscribing to a fresh symbol');
    ctx.expect(
      same(snap, { type: 'snapshot', symbol, seq: 0, bids: [], asks: [] }),
      `a fresh symbol's first frame is ${show(snap)}, not an empty snapshot at seq 0`,
    );

    // A resting order: one l2update with its level.
    const sell = okBody<Order>(
      ctx,
      await api.place({ userId: seller, symbol, side: 'sell', price: 10000, quantity: 5 }),
      201,
      'a sell of 5 at 10000',
    );
    const u1 = await frameAt(ctx, c, 1, 'after a resting sell');
    expectNoViolations(ctx, log, 'after a resting sell');
    ctx.expect(
      same(u1, {
        type: 'l2update',
        symbol,
        seq: 1,
        sequenceId: sell.sequenceId,
        changes: [{ side: 'sell', price: 10000, size: 5 }],
      }),
      `a resting sell of 5 at 10000 (sequence ${sell.sequenceId}) was published as ${show(u1)}`,
    );

    // A match: the trade (the fill right after the order in the log), then the reduced level.
    const buy = okBody<Order>(
      ctx,
      await api.place({ userId: buyer, symbol, side: 'buy', price: 10100, quantity: 3 }),
      201,
      'a buy of 3 at 10100',
    );
    const t = await frameAt(ctx, c, 2, 'after a crossing buy');
    const u2 = await frameAt(ctx, c, 3, 'after a crossing buy');
    expectNoViolations(ctx, log, 'after a crossing buy');
    const wantTrade = {
      type: 'trade',
      symbol,
      seq: 2,
      sequenceId: buy.sequenceId + 1,
      price: 10000,
      quantity: 3,
      makerOrderId: sell.id,
      takerOrderId: buy.id,
      takerSide: 'buy',
      time: buy.creationTime,
    };
    ctx.expect(
      same(t, wantTrade),
      `a buy of 3 at 10100 against the sell was published as ${show(t)}, not ${show(wantTrade)}`,
    );
    ctx.expect(
      same(u2, {
        type: 'l2update',
        symbol,
        seq: 3,
        sequenceId: buy.sequenceId,
        changes: [{ side: 'sell', price: 10000, size: 2 }],
      }),
      `the match's book change was published as ${show(u2)}, not the sell level at 10000 down to 2`,
    );

    // A cancel: the level goes (size 0), with the cancel's sequence ID in the log.
    okBody<Order>(ctx, await api.cancel(sell.id), 200, 'cancelling the rest of the sell');
    const u3 = await frameAt(ctx, c, 4, 'after a cancel');
    ctx.expect(
      u3.type === 'l2update' && u3.seq === 4 && same(u3.changes, [{ side: 'sell', price: 10000, size: 0 }]),
      `the cancel was published as ${show(u3)}, not an l2update at seq 4 removing the sell level at 10000`,
    );
    const page = okBody<EventPage>(ctx, await api.events(Number(u3.sequenceId), 1), 200, 'reading the cancel');
    ctx.expect(
      same(
        page.events.map((e) => ({ type: e.type, orderId: 'orderId' in e ? e.orderId : null })),
        [{ type: 'cancel', orderId: sell.id }],
      ),
      `the cancel's update names sequence ${String(u3.sequenceId)}, which is ${show(page.events[0])} in the log`,
    );

    // Late subscribers get the book as it stands: empty at seq 4, then with a resting bid at seq 5.
    const late = await MdClient.open(ctx, log, symbol);
    const s4 = await frameAt(ctx, late, 0, 'a late subscriber');
    ctx.expect(
      same(s4, { type: 'snapshot', symbol, seq: 4, bids: [], asks: [] }),
      `after the cancel a new subscriber's snapshot is ${show(s4)}, not an empty book at seq 4`,
    );
    okBody<Order>(ctx, await api.place({ userId: buyer, symbol, side: 'buy', price: 9900, quantity: 2 }), 201, 'a bid');
    await frameAt(ctx, c, 5, 'after a resting bid');
    const later = await MdClient.open(ctx, log, symbol);
    const s5 = await frameAt(ctx, later, 0, 'a later subscriber');
    ctx.expect(
      same(s5, { type: 'snapshot', symbol, seq: 5, bids: [{ price: 9900, size: 2 }], asks: [] }),
      `with one bid of 2 at 9900 a new subscriber's snapshot is ${show(s5)}`,
    );
    await frameAt(ctx, late, 1, 'the late subscriber, after a resting bid');
    ctx.expect(
      same(late.frames[1], c.frames[5]),
      `two subscribers got update 5 differently: ${show(late.frames[1])} and ${show(c.frames[5])}`,
    );

    // The snapshot has every level, however deep (no depth limit): 11 bids of 1 below the best, 12 levels.
    for (let i = 0; i < 11; i++)
      okBody<Order>(
        ctx,
        await api.place({ userId: buyer, symbol, side: 'buy', price: 9800 + i, quantity: 1 }),
        201,
        `a bid of 1 at ${9800 + i}`,
      );
    await frameAt(ctx, c, 16, 'after 11 more bids');
    const deep = await MdClient.open(ctx, log, symbol);
    const s16 = await frameAt(ctx, deep, 0, 'a subscriber to a book 12 levels deep');
    const bids = [{ price: 9900, size: 2 }, ...Array.from({ length: 11 }, (_, i) => ({ price: 9810 - i, size: 1 }))];
    ctx.expect(
      same(s16, { type: 'snapshot', symbol, seq: 16, bids, asks: [] }),
      `with 12 bid levels (9900, 9810..9800) a new subscriber's snapshot is ${show(s16)}, not every level at seq 16`,
    );
    await frameAt(ctx, other, 0, 'a subscriber of another symbol');
    ctx.expect(
      other.frames.length === 1,
      `a subscriber of another symbol got ${other.frames.length - 1} frames of other symbols: ${show(other.frames.slice(1, 3))}`,
    );
    ctx.evidence.framesChecked = [...log.clients].reduce((n, x) => n + x.frames.length, 0);
  });
}

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
async function expectTradesAreExecutions(ctx: CheckContext, api: SeApi, symbol: string, r: Replayed): Promise<void> {
  const { executions } = await matchesOf(ctx, api, symbol);
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

export async function marketDataReplay(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  // Three prices, so levels fill up, empty and come back; takers of up to 12 sweep levels.
  const shape = { users: 3, minPrice: 99, maxPrice: 101, maxQuantity: 12 };
  let steps = 0;
  let trades = 0;
  await ctx.property(commandsArb(shape), async (commands) => {
    await withLog(ctx, async (log) => {
      let client: MdClient | undefined;
      let symbol = '';
      const s = await runSession(ctx, api, [RICH, RICH, RICH], commands, 'i6', false, {
        beforeCommands: async (sym) => {
          symbol = sym;
          client = await MdClient.open(ctx, log, sym);
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
          steps++;
        },
      });
      if (!client) return;
      const r = replay(client.frames, s.symbol);
      await expectTradesAreExecutions(ctx, api, s.symbol, r);
      trades += r.trades.length;
    });
  });
  ctx.evidence.quiescentPoints = steps;
  ctx.evidence.tradesChecked = trades;
  ctx.expect(trades > 0, 'no run made a trade: the property compared no trade frames');
}

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

        // A subscriber after a quiet spell: the snapshot is the book at the last update.
        const quiet = await MdClient.open(ctx, log, symbol);
        ctx.expect(await quiet.until(() => quiet.frames.length > 0), 'a late subscriber got no snapshot within 5 s');
        const q = replay(quiet.frames, symbol);
        ctx.expect(
          q.errors.length === 0 && q.snapshotSeq === e1.lastSeq && same([q.bids, q.asks], [e1.bids, e1.asks]),
          `a subscriber after ${accepted} orders got ${show(quiet.frames[0])}; the first subscriber's stream gives seq ${e1.lastSeq} with ${show({ bids: e1.bids, asks: e1.asks })}`,
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
}
