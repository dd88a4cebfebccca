// SE-C6: balances stop at 2^53 - 1 (Number.MAX_SAFE_INTEGER: past it a JSON number is no longer an exact integer,
// and cash is integer cents). openapi.yaml: a deposit that would pass it is 422 `balance_overflow` and credits
// nothing; an order whose fill would take the seller's cash or the buyer's shares past it - its own user's or the
// resting order's owner's - is 422 `balance_overflow` before sequencing, nothing held and the book unchanged. Each
// refusal is read back (accounts, the book, the log); each near miss must land exactly on its sum.
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Account,
  CASH,
  type EventPage,
  freshSymbol,
  freshUser,
  fund,
  lastSequence,
  type Order,
  type OrderBookL2,
  okBody,
  type SeApi,
  seApi,
} from './api.ts';

const MAX = Number.MAX_SAFE_INTEGER;
/** The largest single deposit the spec takes (Deposit.amount's maximum): the bound is reached in several. */
const MAX_DEPOSIT = 1_000_000_000_000_000;

/** Deposits `total` of each asset in pieces the spec takes, each answered 200. */
async function fundLarge(ctx: CheckContext, api: SeApi, user: string, assets: Record<string, number>): Promise<void> {
  for (const [asset, total] of Object.entries(assets))
    for (let left = total; left > 0; left -= MAX_DEPOSIT)
      await fund(ctx, api, user, { [asset]: Math.min(left, MAX_DEPOSIT) });
}

/** A user's total (available + held) of an asset, from GET account. */
async function holding(ctx: CheckContext, api: SeApi, user: string, asset: string) {
  const a = okBody<Account>(ctx, await api.account(user), 200, `reading ${user}'s account`);
  const b = a.balances.find((x) => x.asset === asset);
  return { available: b?.available ?? 0, held: b?.held ?? 0 };
}

function expectOverflow(ctx: CheckContext, x: import('../../core/http-client.ts').Exchange, what: string): void {
  ctx.expect(
    x.status === 422 && (x.body as { code?: string } | undefined)?.code === 'balance_overflow',
    `${what} answered ${x.status ?? x.error} ${(x.body as { code?: string } | undefined)?.code ?? ''}, not 422 balance_overflow`,
    x,
  );
}

