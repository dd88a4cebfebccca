// SE-I2..I5: the chapter's invariants as fast-check properties over the wire, each with the check's seed and a
// shrunk counterexample when it fails. What a property asserts is read back from the exchange (executions, the
// book, wallets, the event log) and compared with a model, never taken from the answer that claims it was done.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Account,
  CANDLE_HISTORY,
  CASH,
  type Candles,
  DAILY_LIMIT,
  type Execution,
  executionsOf,
  freshSymbol,
  freshUser,
  fund,
  keptCandles,
  type LogEvent,
  lastSequence,
  type Order,
  type OrderBookL2,
  okBody,
  readLog,
  type SeApi,
  seApi,
} from './api.ts';
import { candleHistoryWraps } from './candle-history.ts';
import { candlesOf, ModelExchange, type ModelFill } from './model.ts';
import { commandsArb, runSession, type Session } from './session.ts';

export const RICH = { cash: 1_000_000_000, shares: 1_000_000 };

/** The matches the exchange reports, one per sequence ID, from its buy and sell executions (checked to agree). */
export async function matchesOf(
  ctx: CheckContext,
  api: SeApi,
  symbol: string,
  users: readonly string[],
): Promise<{ fills: ModelFill[]; executions: Execution[] }> {
  // Each user reads their own executions (the gateway's rule); together they are every execution of the symbol.
  const { executions, answers } = await executionsOf(ctx, api, symbol, users);
  const x = answers[0]!;
  const bySeq = new Map<number, Execution[]>();
  for (const e of executions) bySeq.set(e.sequenceId, [...(bySeq.get(e.sequenceId) ?? []), e]);
  const fills: ModelFill[] = [];
  for (const [seq, pair] of [...bySeq].sort((a, b) => a[0] - b[0])) {
    const maker = pair.find((e) => e.role === 'maker');
    const taker = pair.find((e) => e.role === 'taker');
    ctx.expect(
      pair.length === 2 && maker && taker && maker.side !== taker.side,
      `match ${seq} has executions ${JSON.stringify(pair)}: not one maker and one taker on opposite sides`,
      x,
    );
    ctx.expect(
      maker.price === taker.price &&
        maker.quantity === taker.quantity &&
        maker.counterOrderId === taker.orderId &&
        taker.counterOrderId === maker.orderId,
      `match ${seq}: its two executions disagree: ${JSON.stringify(pair)}`,
      x,
    );
    fills.push({
      makerOrderId: maker.orderId,
      takerOrderId: taker.orderId,
      price: maker.price,
      quantity: maker.quantity,
    });
  }
  return { fills, executions };
}

export async function priceTimePriority(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  // Three prices, so levels queue several orders (FIFO shows) and takers of up to 12 sweep levels.
  const shape = { users: 3, minPrice: 99, maxPrice: 101, maxQuantity: 12 };
  let fillsChecked = 0;
  await ctx.property(commandsArb(shape), async (commands) => {
    const s = await runSession(ctx, api, [RICH, RICH, RICH], commands, 'i2', true);
    const { fills } = await matchesOf(ctx, api, s.symbol, s.users);
    ctx.expect(
      JSON.stringify(fills) === JSON.stringify(s.model.fills),
      `the executions are not the price-time priority model's.\n  exchange: ${JSON.stringify(fills)}\n  model:    ${JSON.stringify(s.model.fills)}`,
    );
    for (const f of fills) {
      const maker = s.model.orders.get(f.makerOrderId)!;
      const taker = s.model.orders.get(f.takerOrderId)!;
      const buy = maker.side === 'buy' ? maker : taker;
      const sell = maker.side === 'buy' ? taker : maker;
      ctx.expect(f.price <= buy.price && f.price >= sell.price, `a trade at ${f.price} went through a limit`);
    }
    await expectBook(ctx, api, s);
    for (const id of s.ids) {
      const x = await api.order(id);
      const o = okBody<Order>(ctx, x, 200, `reading order ${id}`);
      const m = s.model.orders.get(id)!;
      ctx.expect(
        o.filledQuantity === m.filled && o.remainingQuantity === m.remaining && o.status === m.status,
        `order ${id} is ${o.status} ${o.filledQuantity}/${o.remainingQuantity}; the model says ${m.status} ${m.filled}/${m.remaining}`,
        x,
      );
      ctx.expect(
        o.status === 'canceled' || o.filledQuantity + o.remainingQuantity === o.quantity,
        `order ${id}: filled ${o.filledQuantity} + remaining ${o.remainingQuantity} is not its quantity ${o.quantity}`,
        x,
      );
    }
    fillsChecked += fills.length;
  });
  ctx.evidence.fillsChecked = fillsChecked;
  ctx.expect(fillsChecked > 0, 'no run made a trade: the property compared nothing');
}

