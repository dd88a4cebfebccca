// A trading session driven over the wire beside the model exchange: every answer (placed, refused, cancelled or
// refused to cancel) is checked against the model as it comes. The properties then compare what the exchange
// reports afterwards (executions, the book, wallets, the log) with the model.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import {
  CASH,
  type Executions,
  freshSymbol,
  freshUser,
  fund,
  type Order,
  okBody,
  type SeApi,
  type Side,
} from './api.ts';
import { ModelExchange } from './model.ts';

export type Command =
  | { kind: 'place'; user: number; side: Side; price: number; quantity: number }
  | { kind: 'cancel'; pick: number };

export interface SessionShape {
  users: number;
  minPrice: number;
  maxPrice: number;
  maxQuantity: number;
}

export const commandsArb = (s: SessionShape, maxLength = 30): fc.Arbitrary<Command[]> =>
  fc.array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('place' as const),
          user: fc.nat({ max: s.users - 1 }),
          side: fc.constantFrom<Side>('buy', 'sell'),
          price: fc.integer({ min: s.minPrice, max: s.maxPrice }),
          quantity: fc.integer({ min: 1, max: s.maxQuantity }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
    ),
    { minLength: 1, maxLength },
  );

export interface Session {
  symbol: string;
  users: string[];
  /** Order IDs the exchange gave, in the order placed. */
  ids: number[];
  model: ModelExchange;
  /** What every user deposited: asset -> total. */
  deposited: Map<string, number>;
}

/** Hooks for a check that watches the session from outside (the market-data stream). */
export interface SessionHooks {
  /** Before the first command, once the symbol is chosen and the users funded. */
  beforeCommands?: (symbol: string) => Promise<void>;
  /** After each command's answer was checked; `sequenced` counts the accepted orders and cancels so far. */
  afterStep?: (step: number, model: ModelExchange, sequenced: number) => Promise<void>;
}

/** Funds the users (cash and shares per user, as given) and runs the commands, checking each answer. */
export async function runSession(
  ctx: CheckContext,
  api: SeApi,
  funds: readonly { cash: number; shares: number }[],
  commands: readonly Command[],
  prefix: string,
  /** Read each order's executions as it is placed and compare them with the model's fills (names the first
   * match that breaks price-time priority, at the step that made it). */
  checkFillsEachStep = false,
  hooks: SessionHooks = {},
): Promise<Session> {
  const symbol = freshSymbol();
  const model = new ModelExchange();
  const users = funds.map(() => freshUser(prefix));
  const deposited = new Map<string, number>();
  for (const [i, f] of funds.entries()) {
    await fund(ctx, api, users[i]!, { [CASH]: f.cash, [symbol]: f.shares });
    if (f.cash > 0) model.deposit(users[i]!, CASH, f.cash);
    if (f.shares > 0) model.deposit(users[i]!, symbol, f.shares);
    deposited.set(CASH, (deposited.get(CASH) ?? 0) + f.cash);
    deposited.set(symbol, (deposited.get(symbol) ?? 0) + f.shares);
  }
  const ids: number[] = [];
  let sequenced = 0;
  await hooks.beforeCommands?.(symbol);
  for (const [step, c] of commands.entries()) {
    const before = sequenced;
    if (c.kind === 'place') {
      const userId = users[c.user]!;
      const x = await api.place({ userId, symbol, side: c.side, price: c.price, quantity: c.quantity });
      const what = `step ${step}: ${c.side} ${c.quantity} at ${c.price} by user ${c.user}`;
      if (!model.canHold(userId, symbol, c.side, c.price, c.quantity)) {
        ctx.expectStatus(x, 422, 'insufficient_funds');
        continue;
      }
      const o = okBody<Order>(ctx, x, 201, what);
      sequenced++;
      ids.push(o.id);
      model.place(symbol, o.id, userId, c.side, c.price, c.quantity);
      const m = model.orders.get(o.id)!;
      ctx.expect(
        o.filledQuantity === m.filled && o.remainingQuantity === m.remaining && o.status === m.status,
        `${what}: answered ${o.status} ${o.filledQuantity} filled / ${o.remainingQuantity} remaining; price-time priority gives ${m.status} ${m.filled} / ${m.remaining}`,
        x,
      );
      const made = model.fills.filter((f) => f.takerOrderId === o.id);
      if (checkFillsEachStep && made.length > 0) {
        const ex = await api.executions({ symbol, orderId: o.id }, userId);
        const got = okBody<Executions>(ctx, ex, 200, `${what}: reading its executions`)
          .executions.sort((a, b) => a.sequenceId - b.sequenceId)
          .map((e) => ({ makerOrderId: e.counterOrderId, price: e.price, quantity: e.quantity }));
        const want = made.map((f) => ({ makerOrderId: f.makerOrderId, price: f.price, quantity: f.quantity }));
        ctx.expect(
          JSON.stringify(got) === JSON.stringify(want),
          `${what}: it traded with ${JSON.stringify(got)}; price-time priority (best price, then the oldest order) gives ${JSON.stringify(want)}`,
          ex,
        );
      }
    } else if (ids.length > 0) {
      const id = ids[c.pick % ids.length]!;
      const x = await api.cancel(id);
      const state = model.orders.get(id)!.status;
      if (model.cancel(symbol, id)) {
        const o = okBody<Order>(ctx, x, 200, `step ${step}: cancelling resting order ${id}`);
        sequenced++;
        ctx.expect(
          o.status === 'canceled' && o.remainingQuantity === 0,
          `step ${step}: the cancel answered ${o.status}`,
          x,
        );
      } else ctx.expectStatus(x, 409, 'order_not_open');
      ctx.expect(
        x.status !== 200 || state !== 'filled',
        `step ${step}: a cancel of filled order ${id} was accepted`,
        x,
      );
    }
    if (hooks.afterStep && sequenced > before) await hooks.afterStep(step, model, sequenced);
  }
  return { symbol, users, ids, model, deposited };
}
