// The client gateway's access rules (SE-I9; the book: authentication before the order manager). It sends random
// requests as each user, as another user, with a forged key or none, and compares every answer with a model of who
// owns what.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  type Account,
  type Auth,
  CASH,
  type Executions,
  freshSymbol,
  freshUser,
  fund,
  gatewaySettings,
  type Order,
  okBody,
  type SeApi,
  seApi,
  userKey,
} from './api.ts';
import { forgedHeader } from './gateway-check-kit.ts';

/** Who sends a request: user i with their own key, or a key that proves nobody. */
type Actor =
  | { kind: 'user'; i: number }
  | { kind: 'none' }
  | { kind: 'forged-secret'; i: number } // user i's ID signed with another secret
  | { kind: 'borrowed'; i: number; from: number }; // user i's ID with user `from`'s signature

type Op =
  | { op: 'account'; target: number }
  | { op: 'deposit'; target: number }
  | { op: 'place'; target: number }
  | { op: 'order'; pick: number }
  | { op: 'cancel'; pick: number }
  | { op: 'executions' };

const USERS = 3;
const userIx = fc.nat({ max: USERS - 1 });
const actorArb: fc.Arbitrary<Actor> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('user' as const), i: userIx }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('none' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forged-secret' as const), i: userIx }) },
  {
    weight: 1,
    arbitrary: fc
      .record({ i: userIx, d: fc.integer({ min: 1, max: USERS - 1 }) })
      .map(({ i, d }) => ({ kind: 'borrowed' as const, i, from: (i + d) % USERS })),
  },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('account' as const), target: userIx }),
  fc.record({ op: fc.constant('deposit' as const), target: userIx }),
  fc.record({ op: fc.constant('place' as const), target: userIx }),
  fc.record({ op: fc.constant('order' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('executions' as const) }),
);
const stepsArb = fc.array(fc.record({ actor: actorArb, op: opArb }), { minLength: 1, maxLength: 24 });

/** The model: each user's orders (open or not) and cash deposited, and each user's executions from the setup. */
interface Model {
  users: string[];
  symbol: string;
  orders: { id: number; owner: number; status: Order['status'] }[];
  cash: number[];
  /** Execution IDs each user owns (their orders' fills), as read once after the setup trade. */
  executions: Set<number>[];
}

const CASH_EACH = 1_000_000;

/** Three funded users; user 0 sells 2 at 100 to user 1 (a fill each side), user 2 rests a buy at 90. */
async function setup(ctx: CheckContext, api: SeApi): Promise<Model> {
  const symbol = freshSymbol();
  const users = Array.from({ length: USERS }, () => freshUser('i9'));
  for (const u of users) await fund(ctx, api, u, { [CASH]: CASH_EACH, [symbol]: 100 });
  const m: Model = { users, symbol, orders: [], cash: users.map(() => CASH_EACH), executions: [] };
  const place = async (
    owner: number,
    side: 'buy' | 'sell',
    price: number,
    quantity: number,
    status: Order['status'],
  ) => {
    const o = okBody<Order>(
      ctx,
      await api.place({ userId: users[owner]!, symbol, side, price, quantity }),
      201,
      `user ${owner} placing ${side} ${quantity} at ${price}`,
    );
    m.orders.push({ id: o.id, owner, status });
  };
  await place(0, 'sell', 100, 2, 'filled');
  await place(1, 'buy', 100, 2, 'filled');
  await place(2, 'buy', 90, 1, 'new');
  m.cash[0]! += 200;
  m.cash[1]! -= 200;
  for (const [i, u] of users.entries()) {
    const x = await api.executions({ symbol }, u);
    const mine = okBody<Executions>(ctx, x, 200, `user ${i} reading their executions`).executions;
    const want = i === 2 ? 0 : 1;
    ctx.expect(
      mine.length === want && mine.every((e) => m.orders.some((o) => o.id === e.orderId && o.owner === i)),
      `user ${i} read executions ${JSON.stringify(mine)}; their own are ${want} (a user reads only their own fills)`,
      x,
    );
    m.executions.push(new Set(mine.map((e) => e.id)));
  }
  return m;
}