async function expectBook(ctx: CheckContext, api: SeApi, s: Session): Promise<void> {
  const x = await api.l2(s.symbol, 1000);
  const l2 = okBody<OrderBookL2>(ctx, x, 200, 'reading the L2 book');
  const want = s.model.l2();
  ctx.expect(
    JSON.stringify({ bids: l2.bids, asks: l2.asks }) === JSON.stringify(want),
    `the L2 book is not the resting orders' sum.\n  exchange: ${JSON.stringify({ bids: l2.bids, asks: l2.asks })}\n  model:    ${JSON.stringify(want)}`,
    x,
  );
}

/** A wallet without its zero balances (an implementation may or may not list an asset it no longer has). */
function nonZero(balances: readonly { asset: string; available: number; held: number }[]) {
  return balances
    .filter((b) => b.available !== 0 || b.held !== 0)
    .map((b) => ({ asset: b.asset, available: b.available, held: b.held }))
    .sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
}

export async function fundsAndHolds(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const shape = { users: 3, minPrice: 1, maxPrice: 20, maxQuantity: 15 };
  const fundsArb = fc.array(fc.record({ cash: fc.nat({ max: 3000 }), shares: fc.nat({ max: 40 }) }), {
    minLength: 3,
    maxLength: 3,
  });
  let refused = 0;
  await ctx.property(fc.tuple(fundsArb, commandsArb(shape)), async ([funds, commands]) => {
    const s = await runSession(ctx, api, funds, commands, 'i3');
    const totals = new Map<string, number>();
    for (const u of s.users) {
      const x = await api.account(u);
      if (x.status === 404) {
        ctx.expect(!s.model.wallets.has(u), `${u} deposited or ordered but has no account`, x);
        continue;
      }
      const a = okBody<Account>(ctx, x, 200, `reading ${u}`);
      const want = nonZero([...(s.model.wallets.get(u) ?? new Map())].map(([asset, b]) => ({ asset, ...b })));
      ctx.expect(
        JSON.stringify(nonZero(a.balances)) === JSON.stringify(want),
        `${u}'s wallet is not what the fills and holds give.\n  exchange: ${JSON.stringify(nonZero(a.balances))}\n  model:    ${JSON.stringify(want)}`,
        x,
      );
      for (const b of a.balances) totals.set(b.asset, (totals.get(b.asset) ?? 0) + b.available + b.held);
    }
    for (const [asset, amount] of s.deposited)
      ctx.expect(
        (totals.get(asset) ?? 0) === amount,
        `${asset} is not conserved: ${amount} deposited, ${totals.get(asset) ?? 0} in the wallets`,
      );
    refused += commands.filter((c) => c.kind === 'place').length - s.ids.length;
  });
  ctx.evidence.refusedForFunds = refused;
}

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );

export async function deterministicLog(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const shape = { users: 3, minPrice: 98, maxPrice: 102, maxQuantity: 10 };
  let replayed = 0;
  await ctx.property(commandsArb(shape, 40), async (commands) => {
    const from = (await lastSequence(ctx, api)) + 1;
    const s = await runSession(ctx, api, [RICH, RICH, RICH], commands, 'i4');
    const { events } = await readLog(ctx, api, from);
    const mine = new Set(s.ids);
    const ofSymbol = events.filter(
      (e) =>
        ((e.type === 'new' || e.type === 'fill') && e.symbol === s.symbol) ||
        (e.type === 'cancel' && mine.has(e.orderId)),
    );
    // Replay the sequenced inbound events into a fresh model: each `new` must be followed by exactly the fills the
    // model makes, stamped with the next sequence IDs and the order's own time.
    const model = new ModelExchange();
    const funded = new Set<string>();
    const bySeq = new Map(events.map((e) => [e.sequenceId, e]));
    const expectedFills: LogEvent[] = [];
    for (const e of ofSymbol) {
      if (e.type === 'new') {
        // The wallets are I3's business; the replay needs only the orders.
        if (!funded.has(e.userId)) {
          funded.add(e.userId);
          model.deposit(e.userId, CASH, 1e15);
          model.deposit(e.userId, s.symbol, 1e15);
        }
        const fills = model.place(s.symbol, e.orderId, e.userId, e.side, e.price, e.quantity);
        fills.forEach((f, k) => {
          const want = { sequenceId: e.sequenceId + k + 1, type: 'fill', time: e.time, symbol: s.symbol, ...f };
          expectedFills.push(want as LogEvent);
          const got = bySeq.get(e.sequenceId + k + 1);
          ctx.expect(
            canonical(got) === canonical(want),
            `replaying the log diverges at sequence ${e.sequenceId + k + 1}:\n  logged:   ${canonical(got)}\n  replayed: ${canonical(want)}`,
          );
        });
      } else if (e.type === 'cancel') model.cancel(s.symbol, e.orderId);
    }
    const loggedFills = ofSymbol.filter((e) => e.type === 'fill');
    ctx.expect(
      loggedFills.length === expectedFills.length,
      `the log has ${loggedFills.length} fills of ${s.symbol}; replaying its orders makes ${expectedFills.length}`,
    );
    // The executions and the candles are the aggregation of those fills, byte for byte (execution IDs aside: the
    // spec fixes only that they are unique).
    const { executions } = await matchesOf(ctx, api, s.symbol, s.users);
    const sideOf = (id: number) => model.orders.get(id)!.side;
    const want = expectedFills.flatMap((f) => {
      if (f.type !== 'fill') return [];
      const one = (orderId: number, counterOrderId: number, role: 'maker' | 'taker') => ({
        sequenceId: f.sequenceId,
        orderId,
        counterOrderId,
        symbol: f.symbol,
        side: sideOf(orderId),
        price: f.price,
        orderType: 'limit',
        quantity: f.quantity,
        role,
        time: f.time,
      });
      return [one(f.makerOrderId, f.takerOrderId, 'maker'), one(f.takerOrderId, f.makerOrderId, 'taker')];
    });
    const key = (e: { sequenceId: number; side: string }) => `${String(e.sequenceId).padStart(16, '0')}${e.side}`;
    const got = executions.map(({ id: _id, ...rest }) => rest).sort((a, b) => (key(a) < key(b) ? -1 : 1));
    want.sort((a, b) => (key(a) < key(b) ? -1 : 1));
    ctx.expect(
      canonical(got) === canonical(want),
      `the executions are not the logged fills:\n  exchange: ${canonical(got)}\n  log:      ${canonical(want)}`,
    );
    const trades = expectedFills.map((f) => f as Extract<LogEvent, { type: 'fill' }>);
    for (const resolution of [1, 60, 86400]) {
      const x = await api.candles({ symbol: s.symbol, resolution });
      const c = okBody<Candles>(ctx, x, 200, `reading candles of ${resolution} s`);
      // GET candles keeps the last CANDLE_HISTORY candles of a resolution (a long session passes ten 1 s windows).
      const wantC = keptCandles(candlesOf(trades, resolution), resolution);
      ctx.expect(
        canonical(c.candles) === canonical(wantC),
        `the ${resolution} s candles are not the aggregation of the executions (the last ${CANDLE_HISTORY[resolution]} kept):\n  exchange: ${canonical(c.candles)}\n  fills:    ${canonical(wantC)}`,
        x,
      );
    }
    replayed += events.length;
  });
  // The candle history past its depth: the ring wrapped, the answer still the aggregation's last candles.
  await candleHistoryWraps(ctx, api);
  // The whole log, from 1: no gap anywhere (not only in this check's stretch).
  const whole = await readLog(ctx, api, 1);
  ctx.evidence.eventsReplayed = replayed;
  ctx.evidence.logLength = whole.events.length;
}

