// The HTTP surface of chapter 29 (the book's client gateway): handlers by operationId; routes, validation and errors
// come from the spec (reference/kit). Executions and L2 are read from the engine's state, candles from the
// market data publisher's rings.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import type { Candle, Resolution } from './candles.ts';
import { type Exchange, type NewOrderRequest, Refused } from './exchange.ts';
import { eventVisibleTo, type OrderRateLimiter, userOf } from './gateway.ts';
import { withL1Faults } from './market-data-faults.ts';
import { attachMarketDataSocket } from './market-data-socket.ts';
import type { MutantName } from './mutants.ts';
import type { FillEvent, LogEvent } from './types.ts';

export const SPEC_URL = new URL('../../specs/29-stock-exchange/openapi.yaml', import.meta.url);

export interface ExchangeAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  exchange: Exchange;
  /** The client gateway: the secret users' keys are signed with, the operator's user ID, the order rate limit. */
  gateway: { secret: string; operator: string; limiter: OrderRateLimiter };
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

/** The buy and the sell execution of one match; IDs 2 x sequence (buy) and 2 x sequence + 1 (sell). */
function executionsOf(f: FillEvent, sideOf: (orderId: number) => 'buy' | 'sell') {
  const makerSide = sideOf(f.makerOrderId);
  const one = (orderId: number, counterOrderId: number, role: 'maker' | 'taker') => {
    const side = role === 'maker' ? makerSide : makerSide === 'buy' ? 'sell' : 'buy';
    return {
      id: 2 * f.sequenceId + (side === 'sell' ? 1 : 0),
      sequenceId: f.sequenceId,
      orderId,
      counterOrderId,
      symbol: f.symbol,
      side,
      price: f.price,
      orderType: 'limit' as const,
      quantity: f.quantity,
      role,
      time: f.time,
    };
  };
  const both = [one(f.makerOrderId, f.takerOrderId, 'maker'), one(f.takerOrderId, f.makerOrderId, 'taker')];
  return both.sort((a, b) => a.id - b.id);
}

