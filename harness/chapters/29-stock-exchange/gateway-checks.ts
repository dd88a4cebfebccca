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
  type NewOrder,
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
    [{ header: `Bearer ${userKey(`${secret}-not`, owner)}` }, 401, 'unauthorized'],
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
  // Market data and the event log are public: a key that proves nobody does not make them 401.
  const nobody = { authorization: `Bearer ${userKey(`${secret}-not`, owner)}` };
  for (const path of [
    `/v1/marketdata/orderBook/L2?symbol=${symbol}`,
    `/v1/marketdata/candles?symbol=${symbol}&resolution=60`,
    '/v1/events?fromSequence=1&limit=1',
  ])
    okBody(ctx, await ctx.http.send({ method: 'GET', path, headers: nobody }), 200, `GET ${path} with a wrong key`);
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

/** One request and when it was sent and answered (the client's clock): the server decided it in between. */
interface Timed {
  x: Exchange;
  sent: number;
  answered: number;
}

export async function orderRateLimit(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const { secret, limit, windowMs } = gatewaySettings(ctx);
  if (limit + 1 > MAX_BURST)
    ctx.skip(`orderRateLimit ${limit}: a burst of ${limit + 1} orders is more than this check sends (${MAX_BURST})`);
  const timed = async (send: () => Promise<Exchange>): Promise<Timed> => {
    const sent = performance.now();
    const x = await send();
    return { x, sent, answered: performance.now() };
  };
  const spans: number[] = [];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const symbols = [freshSymbol(), freshSymbol()];
    const [u, v] = [freshUser('i10u'), freshUser('i10v')];
    for (const w of [u, v]) await fund(ctx, api, w, { [CASH]: 10 * (limit + 2) });
    const order = (userId: string, n = 0, more: Partial<NewOrder> = {}) => ({
      userId,
      symbol: symbols[n % 2]!,
      side: 'buy' as const,
      price: 1,
      quantity: 1,
      ...more,
    });
    /** u's requests the limit admitted (counted, whatever their answer) and refused (429). */
    const counted: Timed[] = [];
    const limited: Timed[] = [];
    const t0 = performance.now();
    // Requests that prove nobody, or another user, naming u: 401 / 403, not counted in u's window.
    const refusedAuth = [
      await api.place(order(u), { none: true }),
      await api.place(order(u), { header: `Bearer ${userKey(`${secret}-not`, u)}` }),
      await api.place(order(u), { as: v }),
    ];
    for (const [n, x] of refusedAuth.entries())
      ctx.expectStatus(x, n < 2 ? 401 : 403, n < 2 ? 'unauthorized' : 'forbidden');
    // One order with a clientOrderId (counted), then a burst of `limit` + 1: refused orders (422, too large for u's
    // cash) and repeats of that clientOrderId (200) first, both counted, then new orders on two symbols (one window
    // per user, not per symbol). Exactly `limit` are counted in all; two answer 429.
    const clientOrderId = `i10-${u}`;
    const first = await timed(() => api.place(order(u, 0, { clientOrderId })));
    counted.push(first);
    okBody<Order>(ctx, first.x, 201, 'the first order of the burst');
    const refusedN = limit >= 4 ? 2 : 0;
    const repeats = limit >= 8 ? 3 : 0;
    const kinds = Array.from({ length: limit + 1 }, (_, n) =>
      n < refusedN ? ('refused' as const) : n < refusedN + repeats ? ('repeat' as const) : ('new' as const),
    );
    const want = { refused: 422, repeat: 200, new: 201 } as const;
    const answers = await Promise.all(
      kinds.map((kind, n) =>
        timed(() =>
          api.place(
            kind === 'refused'
              ? order(u, n, { quantity: 100_000 })
              : kind === 'repeat'
                ? order(u, 0, { clientOrderId })
                : order(u, n),
          ),
        ),
      ),
    );
    // Another user orders while u's window is full: their own limit is untouched.
    const other = await api.place(order(v));
    const span = performance.now() - t0;
    spans.push(Math.round(span));
    for (const [n, a] of answers.entries()) {
      const kind = kinds[n]!;
      ctx.expect(
        a.x.status === want[kind] || a.x.status === 429,
        `a burst order (${kind}) answered ${a.x.status ?? a.x.error}, not ${want[kind]} or 429`,
        a.x,
      );
      if (a.x.status === 429) limited.push(a);
      else counted.push(a);
    }
    // A cancel is not limited, not even while the user's order window is full.
    const toCancel = answers.find((a) => a.x.status === 201);
    if (toCancel)
      okBody<Order>(ctx, await api.cancel((toCancel.x.body as Order).id), 200, 'canceling while the window is full');
    okBody<Order>(ctx, other, 201, `another user ordering while ${u} is rate-limited`);
    // A refused order is not counted: u is refused again and again (twice the limit at once, sent again while some
    // are admitted, up to three times), yet orders again as soon as every counted order has left the window.
    const again: Timed[] = [];
    for (let round = 0; round < 3; round++) {
      const burst = await Promise.all(
        Array.from({ length: Math.min(2 * limit, MAX_BURST) }, (_, n) => timed(() => api.place(order(u, n)))),
      );
      again.push(...burst);
      for (const a of burst) {
        ctx.expect(
          a.x.status === 201 || a.x.status === 429,
          `a repeated burst answered ${a.x.status ?? a.x.error}`,
          a.x,
        );
        if (a.x.status === 429) limited.push(a);
        else if (a.x.status === 201) counted.push(a);
      }
      if (burst.every((a) => a.x.status === 429)) break;
    }
    const created = 1 + [...answers, ...again].filter((a) => a.x.status === 201).length - (toCancel ? 1 : 0);
    // Nothing was placed for the refused orders: u holds 1 cent per order created and not canceled.
    const account = okBody<Account>(ctx, await api.account(u), 200, 'reading the limited user');
    const held = account.balances.find((b) => b.asset === CASH)?.held;
    ctx.expect(held === created, `${created} orders of 1 cent are open; ${held} cents are held`);
    for (const a of limited) {
      ctx.expectStatus(a.x, 429, 'rate_limited');
      const retryAfter = String(a.x.headers['retry-after'] ?? '');
      ctx.expect(
        /^[1-9][0-9]*$/.test(retryAfter) && Number(retryAfter) <= Math.ceil(windowMs / 1000),
        `the 429's Retry-After is "${retryAfter}": whole seconds, 1 to ${Math.ceil(windowMs / 1000)}`,
        a.x,
      );
    }
    // Each 429 had `limit` counted orders possibly within the window before it (the server decided each request
    // between its sending and its answer, so a counted order answered before r.sent - window was not in it).
    for (const r of limited) {
      const within = counted.filter((c) => c.answered > r.sent - windowMs).length;
      ctx.expect(
        within >= limit,
        `an order sent ${Math.round(r.sent - t0)} ms into the run answered 429, yet only ${within} counted orders (401s, 403s and 429s are not counted) were answered within the ${windowMs} ms before it (limit ${limit})`,
        r.x,
      );
    }
    // Once every counted order has left the window (each was decided before its answer), u orders again.
    const clear = Math.max(...counted.map((c) => c.answered)) + windowMs + 1;
    await sleep(Math.max(0, clear - performance.now()));
    const next = await timed(() => api.place(order(u)));
    okBody<Order>(
      ctx,
      next.x,
      201,
      `ordering once every counted order has left the window (${limited.length} refused requests meanwhile, not counted)`,
    );
    if (span >= windowMs) {
      // The burst did not fit into one window: fewer refusals are right, so the exact count cannot be concluded.
      ctx.expect(
        answers.filter((a) => a.x.status !== 429).length <= limit + Math.ceil(span / windowMs) * limit,
        `${answers.length} orders admitted within ${Math.round(span)} ms`,
      );
      await sleep(windowMs);
      continue;
    }
    const inBurst = 1 + answers.filter((a) => a.x.status !== 429).length;
    ctx.expect(
      inBurst === limit && answers.length + 1 - inBurst === 2,
      `${limit + 2} orders by one user within ${Math.round(span)} ms (window ${windowMs} ms, limit ${limit}; 401s and 403s before them, ${refusedN} refused 422 and ${repeats} repeated clientOrderIds among them, on two symbols): ${inBurst} counted, ${answers.length + 1 - inBurst} answered 429; ${limit} and 2 expected`,
    );
    ctx.evidence.burst = limit + 1;
    ctx.evidence.counted = inBurst;
    ctx.evidence.refusedAfter = limited.length - 2;
    ctx.evidence.burstMs = spans.join(' ');
    return;
  }
  ctx.skip(
    `no burst of ${limit + 1} orders fit into the ${windowMs} ms window in ${ATTEMPTS} tries (spans ${spans.join(', ')} ms): the exact limit was not tested`,
  );
}
