// Who may read the sequencer's event log (SE-I11): the operator's key reads all of it, a user's key the events of
// that user's own account, and no valid key nothing (401 with a problem body). Deterministic: three fresh users
// trade, the operator's log of that stretch is the model of what each of them may see.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  CASH,
  type EventPage,
  freshSymbol,
  freshUser,
  fund,
  gatewaySettings,
  type LogEvent,
  lastSequence,
  type Order,
  okBody,
  readLog,
  type SeApi,
  seApi,
  userKey,
} from './api.ts';
import { expectUnauthorized, forgedHeader } from './gateway-check-kit.ts';

/** The spec's rule: deposits to the user's account, their new orders, cancels of their orders, fills they are in. */
export function visibleTo(userId: string, e: LogEvent, owners: Map<number, string>): boolean {
  if (e.type === 'deposit' || e.type === 'new') return e.userId === userId;
  if (e.type === 'cancel') return owners.get(e.orderId) === userId;
  return owners.get(e.makerOrderId) === userId || owners.get(e.takerOrderId) === userId;
}

/** Small pages, so paging over a filtered view (sequence IDs with gaps) is graded too. */
const PAGE = 2;

/**
 * `userId`'s view of the log from `from`, page by page with their key, until a page is short. Every page's
 * `lastSequence` is the newest sequence ID stamped, anyone's: at least `newest`, stamped before the first page.
 */
async function userView(
  ctx: CheckContext,
  api: SeApi,
  userId: string,
  from: number,
  newest: number,
): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  let at = from;
  for (let page = 0; page < 1000; page++) {
    const x = await api.events(at, PAGE, { as: userId });
    const p = okBody<EventPage>(ctx, x, 200, `${userId} reading the event log from ${at} with their key`);
    ctx.expect(
      p.lastSequence >= newest && p.events.every((e) => e.sequenceId <= p.lastSequence),
      `${userId}'s page from ${at} answers lastSequence ${p.lastSequence}; sequence ID ${newest} was already stamped (lastSequence is the newest sequence ID stamped, anyone's)`,
      x,
    );
    ctx.expect(
      p.events.length <= PAGE &&
        p.events.every((e, i) => e.sequenceId >= (i === 0 ? at : p.events[i - 1]!.sequenceId + 1)),
      `${userId}'s page from ${at} (limit ${PAGE}) has sequence IDs ${JSON.stringify(p.events.map((e) => e.sequenceId))}: not increasing from ${at}`,
      x,
    );
    events.push(...p.events);
    if (p.events.length < PAGE) return events;
    at = p.events.at(-1)!.sequenceId + 1;
  }
  ctx.fail(`${userId} still reading their events after 1000 pages`);
}

export async function eventLogAccess(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const { secret, operator, limit, windowMs } = gatewaySettings(ctx);
  const from = (await lastSequence(ctx, api)) + 1;
  const symbol = freshSymbol();
  const [a, b, c, idle] = ['i11a', 'i11b', 'i11c', 'i11d'].map((p) => freshUser(p)) as [string, string, string, string];
  // a sells 2 at 100 to b (a fill with a as maker), c rests a buy at 90 and cancels it, b rests a buy at 80.
  await fund(ctx, api, a, { [symbol]: 10 });
  await fund(ctx, api, b, { [CASH]: 100_000 });
  await fund(ctx, api, c, { [CASH]: 100_000 });
  const place = async (userId: string, side: 'buy' | 'sell', price: number, status: number) =>
    okBody<Order>(
      ctx,
      await api.place({ userId, symbol, side, price, quantity: side === 'sell' ? 2 : price === 100 ? 2 : 1 }),
      status,
      `${userId} placing ${side} at ${price}`,
    );
  await place(a, 'sell', 100, 201);
  await place(b, 'buy', 100, 201);
  const rested = await place(c, 'buy', 90, 201);
  okBody<Order>(ctx, await api.cancel(rested.id), 200, `${c} canceling their order`);
  const resting = await place(b, 'buy', 80, 201);
  const twin = [operator.toUpperCase(), operator.toLowerCase()].find((t) => t !== operator);
  const operatorRefusals = await operatorCannotTrade(
    ctx,
    api,
    operator,
    { symbol, user: b, order: resting },
    { limit, windowMs },
  );
  // A user whose ID differs from the operator's only in case is another user: they may trade.
  if (twin) okBody(ctx, await api.deposit(twin, CASH, 1), 200, `${twin} (not the operator: case differs) depositing`);

  // No valid key reads nothing: 401 with the problem body and WWW-Authenticate, no events.
  const signatureOf = (u: string) => userKey(secret, u).split(':')[1]!;
  const refused: [string, string | undefined][] = [
    ['no key', undefined],
    ["a user's ID signed with another secret", forgedHeader(secret, a)],
    ["the operator's ID signed with another secret", forgedHeader(secret, operator)],
    ["the operator's ID with a user's signature", `Bearer ${operator}:${signatureOf(a)}`],
    ['a user ID without a signature', `Bearer ${a}`],
  ];
  for (const [what, header] of refused) {
    const x = await api.events(from, 1000, header === undefined ? { none: true } : { header });
    expectUnauthorized(ctx, x, `reading the event log with ${what}`);
  }

  // The operator's key reads the whole log (readLog: consecutive, no gap); it is the model of the users' views.
  const whole = (await readLog(ctx, api, from)).events;
  const owners = new Map<number, string>();
  for (const e of whole) if (e.type === 'new') owners.set(e.orderId, e.userId);
  const ours = [a, b, c];
  const want = new Map([...ours, idle].map((u) => [u, whole.filter((e) => visibleTo(u, e, owners))]));
  const kinds = (u: string) =>
    want
      .get(u)!
      .map((e) => e.type)
      .join(',');
  ctx.expect(
    kinds(a) === 'deposit,new,fill' && kinds(b) === 'deposit,new,fill,new' && kinds(c) === 'deposit,new,cancel',
    `the operator's log of this check's trading does not hold its events (${ours.map((u) => `${u}: ${kinds(u)}`).join('; ')}): the operator's key must read every user's events`,
  );
  const byOperator = whole.filter((e) => (e.type === 'deposit' || e.type === 'new') && e.userId === operator);
  ctx.expect(
    byOperator.length === 0,
    `the operator's refused requests were sequenced: ${JSON.stringify(byOperator)} (the operator neither trades nor holds an account)`,
  );
  // Each user reads exactly their own events; a user with none reads an empty log. So does a user whose ID differs
  // from the operator's only in case: user IDs are case-sensitive, only operatorUserId itself reads everything.
  const newest = whole.at(-1)?.sequenceId ?? from - 1;
  for (const u of [...ours, idle, ...(twin ? [twin] : [])]) {
    const got = await userView(ctx, api, u, from, newest);
    const expected = want.get(u) ?? whole.filter((e) => visibleTo(u, e, owners));
    ctx.expect(
      JSON.stringify(got) === JSON.stringify(expected),
      `${u} read ${JSON.stringify(got.map((e) => `${e.sequenceId} ${e.type}`))} with their key; their own events (deposits, orders, cancels of their orders, fills they are in) are ${JSON.stringify(expected.map((e) => `${e.sequenceId} ${e.type}`))}`,
    );
  }

  ctx.evidence.events = whole.length;
  ctx.evidence.refused = refused.length;
  ctx.evidence.operatorRefused = operatorRefusals;
}