export async function balanceOverflow(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const symbol = freshSymbol();

  // Deposits: cash and shares up to 2^53 - 1 exactly, one unit more refused, nothing credited.
  const rich = freshUser('c6d');
  for (const asset of [CASH, symbol]) {
    await fundLarge(ctx, api, rich, { [asset]: MAX - 10 });
    expectOverflow(ctx, await api.deposit(rich, asset, 11), `a deposit of 11 ${asset} onto 2^53 - 11`);
    const after = okBody<Account>(ctx, await api.deposit(rich, asset, 10), 200, `depositing the last 10 ${asset}`);
    const b = after.balances.find((x) => x.asset === asset);
    ctx.expect(b?.available === MAX, `${asset} after deposits of 2^53 - 11 and 10 is ${b?.available}, not 2^53 - 1`);
  }

  // A seller whose proceeds would pass the bound (the taker), and one whose resting sell would (the maker).
  const buyer = freshUser('c6b');
  const seller = freshUser('c6s');
  await fund(ctx, api, buyer, { [CASH]: 1_000_000 });
  await fundLarge(ctx, api, seller, { [CASH]: MAX - 50, [symbol]: 10 });
  const bid = okBody<Order>(
    ctx,
    await api.place({ userId: buyer, symbol, side: 'buy', price: 30, quantity: 2 }),
    201,
    'a resting buy of 2 at 30',
  );
  await expectRefusedChangingNothing(
    ctx,
    api,
    symbol,
    [buyer, seller],
    'a sell of 2 at 30 by a seller at 2^53 - 51',
    () => api.place({ userId: seller, symbol, side: 'sell', price: 30, quantity: 2 }),
  );
  const one = okBody<Order>(
    ctx,
    await api.place({ userId: seller, symbol, side: 'sell', price: 30, quantity: 1 }),
    201,
    'a sell of 1 at 30 by that seller (proceeds 30: within the bound)',
  );
  ctx.expect(one.filledQuantity === 1, `a sell of 1 at 30 against a bid of 30 filled ${one.filledQuantity}`);
  const cash = await holding(ctx, api, seller, CASH);
  ctx.expect(
    cash.available === MAX - 20 && cash.held === 0,
    `the seller's cash after proceeds of 30 on 2^53 - 51 is ${JSON.stringify(cash)}, not available 2^53 - 21`,
  );

  // The maker's side: a resting sell whose owner's cash is near the bound; a buy taking it is refused.
  const maker = freshUser('c6m');
  const taker = freshUser('c6t');
  await fundLarge(ctx, api, maker, { [CASH]: MAX - 5, [symbol]: 1 });
  await fund(ctx, api, taker, { [CASH]: 1_000_000 });
  okBody(ctx, await api.cancel(bid.id), 200, 'cancelling the rest of the bid');
  const ask = okBody<Order>(
    ctx,
    await api.place({ userId: maker, symbol, side: 'sell', price: 10, quantity: 1 }),
    201,
    'a resting sell of 1 at 10 by a user holding 2^53 - 6 cents',
  );
  await expectRefusedChangingNothing(
    ctx,
    api,
    symbol,
    [maker, taker],
    'a buy taking a sell whose owner would pass 2^53 - 1',
    () => api.place({ userId: taker, symbol, side: 'buy', price: 10, quantity: 1 }),
  );
  okBody(ctx, await api.cancel(ask.id), 200, "cancelling the maker's sell");

  // A buyer's shares: 2^53 - 3 held, a buy of 3 crossing refused, a buy of 2 fills to 2^53 - 1 exactly.
  const hoarder = freshUser('c6h');
  const vendor = freshUser('c6v');
  await fundLarge(ctx, api, hoarder, { [CASH]: 1_000_000, [symbol]: MAX - 2 });
  await fund(ctx, api, vendor, { [symbol]: 5 });
  okBody(
    ctx,
    await api.place({ userId: vendor, symbol, side: 'sell', price: 20, quantity: 5 }),
    201,
    'a resting sell of 5',
  );
  await expectRefusedChangingNothing(
    ctx,
    api,
    symbol,
    [hoarder, vendor],
    'a buy of 3 by a user holding 2^53 - 3 shares',
    () => api.place({ userId: hoarder, symbol, side: 'buy', price: 20, quantity: 3 }),
  );
  const fill = okBody<Order>(
    ctx,
    await api.place({ userId: hoarder, symbol, side: 'buy', price: 20, quantity: 2 }),
    201,
    'a buy of 2 reaching 2^53 - 1 shares',
  );
  ctx.expect(fill.filledQuantity === 2, `a buy of 2 against a resting sell of 5 filled ${fill.filledQuantity}`);
  const shares = await holding(ctx, api, hoarder, symbol);
  ctx.expect(shares.available === MAX, `the buyer's shares are ${JSON.stringify(shares)}, not 2^53 - 1`);
}

/**
 * A refused order: 422 balance_overflow, and the accounts, the book and the log exactly as before (nothing held,
 * nothing sequenced).
 */
async function expectRefusedChangingNothing(
  ctx: CheckContext,
  api: SeApi,
  symbol: string,
  users: readonly string[],
  what: string,
  send: () => Promise<import('../../core/http-client.ts').Exchange>,
): Promise<void> {
  const read = async () => ({
    accounts: await Promise.all(users.map(async (u) => (await api.account(u)).bodyText)),
    book: okBody<OrderBookL2>(ctx, await api.l2(symbol, 100), 200, 'reading the L2 book'),
  });
  const before = await read();
  const seq = await lastSequence(ctx, api);
  expectOverflow(ctx, await send(), what);
  const after = await read();
  ctx.expect(
    JSON.stringify(after.accounts) === JSON.stringify(before.accounts),
    `after ${what} was refused, the accounts changed:\n  before: ${before.accounts.join(' ')}\n  after:  ${after.accounts.join(' ')}`,
  );
  ctx.expect(
    JSON.stringify([after.book.bids, after.book.asks]) === JSON.stringify([before.book.bids, before.book.asks]),
    `after ${what} was refused, the book changed: ${JSON.stringify(after.book).slice(0, 300)}`,
  );
  const page = okBody<EventPage>(ctx, await api.events(seq + 1, 10), 200, 'reading the log');
  ctx.expect(page.events.length === 0, `${what} was refused but ${page.events.length} events were sequenced`);
}
