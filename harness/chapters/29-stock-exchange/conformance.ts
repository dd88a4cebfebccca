// SE-C1..C4: every operation and every documented status, errors included. Each response is also validated against
// the spec by ctx.http, so a wrong status, content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import {
  type Account,
  CASH,
  type Candles,
  DAILY_LIMIT,
  type EventPage,
  type Executions,
  executionsOf,
  freshSymbol,
  freshUser,
  fund,
  lastSequence,
  type Order,
  type OrderBookL2,
  okBody,
  seApi,
} from './api.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'GET', path: '/v1/order' },
    { method: 'PUT', path: '/v1/order/1' },
    { method: 'POST', path: '/v1/execution' },
    { method: 'DELETE', path: '/v1/marketdata/orderBook/L2' },
    { method: 'POST', path: '/v1/marketdata/candles' },
    { method: 'POST', path: '/v1/marketdata/ws' },
    { method: 'POST', path: '/v1/events' },
    { method: 'GET', path: '/v1/accounts/u/deposits' },
    { method: 'DELETE', path: '/v1/accounts/u' },
  ]);
}

const balanceOf = (a: Account, asset: string) => a.balances.find((b) => b.asset === asset);

export async function accountConformance(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const user = freshUser('c2');
  const symbol = freshSymbol();
  ctx.expectStatus(await api.account(user), 404, 'account_not_found');
  const first = okBody<Account>(ctx, await api.deposit(user, CASH, 12_345), 200, 'a first deposit');
  ctx.expect(
    first.userId === user &&
      JSON.stringify(first.balances) === JSON.stringify([{ asset: CASH, available: 12_345, held: 0 }]),
    `a first deposit of 12,345 cents answered ${JSON.stringify(first)}`,
  );
  okBody(ctx, await api.deposit(user, CASH, 55), 200, 'a second deposit');
  okBody(ctx, await api.deposit(user, symbol, 7), 200, 'a deposit of shares');
  const x = await api.account(user);
  const a = okBody<Account>(ctx, x, 200, 'reading the account');
  ctx.expect(balanceOf(a, CASH)?.available === 12_400, `cash is ${JSON.stringify(balanceOf(a, CASH))}, not 12,400`, x);
  ctx.expect(balanceOf(a, symbol)?.available === 7, `shares are ${JSON.stringify(balanceOf(a, symbol))}, not 7`, x);
  ctx.expect(
    a.balances.map((b) => b.asset).join() === [...a.balances.map((b) => b.asset)].sort().join(),
    'balances are not ascending by asset',
    x,
  );
  ctx.expect(a.tradedToday.length === 0, 'a user who ordered nothing has traded today', x);
  for (const bad of [
    { asset: CASH, amount: 0 },
    { asset: CASH, amount: -5 },
    { asset: CASH, amount: 1.5 },
    { asset: 'usd', amount: 1 },
    { asset: CASH },
    { asset: CASH, amount: 1, extra: 1 },
  ]) {
    const b = await ctx.http.send({
      method: 'POST',
      path: `/v1/accounts/${user}/deposits`,
      json: bad,
      validRequest: false,
    });
    ctx.expectStatus(b, 400, 'invalid_request');
  }
  ctx.expectStatus(
    await ctx.http.send({ method: 'GET', path: '/v1/accounts/a%20b', validRequest: false }),
    400,
    'invalid_request',
  );
  const after = okBody<Account>(ctx, await api.account(user), 200, 'reading the account after bad deposits');
  ctx.expect(JSON.stringify(after) === JSON.stringify(a), 'a refused deposit changed the account');
  const media = await ctx.http.send({
    method: 'POST',
    path: `/v1/accounts/${user}/deposits`,
    rawBody: 'asset=USD',
    contentType: 'text/plain',
    validRequest: false,
  });
  ctx.expectStatus(media, 415, 'unsupported_media_type');
}