const describe = (a: Actor) =>
  a.kind === 'user'
    ? `user ${a.i}`
    : a.kind === 'none'
      ? 'no key'
      : a.kind === 'forged-secret'
        ? `user ${a.i}'s ID signed with another secret`
        : `user ${a.i}'s ID with user ${a.from}'s signature`;

export async function gatewayAccessModel(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const { secret } = gatewaySettings(ctx);
  let requests = 0;
  let refused = 0;
  // Malformed Authorization headers prove nobody: 401 each, and the account is unchanged.
  const owner = freshUser('i9m');
  await fund(ctx, api, owner, { [CASH]: 100 });
  const key = userKey(secret, owner);
  for (const header of [
    'Bearer',
    `Bearer ${owner}`,
    `Bearer ${owner}:`,
    `Bearer :${key.split(':')[1]}`,
    `Bearer ${key}x`,
    `Bearer ${key} ${key}`,
    key,
    `Basic ${key}`,
    `Bearer ${owner}:${'0'.repeat(64)}`,
  ]) {
    const x = await api.deposit(owner, CASH, 1, { header });
    ctx.expectStatus(x, 401, 'unauthorized');
    requests++;
    refused++;
  }
  const untouched = okBody<Account>(ctx, await api.account(owner), 200, 'reading the account after refused deposits');
  ctx.expect(
    untouched.balances.find((b) => b.asset === CASH)?.available === 100,
    `deposits refused 401 changed the account: ${JSON.stringify(untouched.balances)}`,
  );
  // A key acts for its own user only: a user with no account is 403 too (a 404 would tell who has one), and a user
  // ID that differs only in case is another user (user IDs are case-sensitive).
  const stranger = freshUser('i9s');
  ctx.expectStatus(await api.account(stranger, { as: owner }), 403, 'forbidden');
  requests++;
  refused++;
  const twin = [...owner].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
  for (const x of [await api.account(owner, { as: twin }), await api.deposit(owner, CASH, 1, { as: twin })]) {
    ctx.expectStatus(x, 403, 'forbidden');
    requests++;
    refused++;
  }
  // A repeated clientOrderId answers the existing order to its user only: without the key, or as another user, the
  // repeat is 401 / 403 like any order request, and the order is not disclosed.
  const symbol = freshSymbol();
  const entry = { userId: owner, clientOrderId: `i9-${owner}`, symbol, side: 'buy' as const, price: 1, quantity: 1 };
  const placed = okBody<Order>(ctx, await api.place(entry), 201, "placing the key's user's order");
  for (const [auth, status, code] of [
    [{ none: true }, 401, 'unauthorized'],
    [{ header: forgedHeader(secret, owner) }, 401, 'unauthorized'],
    [{ as: freshUser('i9o') }, 403, 'forbidden'],
  ] as const) {
    ctx.expectStatus(await api.place(entry, auth), status, code);
    requests++;
    refused++;
  }
  const repeat = okBody<Order>(ctx, await api.place(entry), 200, "the key's user repeating their clientOrderId");
  ctx.expect(repeat.id === placed.id, `the repeat answered order ${repeat.id}, not ${placed.id}`);
  const after = okBody<Account>(ctx, await api.account(owner), 200, 'reading the account after refused requests');
  const cash = after.balances.find((b) => b.asset === CASH);
  ctx.expect(
    cash?.available === 99 && cash.held === 1,
    `after one order of 1 cent and refused requests the cash is ${JSON.stringify(cash)}, not 99 available and 1 held`,
  );
  // Market data is public: a key that proves nobody does not make it 401 (the event log is not public: SE-I11).
  const nobody = { authorization: forgedHeader(secret, owner) };
  for (const path of [
    `/v1/marketdata/orderBook/L2?symbol=${symbol}`,
    `/v1/marketdata/candles?symbol=${symbol}&resolution=60`,
  ])
    okBody(ctx, await ctx.http.send({ method: 'GET', path, headers: nobody }), 200, `GET ${path} with a wrong key`);
  await ctx.property(stepsArb, async (steps) => {
    const m = await setup(ctx, api);
    const authOf = (a: Actor): Auth => {
      if (a.kind === 'user') return { as: m.users[a.i]! };
      if (a.kind === 'none') return { none: true };
      if (a.kind === 'forged-secret') return { header: forgedHeader(secret, m.users[a.i]!) };
      const signature = userKey(secret, m.users[a.from]!).split(':')[1]!;
      return { header: `Bearer ${m.users[a.i]}:${signature}` };
    };
    for (const [n, { actor, op }] of steps.entries()) {
      const who = describe(actor);
      const auth = authOf(actor);
      const me = actor.kind === 'user' ? actor.i : undefined;
      const what = `step ${n}: ${who} ${JSON.stringify(op)}`;
      const order = op.op === 'order' || op.op === 'cancel' ? m.orders[op.pick % m.orders.length]! : undefined;
      let x: Exchange;
      if (op.op === 'account') x = await api.account(m.users[op.target]!, auth);
      else if (op.op === 'deposit') x = await api.deposit(m.users[op.target]!, CASH, 1, auth);
      else if (op.op === 'place')
        x = await api.place(
          { userId: m.users[op.target]!, symbol: m.symbol, side: 'buy', price: 1, quantity: 1 },
          auth,
        );
      else if (op.op === 'order') x = await api.order(order!.id, auth);
      else if (op.op === 'cancel') x = await api.cancel(order!.id, auth);
      else x = await api.executions({ symbol: m.symbol }, m.users[0]!, auth);
      requests++;
      if (me === undefined) {
        refused++;
        ctx.expectStatus(x, 401, 'unauthorized');
        ctx.expect(
          /^bearer\b/i.test(String(x.headers['www-authenticate'] ?? '')),
          `${what}: a 401 without WWW-Authenticate: Bearer`,
          x,
        );
        continue;
      }
      const target = op.op === 'account' || op.op === 'deposit' || op.op === 'place' ? op.target : order?.owner;
      if (op.op === 'executions') {
        const got = okBody<Executions>(ctx, x, 200, what).executions;
        const mine = m.executions[me]!;
        ctx.expect(
          got.length === mine.size && got.every((e) => mine.has(e.id)),
          `${what}: answered executions ${JSON.stringify(got.map((e) => e.id))}; the caller's own are ${JSON.stringify([...mine])}`,
          x,
        );
      } else if (target !== me) {
        refused++;
        if (order) {
          ctx.expectStatus(x, 404, 'order_not_found');
          // Another user's order stays as it was (read with its owner's key).
          const back = okBody<Order>(
            ctx,
            await api.order(order.id),
            200,
            `${what}: reading the order back as its owner`,
          );
          ctx.expect(
            back.status === order.status,
            `${what}: refused, yet the order is now ${back.status}, not ${order.status}`,
          );
        } else ctx.expectStatus(x, 403, 'forbidden');
      } else if (op.op === 'account') {
        const a = okBody<Account>(ctx, x, 200, what);
        const cash = a.balances.find((b) => b.asset === CASH);
        ctx.expect(
          a.userId === m.users[me] && (cash?.available ?? 0) + (cash?.held ?? 0) === m.cash[me],
          `${what}: the account has ${JSON.stringify(cash)}; the model's cash is ${m.cash[me]}`,
          x,
        );
      } else if (op.op === 'deposit') {
        okBody<Account>(ctx, x, 200, what);
        m.cash[me]! += 1;
      } else if (op.op === 'place') {
        const o = okBody<Order>(ctx, x, 201, what);
        ctx.expect(o.userId === m.users[me], `${what}: the order is ${o.userId}'s`, x);
        m.orders.push({ id: o.id, owner: me, status: 'new' });
      } else if (op.op === 'order') {
        const o = okBody<Order>(ctx, x, 200, what);
        ctx.expect(
          o.id === order!.id && o.userId === m.users[me] && o.status === order!.status,
          `${what}: answered ${JSON.stringify(o)}; the model's status is ${order!.status}`,
          x,
        );
      } else if (order!.status === 'new') {
        okBody<Order>(ctx, x, 200, what);
        order!.status = 'canceled';
      } else ctx.expectStatus(x, 409, 'order_not_open');
    }
    // Market data stays public: no key needed.
    okBody(ctx, await api.l2(m.symbol), 200, 'the L2 book without a key');
    okBody(ctx, await api.candles({ symbol: m.symbol, resolution: 60 }), 200, 'candles without a key');
  });
  ctx.evidence.requests = requests;
  ctx.evidence.refused = refused;
}
