// The client gateway (the book: authentication and rate limiting before the order manager). SE-I9 sends random
// requests as each user, as another user, with a forged key or none, and compares every answer with a model of who
// owns what; SE-I10 bursts one user's orders past the rate limit and counts what was admitted.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
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
  await ctx.property(stepsArb, async (steps) => {
    const m = await setup(ctx, api);
    const authOf = (a: Actor): Auth => {
      if (a.kind === 'user') return { as: m.users[a.i]! };
      if (a.kind === 'none') return { none: true };
      if (a.kind === 'forged-secret') return { header: `Bearer ${userKey(`${secret}-not`, m.users[a.i]!)}` };
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

/** Bursts sent before giving up on fitting one into the window. */
const ATTEMPTS = 3;
/** A burst larger than this is not sent (the check skips): the machine could not fit it in a window. */
const MAX_BURST = 2000;

export async function orderRateLimit(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const { limit, windowMs } = gatewaySettings(ctx);
  if (limit + 1 > MAX_BURST)
    ctx.skip(`orderRateLimit ${limit}: a burst of ${limit + 1} orders is more than this check sends (${MAX_BURST})`);
  const spans: number[] = [];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const symbol = freshSymbol();
    const [u, v] = [freshUser('i10u'), freshUser('i10v')];
    for (const w of [u, v]) await fund(ctx, api, w, { [CASH]: 10 * (limit + 2) });
    const order = (userId: string) => ({ userId, symbol, side: 'buy' as const, price: 1, quantity: 1 });
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: limit + 1 }, () => api.place(order(u))));
    // Another user orders while u's window is full: their own limit is untouched.
    const other = await api.place(order(v));
    const span = performance.now() - t0;
    spans.push(Math.round(span));
    for (const x of answers)
      ctx.expect(x.status === 201 || x.status === 429, `a burst order answered ${x.status ?? x.error}`, x);
    const admitted = answers.filter((x) => x.status === 201).length;
    const limited = answers.filter((x) => x.status === 429);
    if (span >= windowMs) {
      // The burst did not fit into one window: fewer refusals are right, so nothing can be concluded.
      ctx.expect(
        admitted <= limit + Math.ceil(span / windowMs) * limit,
        `${admitted} of ${limit + 1} orders admitted within ${Math.round(span)} ms`,
      );
      await sleep(windowMs);
      continue;
    }
    ctx.expect(
      admitted === limit && limited.length === 1,
      `${limit + 1} orders by one user within ${Math.round(span)} ms (window ${windowMs} ms, limit ${limit}): ${admitted} admitted, ${limited.length} answered 429`,
    );
    const x = limited[0]!;
    ctx.expectStatus(x, 429, 'rate_limited');
    const retryAfter = String(x.headers['retry-after'] ?? '');
    ctx.expect(
      /^[1-9][0-9]*$/.test(retryAfter) && Number(retryAfter) <= Math.ceil(windowMs / 1000),
      `the 429's Retry-After is "${retryAfter}": whole seconds, 1 to ${Math.ceil(windowMs / 1000)}`,
      x,
    );
    okBody<Order>(ctx, other, 201, `another user ordering while ${u} is rate-limited`);
    // Nothing was placed for the refused order: the user holds exactly `limit` cents (1 per admitted order).
    const a = okBody<Account>(ctx, await api.account(u), 200, 'reading the limited user');
    const held = a.balances.find((b) => b.asset === CASH)?.held;
    ctx.expect(held === limit, `${admitted} orders of 1 cent were admitted; ${held} cents are held`);
    await sleep(Number(retryAfter) * 1000);
    okBody<Order>(ctx, await api.place(order(u)), 201, `ordering again after Retry-After (${retryAfter} s)`);
    ctx.evidence.burst = limit + 1;
    ctx.evidence.admitted = admitted;
    ctx.evidence.burstMs = spans.join(' ');
    return;
  }
  ctx.skip(
    `no burst of ${limit + 1} orders fit into the ${windowMs} ms window in ${ATTEMPTS} tries (spans ${spans.join(', ')} ms): the exact limit was not tested`,
  );
}