export async function orderConformance(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const symbol = freshSymbol();
  const buyer = freshUser('c3b');
  const seller = freshUser('c3s');
  await fund(ctx, api, buyer, { [CASH]: 1_000_000 });
  await fund(ctx, api, seller, { [symbol]: 100 });

  // A resting sell, then a buy that crosses it: the buy fills at the sell's price, partly, and rests the rest.
  const sx = await api.place({ userId: seller, symbol, side: 'sell', price: 500, quantity: 30 });
  const sell = okBody<Order>(ctx, sx, 201, 'placing a sell');
  ctx.expect(
    sell.status === 'new' && sell.filledQuantity === 0 && sell.remainingQuantity === 30 && sell.clientOrderId === null,
    `a resting sell answered ${JSON.stringify(sell)}`,
    sx,
  );
  const bx = await api.place({ userId: buyer, clientOrderId: 'c3-1', symbol, side: 'buy', price: 510, quantity: 50 });
  const buy = okBody<Order>(ctx, bx, 201, 'placing a crossing buy');
  ctx.expect(
    buy.status === 'partially_filled' && buy.filledQuantity === 30 && buy.remainingQuantity === 20,
    `the buy of 50 against a sell of 30 answered ${buy.status} ${buy.filledQuantity}/${buy.remainingQuantity}`,
    bx,
  );
  ctx.expect(
    buy.sequenceId > sell.sequenceId && buy.creationTime >= sell.creationTime,
    'sequence or time went back',
    bx,
  );
  const gx = await api.order(sell.id);
  const gotSell = okBody<Order>(ctx, gx, 200, 'reading the sell');
  ctx.expect(gotSell.status === 'filled' && gotSell.remainingQuantity === 0, `the sell is ${gotSell.status}`, gx);
  // The buyer holds 20 x 510 for the rest and paid 30 x 500.
  const acct = okBody<Account>(ctx, await api.account(buyer), 200, 'reading the buyer');
  ctx.expect(
    balanceOf(acct, CASH)?.held === 20 * 510 && balanceOf(acct, CASH)?.available === 1_000_000 - 30 * 500 - 20 * 510,
    `the buyer's cash is ${JSON.stringify(balanceOf(acct, CASH))}`,
  );
  ctx.expect(balanceOf(acct, symbol)?.available === 30, 'the buyer did not get 30 shares');
  ctx.expect(
    JSON.stringify(acct.tradedToday) === JSON.stringify([{ symbol, quantity: 50 }]),
    `tradedToday is ${JSON.stringify(acct.tradedToday)}, not 50 ${symbol}`,
  );

  // The same clientOrderId again: 200, the same order, nothing new sequenced.
  const seqBefore = await lastSequence(ctx, api);
  const again = await api.place({
    userId: buyer,
    clientOrderId: 'c3-1',
    symbol,
    side: 'buy',
    price: 510,
    quantity: 50,
  });
  const same = okBody<Order>(ctx, again, 200, 'placing a repeated clientOrderId');
  ctx.expect(same.id === buy.id, `a repeated clientOrderId placed order ${same.id}, not ${buy.id}`, again);
  ctx.expect((await lastSequence(ctx, api)) === seqBefore, 'a repeated clientOrderId was sequenced');
  // The same clientOrderId from another user is that user's own order: 201, a new ID (the scope is the user).
  const otherX = await api.place({
    userId: seller,
    clientOrderId: 'c3-1',
    symbol,
    side: 'sell',
    price: 900,
    quantity: 1,
  });
  const other = okBody<Order>(ctx, otherX, 201, "another user's order with the same clientOrderId");
  ctx.expect(
    other.id !== buy.id && other.userId === seller && other.side === 'sell',
    `another user's clientOrderId c3-1 answered order ${other.id} of ${other.userId}, not a new order (IDs are per user)`,
    otherX,
  );
  // A retry is answered before the funds check: the order holds all the user's cash, and its retry is still 200.
  const allIn = freshUser('c3a');
  await fund(ctx, api, allIn, { [CASH]: 1000 });
  const allInBody = { userId: allIn, clientOrderId: 'all-in', symbol, side: 'buy' as const, price: 100, quantity: 10 };
  const first = okBody<Order>(ctx, await api.place(allInBody), 201, 'an order holding all the cash');
  const retry = await api.place(allInBody);
  ctx.expect(
    retry.status === 200 && (retry.body as Order).id === first.id,
    `the retry of an order that holds all the cash answered ${retry.status ?? retry.error}, not 200 with order ${first.id} (a repeated clientOrderId is answered before the funds check)`,
    retry,
  );

  // Cancel the rest: 200, canceled, the hold released; again: 409; a filled order: 409; unknown: 404.
  const cx = await api.cancel(buy.id);
  const canceled = okBody<Order>(ctx, cx, 200, 'cancelling the resting buy');
  ctx.expect(
    canceled.status === 'canceled' && canceled.remainingQuantity === 0 && canceled.filledQuantity === 30,
    `the cancel answered ${JSON.stringify(canceled)}`,
    cx,
  );
  const released = okBody<Account>(ctx, await api.account(buyer), 200, 'reading the buyer after the cancel');
  ctx.expect(
    balanceOf(released, CASH)?.held === 0 && balanceOf(released, CASH)?.available === 1_000_000 - 30 * 500,
    `after the cancel the buyer's cash is ${JSON.stringify(balanceOf(released, CASH))}`,
  );
  ctx.expectStatus(await api.cancel(buy.id), 409, 'order_not_open');
  const filledCancel = await api.cancel(sell.id);
  ctx.expectStatus(filledCancel, 409, 'order_not_open');
  const still = okBody<Order>(ctx, await api.order(sell.id), 200, 'reading the filled sell after its cancel');
  ctx.expect(still.status === 'filled', `a refused cancel turned a filled order into ${still.status}`);
  ctx.expectStatus(await api.order(9_007_199_254_740_991), 404, 'order_not_found');
  ctx.expectStatus(await api.cancel(9_007_199_254_740_991), 404, 'order_not_found');

  // Refusals hold nothing and sequence nothing.
  const poor = freshUser('c3p');
  await fund(ctx, api, poor, { [CASH]: 999 });
  const rich = freshUser('c3r');
  await fund(ctx, api, rich, { [CASH]: 1_000_000_000_000 });
  const seq = await lastSequence(ctx, api);
  ctx.expectStatus(
    await api.place({ userId: poor, symbol, side: 'buy', price: 100, quantity: 10 }),
    422,
    'insufficient_funds',
  );
  ctx.expectStatus(
    await api.place({ userId: poor, symbol, side: 'sell', price: 100, quantity: 1 }),
    422,
    'insufficient_funds',
  );
  okBody(
    ctx,
    await api.place({ userId: rich, symbol, side: 'buy', price: 1, quantity: DAILY_LIMIT }),
    201,
    'a 1M order',
  );
  const over = await api.place({ userId: rich, symbol, side: 'buy', price: 1, quantity: 1 });
  ctx.expectStatus(over, 422, 'risk_limit_exceeded');
  ctx.expect((await lastSequence(ctx, api)) === seq + 1, 'a refused order was sequenced');
  const poorAcct = okBody<Account>(ctx, await api.account(poor), 200, 'reading the refused user');
  ctx.expect(balanceOf(poorAcct, CASH)?.held === 0, 'a refused order holds cash');

  for (const bad of [
    { symbol, side: 'buy', price: 1, orderType: 'limit', quantity: 1 },
    { userId: buyer, symbol, side: 'buy', price: 1, orderType: 'market', quantity: 1 },
    { userId: buyer, symbol, side: 'hold', price: 1, orderType: 'limit', quantity: 1 },
    { userId: buyer, symbol, side: 'buy', price: 0, orderType: 'limit', quantity: 1 },
    { userId: buyer, symbol, side: 'buy', price: 1.5, orderType: 'limit', quantity: 1 },
    { userId: buyer, symbol, side: 'buy', price: 1, orderType: 'limit', quantity: 0 },
    { userId: buyer, symbol, side: 'buy', price: 1, orderType: 'limit', quantity: DAILY_LIMIT + 1 },
    { userId: buyer, symbol: 'aapl', side: 'buy', price: 1, orderType: 'limit', quantity: 1 },
    { userId: buyer, symbol, side: 'buy', price: '1', orderType: 'limit', quantity: 1 },
    { userId: buyer, symbol, side: 'buy', price: 1, orderType: 'limit', quantity: 1, extra: true },
  ]) {
    const x = await ctx.http.send({ method: 'POST', path: '/v1/order', json: bad, validRequest: false });
    ctx.expectStatus(x, 400, 'invalid_request');
  }
  ctx.expectStatus(
    await ctx.http.send({ method: 'GET', path: '/v1/order/abc', validRequest: false }),
    400,
    'invalid_request',
  );
  ctx.expectStatus(
    await ctx.http.send({ method: 'DELETE', path: '/v1/order/0', validRequest: false }),
    400,
    'invalid_request',
  );
}