/** The operator's bursts are not sent past this size (a deployment with a very large `orderRateLimit`). */
const MAX_OPERATOR_BURST = 2000;
/** An order ID no run reaches: the operator's cancel of it is refused 403 all the same (whatever order it names). */
const MISSING_ORDER_ID = 900_000_000;

/**
 * The operator's key on every trading route (deposits to itself and to a user, orders as itself and as a user, a
 * cancel of a user's resting order): 403 operator_cannot_trade each, the order still open and the operator without
 * an account. Then `orderRateLimit` + 1 of its cancels (of that order and of none) at once, and as many orders: each
 * 403 too, as nothing it sends there is counted (a 429 means its refusals were counted in an order window; a burst
 * that did not fit into one window is sent again, up to three times). The caller's log then shows none of it sequenced.
 */
async function operatorCannotTrade(
  ctx: CheckContext,
  api: SeApi,
  operator: string,
  s: { symbol: string; user: string; order: Order },
  rate: { limit: number; windowMs: number },
): Promise<number> {
  const as = { as: operator };
  const tries: [string, Exchange][] = [
    ['depositing to its own account', await api.deposit(operator, CASH, 1_000, as)],
    [`depositing to ${s.user}'s account`, await api.deposit(s.user, CASH, 1_000, as)],
    [
      'placing an order as itself',
      await api.place({ userId: operator, symbol: s.symbol, side: 'sell', price: 80, quantity: 1 }, as),
    ],
    [
      `placing an order for ${s.user}`,
      await api.place({ userId: s.user, symbol: s.symbol, side: 'buy', price: 70, quantity: 1 }, as),
    ],
    [`cancelling ${s.user}'s resting order ${s.order.id}`, await api.cancel(s.order.id, as)],
  ];
  for (const [what, x] of tries) {
    ctx.expect(x.status === 403, `the operator's key ${what}: answered ${x.status ?? x.error}, not 403`, x);
    ctx.expectStatus(x, 403, 'operator_cannot_trade');
  }
  let refused = tries.length;
  const bursts: [string, (n: number) => Promise<Exchange>][] = [
    [
      `cancels (of ${s.user}'s order ${s.order.id} and of an order that does not exist)`,
      (n) => api.cancel(n % 2 ? s.order.id : MISSING_ORDER_ID + n, as),
    ],
    [
      `orders (as itself and for ${s.user})`,
      (n) =>
        api.place(
          n % 2
            ? { userId: operator, symbol: s.symbol, side: 'sell', price: 80, quantity: 1 }
            : { userId: s.user, symbol: s.symbol, side: 'buy', price: 70, quantity: 1 },
          as,
        ),
    ],
  ];
  if (rate.limit + 1 <= MAX_OPERATOR_BURST)
    for (const [what, send] of bursts)
      for (let attempt = 0; attempt < 3; attempt++) {
        const t0 = performance.now();
        const burst = await Promise.all(Array.from({ length: rate.limit + 1 }, (_, n) => send(n)));
        const span = performance.now() - t0;
        refused += burst.length;
        const wrong = burst.filter(
          (x) => x.status !== 403 || (x.body as { code?: unknown } | undefined)?.code !== 'operator_cannot_trade',
        );
        ctx.expect(
          wrong.length === 0,
          `the operator's key sending ${burst.length} ${what} at once (orderRateLimit ${rate.limit}) within ${Math.round(span)} ms: ${wrong.length} answered ${[...new Set(wrong.map((x) => x.status ?? x.error))].join(', ')}, not 403 operator_cannot_trade (nothing the operator sends to trade is counted)`,
          wrong[0],
        );
        if (span < rate.windowMs) break;
      }
  const still = okBody<Order>(ctx, await api.order(s.order.id), 200, `${s.user} reading their order back`);
  ctx.expect(
    still.status === s.order.status && still.remainingQuantity === s.order.remainingQuantity,
    `the operator's refused cancel changed ${s.user}'s order: ${still.status}, ${still.remainingQuantity} remaining`,
  );
  ctx.expectStatus(await api.account(operator, as), 404, 'account_not_found');
  return refused;
}