export async function dailyRiskLimit(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const arb = fc.array(
    fc.record({
      user: fc.nat({ max: 1 }),
      symbol: fc.nat({ max: 1 }),
      quantity: fc.oneof(fc.integer({ min: 1, max: DAILY_LIMIT }), fc.integer({ min: 300_000, max: 700_000 })),
      cancel: fc.boolean(),
    }),
    { minLength: 1, maxLength: 8 },
  );
  let refusals = 0;
  await ctx.property(arb, async (orders) => {
    const users = [freshUser('i5'), freshUser('i5')];
    const symbols = [freshSymbol(), freshSymbol()];
    for (const u of users) await fund(ctx, api, u, { [CASH]: 100_000_000_000 });
    const ordered = new Map<string, number>();
    for (const o of orders) {
      const userId = users[o.user]!;
      const symbol = symbols[o.symbol]!;
      const k = `${o.user}/${o.symbol}`;
      const so = ordered.get(k) ?? 0;
      const before = await lastSequence(ctx, api);
      const x = await api.place({ userId, symbol, side: 'buy', price: 1, quantity: o.quantity });
      if (so + o.quantity > DAILY_LIMIT) {
        ctx.expect(
          x.status === 422,
          `user ${o.user} had ordered ${so} shares of symbol ${o.symbol} today; ${o.quantity} more (past ${DAILY_LIMIT}) answered ${x.status}`,
          x,
        );
        ctx.expectStatus(x, 422, 'risk_limit_exceeded');
        ctx.expect((await lastSequence(ctx, api)) === before, 'an order refused by the risk check was sequenced');
        refusals++;
        continue;
      }
      const placed = okBody<Order>(ctx, x, 201, `ordering ${o.quantity} (${so} ordered today)`);
      ordered.set(k, so + o.quantity);
      if (o.cancel) okBody(ctx, await api.cancel(placed.id), 200, 'cancelling (it still counts)');
    }
    for (const [i, u] of users.entries()) {
      const a = okBody<Account>(ctx, await api.account(u), 200, 'reading the account');
      const want = symbols
        .map((symbol, j) => ({ symbol, quantity: ordered.get(`${i}/${j}`) ?? 0 }))
        .filter((t) => t.quantity > 0)
        .sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
      ctx.expect(
        JSON.stringify(a.tradedToday) === JSON.stringify(want),
        `user ${i}'s tradedToday is ${JSON.stringify(a.tradedToday)}, not ${JSON.stringify(want)}`,
      );
      const cash = a.balances.find((b) => b.asset === CASH)!;
      ctx.expect(cash.available + cash.held === 100_000_000_000, 'cash changed without a trade');
    }
  });
  ctx.evidence.refusals = refusals;
}