export async function marketDataReads(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const symbol = freshSymbol();
  const b = freshUser('c4b');
  const s = freshUser('c4s');
  await fund(ctx, api, b, { [CASH]: 10_000_000 });
  await fund(ctx, api, s, { [symbol]: 1000 });
  const empty = okBody<OrderBookL2>(ctx, await api.l2(symbol), 200, 'the L2 of a symbol never traded');
  ctx.expect(empty.bids.length === 0 && empty.asks.length === 0, 'an untraded symbol has a book');
  const ids: number[] = [];
  for (const [price, quantity] of [
    [101, 5],
    [102, 7],
    [103, 9],
    [101, 3],
  ] as const)
    ids.push(
      okBody<Order>(ctx, await api.place({ userId: s, symbol, side: 'sell', price, quantity }), 201, 'a sell').id,
    );
  for (const [price, quantity] of [
    [99, 4],
    [98, 6],
  ] as const)
    okBody(ctx, await api.place({ userId: b, symbol, side: 'buy', price, quantity }), 201, 'a buy');
  const lx = await api.l2(symbol);
  const l2 = okBody<OrderBookL2>(ctx, lx, 200, 'reading the L2 book');
  ctx.expect(
    JSON.stringify(l2.asks) ===
      JSON.stringify([
        { price: 101, size: 8 },
        { price: 102, size: 7 },
        { price: 103, size: 9 },
      ]) &&
      JSON.stringify(l2.bids) ===
        JSON.stringify([
          { price: 99, size: 4 },
          { price: 98, size: 6 },
        ]),
    `the L2 book is ${JSON.stringify({ bids: l2.bids, asks: l2.asks })}`,
    lx,
  );
  const d1 = okBody<OrderBookL2>(ctx, await api.l2(symbol, 1), 200, 'reading the L2 book with depth 1');
  ctx.expect(
    d1.asks.length === 1 && d1.bids.length === 1 && d1.asks[0]!.price === 101,
    'depth 1 is not the best level',
  );

  // A buy of 10 at 102 takes 5 from the first 101, 3 from the second 101 and 2 from 102.
  const taker = okBody<Order>(
    ctx,
    await api.place({ userId: b, symbol, side: 'buy', price: 102, quantity: 10 }),
    201,
    'a taker',
  );
  const { executions: all, answers } = await executionsOf(ctx, api, symbol, [b, s]);
  const ex = answers[0]!;
  const mine = all.filter((e) => e.orderId === taker.id);
  ctx.expect(
    JSON.stringify(mine.map((e) => [e.counterOrderId, e.price, e.quantity, e.side, e.role])) ===
      JSON.stringify([
        [ids[0], 101, 5, 'buy', 'taker'],
        [ids[3], 101, 3, 'buy', 'taker'],
        [ids[1], 102, 2, 'buy', 'taker'],
      ]),
    `the taker's executions are ${JSON.stringify(mine)}`,
    ex,
  );
  ctx.expect(all.length === 6, `3 matches should give 6 executions, got ${all.length}`, ex);
  ctx.expect(new Set(all.map((e) => e.id)).size === all.length, 'execution IDs repeat', ex);
  const byOrder = okBody<Executions>(
    ctx,
    await api.executions({ symbol, orderId: ids[0]! }, s),
    200,
    'executions of one order',
  );
  ctx.expect(
    byOrder.executions.length === 1 &&
      byOrder.executions[0]!.orderId === ids[0] &&
      byOrder.executions[0]!.role === 'maker',
    `the orderId filter answered ${JSON.stringify(byOrder.executions)}`,
  );
  const t = taker.creationTime;
  const none = okBody<Executions>(ctx, await api.executions({ symbol, startTime: t + 1 }, b), 200, 'executions after');
  ctx.expect(none.executions.length === 0, 'startTime after every fill still answered fills');
  const before = okBody<Executions>(ctx, await api.executions({ symbol, endTime: t }, b), 200, 'executions before');
  ctx.expect(before.executions.length === 0, 'endTime at the fills answered them (endTime is exclusive)');

  const cx = await api.candles({ symbol, resolution: 86400 });
  const c = okBody<Candles>(ctx, cx, 200, 'reading daily candles').candles;
  const day = Math.floor(t / 86_400_000) * 86_400_000;
  ctx.expect(
    JSON.stringify(c) === JSON.stringify([{ timestamp: day, open: 101, high: 102, low: 101, close: 102, volume: 10 }]),
    `the daily candle is ${JSON.stringify(c)}`,
    cx,
  );
  const later = okBody<Candles>(
    ctx,
    await api.candles({ symbol, resolution: 60, startTime: t + 60_000 }),
    200,
    'candles later',
  );
  ctx.expect(later.candles.length === 0, 'a window after the trades has a candle');
  // The filters select whole windows by their start (startTime inclusive, endTime exclusive), not trades by their
  // time: the day's window starts before its trades, so startTime = its start + 1 leaves it out and endTime = its
  // start + 1 keeps it whole.
  for (const [filter, want] of [
    [{ startTime: day }, [day]],
    [{ startTime: day + 1 }, []],
    [{ endTime: day }, []],
    [{ endTime: day + 1 }, [day]],
  ] as const) {
    const fx = await api.candles({ symbol, resolution: 86400, ...filter });
    const got = okBody<Candles>(ctx, fx, 200, `daily candles with ${JSON.stringify(filter)}`).candles;
    ctx.expect(
      JSON.stringify(got.map((x) => x.timestamp)) === JSON.stringify(want) && got.every((x) => x.volume === 10),
      `daily candles with ${JSON.stringify(filter)} (the day's window starts at ${day}, its trades at ${t}) answered ${JSON.stringify(got)}, not ${want.length ? 'that window whole' : 'none'}`,
      fx,
    );
  }

  const seq = await lastSequence(ctx, api);
  const ev = await api.events(Math.max(1, seq - 2), 2);
  const page = okBody<EventPage>(ctx, ev, 200, 'reading the event log');
  ctx.expect(
    page.events.length === 2 && page.events[0]!.sequenceId === Math.max(1, seq - 2) && page.lastSequence >= seq,
    `the event page from ${seq - 2} (limit 2) is ${JSON.stringify(page.events.map((e) => e.sequenceId))}`,
    ev,
  );
  const past = okBody<EventPage>(ctx, await api.events(seq + 1_000_000), 200, 'reading past the end');
  ctx.expect(past.events.length === 0, 'the log answered events past its end');

  for (const path of [
    '/v1/execution',
    `/v1/execution?symbol=${symbol}&orderId=0`,
    '/v1/marketdata/orderBook/L2?symbol=ab',
    `/v1/marketdata/orderBook/L2?symbol=${symbol}&depth=0`,
    `/v1/marketdata/candles?symbol=${symbol}`,
    `/v1/marketdata/candles?symbol=${symbol}&resolution=7`,
    '/v1/events?fromSequence=0',
    '/v1/events?limit=1001',
  ])
    ctx.expectStatus(await ctx.http.send({ method: 'GET', path, validRequest: false }), 400, 'invalid_request');
}