export function buildApp(options: ExchangeAppOptions): FastifyInstance {
  const { exchange, mutant } = options;
  const engine = exchange.engine;
  /** Stands for "any user": what a missing key becomes under the missing-key-as-user mutant. */
  const ANYONE = Symbol('anyone');
  /** The key's user; 401 without one. `named` is the user the request names (path or body), if any. */
  const callerOf = (request: FastifyRequest, named?: string): string | typeof ANYONE => {
    const authorization = request.headers.authorization;
    // MUTANT missing-key-as-user: a request without a key acts as the user it names (or anyone).
    if (authorization === undefined && mutant === 'missing-key-as-user') return named ?? ANYONE;
    const user = userOf(authorization, options.gateway.secret, { signatureUnchecked: mutant === 'bad-key-accepted' });
    if (user === undefined)
      throw new ProblemError(401, 'unauthorized', "send the user's key: Authorization: Bearer <userId>:<signature>", {
        headers: { 'www-authenticate': 'Bearer' },
      });
    return user;
  };
  /** 403 for the operator's key on a trading route: the operator reads the whole log, so it may not trade. */
  const refuseOperator = (caller: string | typeof ANYONE): void => {
    // MUTANT operator-can-trade: the operator's key deposits, orders and cancels like any user's.
    if (caller === options.gateway.operator && mutant !== 'operator-can-trade')
      throw new ProblemError(
        403,
        'operator_cannot_trade',
        `${caller} is the operator: it neither trades nor holds an account`,
      );
  };
  /** 401 without a key, 403 when the request names another user than the key's (or trades as the operator). */
  const asUser = (request: FastifyRequest, named: string, skip = false, trading = false): void => {
    const caller = callerOf(request, named);
    if (trading) refuseOperator(caller);
    // MUTANT owner-case-insensitive: the key's user and the named user are compared ignoring case.
    const same =
      mutant === 'owner-case-insensitive' ? String(caller).toLowerCase() === named.toLowerCase() : caller === named;
    if (caller !== ANYONE && !same && !skip)
      throw new ProblemError(403, 'forbidden', `this key is ${caller}'s; it cannot act for ${named}`);
  };
  /** The caller's order, or 404 as if there were none (another user's order is not disclosed). */
  const ownOrder = (request: FastifyRequest, orderId: number, skip = false) => {
    const order = engine.orders.get(orderId);
    const caller = callerOf(request, order?.userId);
    if (!order || (caller !== ANYONE && caller !== order.userId && !skip))
      throw new ProblemError(404, 'order_not_found', `no order ${orderId}`);
    return order;
  };
  /** 429 for an order request (placing or cancelling) over the user's window. */
  const rateLimited = (userId: string, waitMs: number): never => {
    throw new ProblemError(
      429,
      'rate_limited',
      `${userId} sent ${options.gateway.limiter.limit} order requests in the last ${options.gateway.limiter.windowMs} ms`,
      // MUTANT retry-after-missing: no Retry-After.
      mutant === 'retry-after-missing' ? {} : { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } },
    );
  };
  const refusal = (error: unknown): never => {
    if (error instanceof Refused) throw new ProblemError(error.status, error.code, error.message);
    throw error;
  };

  const app = createApp({
    spec: options.spec,
    readiness: options.readiness,
    logger: options.logger,
    unvalidated: mutant === 'unvalidated-input' ? ['placeOrder'] : [], // MUTANT unvalidated-input
    handlers: {
      // MUTANT health-plain-text: readiness is not the documented body.
      ...(mutant === 'health-plain-text'
        ? { getReadiness: async (_q, reply) => reply.type('text/plain').send('ok') }
        : {}),

      async deposit(request, reply) {
        const { userId } = request.params as { userId: string };
        const b = request.body as { asset: string; amount: number };
        asUser(request, userId, false, true);
        try {
          await exchange.deposit(userId, b.asset, b.amount);
        } catch (error) {
          refusal(error);
        }
        return reply.code(200).send(account(userId)!);
      },

      async getAccount(request, reply) {
        const { userId } = request.params as { userId: string };
        // MUTANT account-404-before-403: another user's missing account answers 404 (the owner check only when it exists).
        if (mutant === 'account-404-before-403' && !account(userId)) callerOf(request, userId);
        // MUTANT account-of-other-user-readable: any key reads any account.
        else asUser(request, userId, mutant === 'account-of-other-user-readable');
        const a = account(userId);
        // MUTANT account-404-as-empty: an unknown user is answered as an empty account.
        if (!a && mutant === 'account-404-as-empty')
          return reply.code(200).send({ userId, balances: [], tradedToday: [] });
        if (!a) throw new ProblemError(404, 'account_not_found', `no account ${userId}`);
        return reply.code(200).send(a);
      },

      async placeOrder(request, reply) {
        const b = request.body as NewOrderRequest & { orderType: 'limit' };
        const existing = () => exchange.existing(b.userId, b.clientOrderId);
        // MUTANT duplicate-before-auth: a repeated clientOrderId is answered before the key is checked.
        if (mutant === 'duplicate-before-auth' && existing()) return reply.code(200).send(existing());
        // MUTANT rate-limit-per-symbol: one window per user and symbol.
        const admit = () =>
          options.gateway.limiter.admit(mutant === 'rate-limit-per-symbol' ? `${b.userId}\n${b.symbol}` : b.userId);
        // MUTANT rate-limit-before-auth: the limiter runs before the key is checked (a 401 or 403 counts).
        const early = mutant === 'rate-limit-before-auth' ? admit() : undefined;
        asUser(request, b.userId, false, true);
        // MUTANT duplicate-not-rate-limited: a repeated clientOrderId is answered before the limiter, not counted.
        if (mutant === 'duplicate-not-rate-limited' && existing()) return reply.code(200).send(existing());
        const waitMs = early ?? admit();
        if (waitMs > 0) rateLimited(b.userId, waitMs);
        try {
          const { order, created } = await exchange.place({
            userId: b.userId,
            ...(b.clientOrderId !== undefined ? { clientOrderId: b.clientOrderId } : {}),
            symbol: b.symbol,
            side: b.side,
            price: b.price,
            quantity: b.quantity,
          });
          return reply.code(created ? 201 : 200).send(order);
        } catch (error) {
          // MUTANT refused-order-not-counted: an order the exchange refuses (422) gives its slot back.
          if (mutant === 'refused-order-not-counted' && error instanceof Refused)
            options.gateway.limiter.release(b.userId);
          return refusal(error);
        }
      },

      async getOrder(request, reply) {
        const { orderId } = request.params as { orderId: number };
        return reply.code(200).send(ownOrder(request, orderId));
      },

      async cancelOrder(request, reply) {
        const { orderId } = request.params as { orderId: number };
        const caller = callerOf(request, engine.orders.get(orderId)?.userId);
        // MUTANT operator-refusal-counted: the operator's cancel is counted in its window before it is refused.
        if (mutant !== 'operator-refusal-counted') refuseOperator(caller);
        // A cancel counts in the caller's order window before the order is looked up: a 429 discloses nothing.
        // MUTANT cancels-not-limited: cancels pass the gateway uncounted.
        // MUTANT cancel-counted-after-lookup: counted only once the order is found (a 404 cancel is free).
        if (mutant !== 'cancels-not-limited' && mutant !== 'cancel-counted-after-lookup') {
          // MUTANT cancel-counted-to-owner: counted in the window of the order's owner, not the caller's.
          const owner = mutant === 'cancel-counted-to-owner' ? engine.orders.get(orderId)?.userId : undefined;
          const who = owner ?? (caller === ANYONE ? '' : caller);
          const waitMs = options.gateway.limiter.admit(who);
          if (waitMs > 0) rateLimited(who, waitMs);
        }
        if (mutant === 'operator-refusal-counted') refuseOperator(caller);
        // MUTANT other-users-order-cancellable: any key cancels any order.
        ownOrder(request, orderId, mutant === 'other-users-order-cancellable');
        if (mutant === 'cancel-counted-after-lookup') {
          const who = caller === ANYONE ? '' : caller;
          const waitMs = options.gateway.limiter.admit(who);
          if (waitMs > 0) rateLimited(who, waitMs);
        }
        try {
          return reply.code(200).send(await exchange.cancel(orderId));
        } catch (error) {
          // MUTANT cancel-409-not-counted: a cancel of an order no longer open (409) gives its slot back.
          if (mutant === 'cancel-409-not-counted' && error instanceof Refused && caller !== ANYONE)
            options.gateway.limiter.release(caller);
          return refusal(error);
        }
      },

      async getExecutions(request, reply) {
        const q = request.query as { symbol: string; orderId?: number; startTime?: number; endTime?: number };
        const caller = callerOf(request);
        const sideOf = (id: number) => engine.orders.get(id)!.side;
        // MUTANT executions-of-other-users: every user's fills are listed, not the caller's.
        const mine = (orderId: number) =>
          caller === ANYONE || mutant === 'executions-of-other-users' || engine.orders.get(orderId)!.userId === caller;
        const executions = (engine.fillsBySymbol.get(q.symbol) ?? [])
          .filter(
            (f) =>
              (q.startTime === undefined || f.time >= q.startTime) && (q.endTime === undefined || f.time < q.endTime),
          )
          .flatMap((f) => executionsOf(f, sideOf))
          // MUTANT executions-filter-ignored: the orderId filter is not applied.
          .filter((x) => q.orderId === undefined || mutant === 'executions-filter-ignored' || x.orderId === q.orderId)
          .filter((x) => mine(x.orderId));
        return reply.code(200).send({ symbol: q.symbol, executions });
      },

      async getOrderBookL2(request, reply) {
        const q = request.query as { symbol: string; depth: number };
        const book = engine.books.get(q.symbol);
        return reply.code(200).send({
          symbol: q.symbol,
          sequenceId: exchange.sequence,
          bids: book ? book.buyBook.depth(q.depth) : [],
          asks: book ? book.sellBook.depth(q.depth) : [],
        });
      },

      async getCandles(request, reply) {
        const q = request.query as { symbol: string; resolution: Resolution; startTime?: number; endTime?: number };
        // MUTANT candles-filter-trade-time: aggregated from the trades, the filters comparing each trade's time.
        if (mutant === 'candles-filter-trade-time')
          return reply.code(200).send({ symbol: q.symbol, resolution: q.resolution, candles: candlesByTradeTime(q) });
        // The market data publisher's rings: the last CANDLE_HISTORY[resolution] candles, no older ones.
        const candles: Omit<Candle, 'resolution'>[] = [];
        for (const { resolution: _, ...c } of exchange.marketData.candles(q.symbol, q.resolution)) {
          if (q.startTime !== undefined && c.timestamp < q.startTime) continue;
          if (q.endTime !== undefined && c.timestamp >= q.endTime + (mutant === 'candles-end-inclusive' ? 1 : 0))
            continue; // MUTANT candles-end-inclusive
          candles.push(c);
        }
        return reply.code(200).send({ symbol: q.symbol, resolution: q.resolution, candles });
      },

      // The WebSocket upgrade of this path is taken by market-data-socket.ts before routing; a plain GET gets here.
      async subscribeMarketData() {
        throw new ProblemError(426, 'upgrade_required', 'this path is a WebSocket: send the upgrade', {
          headers: { upgrade: 'websocket' },
        });
      },

      async getEvents(request, reply) {
        const q = request.query as { fromSequence: number; limit: number };
        let caller: string | typeof ANYONE;
        // MUTANT events-public: the log is answered without a key, every event (the gap this rule closed).
        if (mutant === 'events-public') caller = ANYONE;
        else
          try {
            caller = callerOf(request);
          } catch (error) {
            // MUTANT events-401-bare: the log's 401 has no problem body.
            if (mutant === 'events-401-bare' && error instanceof ProblemError)
              return reply.code(401).header('www-authenticate', 'Bearer').send();
            throw error;
          }
        // The operator (and "anyone" under missing-key-as-user) reads every event; a user their own account's.
        // MUTANT events-unscoped: any valid key reads every event.
        // MUTANT events-operator-case-insensitive: the operator's ID is matched ignoring case.
        const operator =
          mutant === 'events-operator-case-insensitive'
            ? String(caller).toLowerCase() === options.gateway.operator.toLowerCase()
            : caller === options.gateway.operator;
        const all = caller === ANYONE || operator || mutant === 'events-unscoped';
        // MUTANT events-owners-lost-on-restart: the owners come from an index the replay does not fill.
        const ownerOf =
          mutant === 'events-owners-lost-on-restart'
            ? (orderId: number) => exchange.owners.get(orderId)
            : (orderId: number) => engine.orders.get(orderId)?.userId;
        const visible = all ? undefined : (e: LogEvent) => eventVisibleTo(caller as string, e, ownerOf);
        const events = exchange.eventsFrom(q.fromSequence, q.limit, visible);
        // MUTANT events-last-sequence-own: a user's lastSequence is their own newest event's, not the newest stamped.
        const own = mutant === 'events-last-sequence-own' && visible;
        const lastSequence = own ? (exchange.events.findLast(visible)?.sequenceId ?? 0) : exchange.sequence;
        return reply.code(200).send({ lastSequence, events });
      },
    },
  });
  // MUTANT public-route-rejects-bad-key: any request with an invalid Authorization header is refused 401, public ones too.
  if (mutant === 'public-route-rejects-bad-key')
    app.addHook('onRequest', async (request) => {
      if (request.headers.authorization !== undefined && !request.url.startsWith('/health')) callerOf(request);
    });
  // MUTANT md-l1-first-top-cached, md-l1-before-update: the publisher as the socket sees it (market-data-faults.ts).
  const publisher = withL1Faults(exchange.marketData, {
    firstTopCached: mutant === 'md-l1-first-top-cached',
    beforeUpdate: mutant === 'md-l1-before-update',
    blankAfterStart: mutant === 'md-derived-blank-after-start',
  });
  attachMarketDataSocket(app, publisher, {
    acceptAnySymbol: mutant === 'md-bad-symbol-accepted',
    snapshotLate: mutant === 'md-snapshot-after-deltas',
    dropOnStop: mutant === 'md-stop-drops-subscribers',
    defaultAllChannels: mutant === 'md-default-all-channels',
    resolutionIgnored: mutant === 'md-candle-resolution-ignored',
    resolutionParseInt: mutant === 'md-resolution-parseint',
    unknownChannelsSkipped: mutant === 'md-unknown-channel-skipped',
    resolutionImpliesCandles: mutant === 'md-resolution-implies-candles',
    boundShared: mutant === 'md-slow-bound-shared',
    boundNeverReached: mutant === 'md-slow-subscriber-kept',
    answersAwaitSubscribers: mutant === 'md-answers-await-subscribers',
    registerOnceWritten: mutant === 'md-registered-once-written',
  });
  return app;

  /** The candles-filter-trade-time mutant's answer: windows aggregated from the trades whose own time passes the filters. */
  function candlesByTradeTime(q: { symbol: string; resolution: number; startTime?: number; endTime?: number }) {
    const width = q.resolution * 1000;
    const candles: Omit<Candle, 'resolution'>[] = [];
    for (const f of engine.fillsBySymbol.get(q.symbol) ?? []) {
      const timestamp = Math.floor(f.time / width) * width;
      if (q.startTime !== undefined && f.time < q.startTime) continue;
      if (q.endTime !== undefined && f.time >= q.endTime) continue;
      const last = candles.at(-1);
      if (last && last.timestamp === timestamp) {
        last.high = Math.max(last.high, f.price);
        last.low = Math.min(last.low, f.price);
        last.close = f.price;
        last.volume += f.quantity;
      } else
        candles.push({ timestamp, open: f.price, high: f.price, low: f.price, close: f.price, volume: f.quantity });
    }
    return candles;
  }

  function account(userId: string) {
    const w = engine.wallets.get(userId);
    if (!w) return undefined;
    // Today is the day of the sequencer's time now, as the risk check reads it (not the host's clock).
    const day = engine.riskDay(exchange.now());
    const prefix = `${userId}\n`;
    const tradedToday: { symbol: string; quantity: number }[] = [];
    for (const [k, quantity] of engine.traded) {
      if (!k.startsWith(prefix)) continue;
      const [, symbol, d] = k.split('\n');
      if (Number(d) === day) tradedToday.push({ symbol: symbol!, quantity });
    }
    return {
      userId,
      balances: [...w.entries()]
        .map(([asset, b]) => ({ asset, available: b.available, held: b.held }))
        .sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0)),
      tradedToday: tradedToday.sort((a, b) => (a.symbol < b.symbol ? -1 : 1)),
    };
  }
}
