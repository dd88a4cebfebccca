// SE-C5: the market-data WebSocket (`GET /v1/marketdata/ws?symbol=`) frame by frame as a subscriber sees it: the
// refused subscriptions, the snapshot, an order's, a match's and a cancel's frames with their seq and the log's
// sequence IDs, late subscribers' snapshots (a book 12 levels deep), nothing of another symbol, and the chosen
// channels (md-channels.ts).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { CASH, type EventPage, freshSymbol, freshUser, fund, type Order, okBody, seApi } from './api.ts';
import { expectChannels, openChannelSubscribers } from './md-channels.ts';
import { expectNoViolations, frameAt, same, show, withLog } from './md-check-kit.ts';
import { MdClient, streamUrl } from './md-client.ts';

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
    for (const [what, s, options] of [
      ['a lowercase symbol', 'aapl', ''],
      ['a symbol of 9 letters', 'ABCDEFGHI', ''],
      ['an empty symbol', '', ''],
      ['no symbol', null, ''],
      ['an unknown channel', symbol, 'channels=l3'],
      ['an unknown channel beside known ones', symbol, 'channels=l2,l3'],
      ['a channel twice', symbol, 'channels=l1,l1'],
      ['an empty channel list', symbol, 'channels='],
      ['channels given twice', symbol, 'channels=l1&channels=l2'],
      ['a resolution the REST candles do not offer', symbol, 'channels=candles&resolution=7'],
      ['a resolution that is not an integer', symbol, 'channels=candles&resolution=60.5'],
      ['a resolution with trailing text', symbol, 'channels=candles&resolution=60s'],
    ] as const) {
      const c = new MdClient(streamUrl(ctx, s, options), log);
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
    const chosen = await openChannelSubscribers(ctx, log, symbol);
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
    await expectChannels(ctx, api, log, { symbol, seller, buyer, l2: c, ...chosen, firstTaker: buy });
    await frameAt(ctx, other, 0, 'a subscriber of another symbol');
    ctx.expect(
      other.frames.length === 1,
      `a subscriber of another symbol got ${other.frames.length - 1} frames of other symbols: ${show(other.frames.slice(1, 3))}`,
    );
    ctx.evidence.framesChecked = [...log.clients].reduce((n, x) => n + x.frames.length, 0);
  });
}
