// The client gateway's order rate limit (SE-I10; the book: rate limiting before the order manager). It bursts one
// user's orders and cancels (one window for both) past the limit and counts what was admitted.
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { timeScale } from '../../core/time-scale.ts';
import {
  type Account,
  CASH,
  freshSymbol,
  freshUser,
  fund,
  gatewaySettings,
  type NewOrder,
  type Order,
  okBody,
  seApi,
} from './api.ts';
import { forgedHeader } from './gateway-check-kit.ts';

/** Bursts sent before giving up on fitting one into the window: more on a runner that says it is busy. */
const ATTEMPTS = Math.ceil(3 * timeScale());
/** A burst larger than this is not sent (the check skips): the machine could not fit it in a window. */
const MAX_BURST = 2000;
/** An order ID no run reaches (IDs count up from 1): its cancel is 404 `order_not_found`, yet counted. */
const MISSING_ORDER_ID = 900_000_000;

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
    // v's resting order, which u's key cancels in the burst: 404 (not u's), counted in u's window (the caller's), not v's.
    const foreign = limit >= 12 ? 1 : 0;
    const vOrder = foreign
      ? okBody<Order>(ctx, await api.place(order(v)), 201, `${v}'s order to cancel as ${u}`)
      : undefined;
    const t0 = performance.now();
    // One order with a clientOrderId and `cancels` orders to cancel in the burst (all counted), then a burst of
    // `limit` + 1 - `cancels`: the cancels (one window for orders and cancels, the book's gateway limiting every
    // order it forwards), a cancel of an order that does not exist (404: counted too, the spec counts a cancel before
    // its order is looked up), refused orders (422, too large for u's cash) and repeats of that clientOrderId (200),
    // all counted, and new orders on two symbols (one window per user, not per symbol). Exactly `limit` are counted
    // in all; two answer 429.
    const clientOrderId = `i10-${u}`;
    const first = await timed(() => api.place(order(u, 0, { clientOrderId })));
    counted.push(first);
    okBody<Order>(ctx, first.x, 201, 'the first order of the burst');
    const cancels = Math.max(0, Math.min(2, limit - 1));
    const toCancel: Order[] = [];
    for (let n = 0; n < cancels; n++) {
      const placed = await timed(() => api.place(order(u, n)));
      counted.push(placed);
      toCancel.push(okBody<Order>(ctx, placed.x, 201, `order ${n + 1} to cancel in the burst`));
    }
    // An order placed and cancelled before the burst, cancelled again in it: 409 order_not_open, counted all the same.
    const conflict = limit >= 16 ? 1 : 0;
    let closed: Order | undefined;
    if (conflict) {
      const placed = await timed(() => api.place(order(u, 1)));
      counted.push(placed);
      closed = okBody<Order>(ctx, placed.x, 201, 'an order to cancel twice');
      const gone = await timed(() => api.cancel(closed!.id));
      counted.push(gone);
      okBody<Order>(ctx, gone.x, 200, 'cancelling it the first time');
    }
    /** u's counted requests before the burst. */
    const before = counted.length;
    // Requests that prove nobody, or another user, naming u or u's order: 401 / 403 / 404, not counted in u's window.
    const refusedAuth: [Exchange, number, string][] = [
      [await api.place(order(u), { none: true }), 401, 'unauthorized'],
      [await api.place(order(u), { header: forgedHeader(secret, u) }), 401, 'unauthorized'],
      [await api.place(order(u), { as: v }), 403, 'forbidden'],
    ];
    if (toCancel[0]) {
      const id = toCancel[0].id;
      refusedAuth.push(
        [await api.cancel(id, { none: true }), 401, 'unauthorized'],
        [await api.cancel(id, { header: forgedHeader(secret, u) }), 401, 'unauthorized'],
      );
    }
    for (const [x, status, code] of refusedAuth) ctx.expectStatus(x, status, code);
    const missing = limit >= 6 ? 1 : 0;
    const refusedN = limit >= 4 ? 2 : 0;
    const repeats = limit >= 8 ? 3 : 0;
    const others = missing + refusedN + repeats;
    const kinds = Array.from({ length: limit + 2 - before }, (_, n) =>
      n < cancels
        ? ('cancel' as const)
        : n < cancels + missing
          ? ('missing' as const)
          : n < cancels + missing + refusedN
            ? ('refused' as const)
            : n < cancels + missing + refusedN + repeats
              ? ('repeat' as const)
              : n < cancels + others + foreign
                ? ('foreign' as const)
                : n < cancels + others + foreign + conflict
                  ? ('conflict' as const)
                  : ('new' as const),
    );
    const want = {
      cancel: 200,
      missing: 404,
      refused: 422,
      repeat: 200,
      foreign: 404,
      conflict: 409,
      new: 201,
    } as const;
    const answers = await Promise.all(
      kinds.map((kind, n) =>
        timed(() =>
          kind === 'cancel'
            ? api.cancel(toCancel[n]!.id)
            : kind === 'missing'
              ? api.cancel(MISSING_ORDER_ID + n, { as: u })
              : kind === 'foreign'
                ? api.cancel(vOrder!.id, { as: u })
                : kind === 'conflict'
                  ? api.cancel(closed!.id)
                  : api.place(
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
    // A cancel the limit refused left its order open; one it admitted canceled it.
    let canceled = 0;
    for (const [n, o] of toCancel.entries()) {
      const admitted = answers[n]!.x.status === 200;
      if (admitted) canceled++;
      const back = okBody<Order>(ctx, await api.order(o.id), 200, `reading order ${o.id} back`);
      ctx.expect(
        back.status === (admitted ? 'canceled' : 'new'),
        `order ${o.id}'s cancel in the burst answered ${answers[n]!.x.status}, yet the order is ${back.status}`,
      );
    }
    okBody<Order>(ctx, other, 201, `another user ordering while ${u} is rate-limited`);
    if (vOrder) {
      const back = okBody<Order>(ctx, await api.order(vOrder.id), 200, `${v} reading their order back`);
      ctx.expect(back.status === 'new', `${v}'s order ${vOrder.id}, cancelled by ${u}'s key (404), is ${back.status}`);
    }
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
    const created = 1 + cancels + [...answers, ...again].filter((a) => a.x.status === 201).length - canceled;
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
    const inBurst = before + answers.filter((a) => a.x.status !== 429).length;
    const sent = before + answers.length;
    ctx.expect(
      inBurst === limit && sent - inBurst === 2,
      `${sent} order requests by one user within ${Math.round(span)} ms (window ${windowMs} ms, limit ${limit}; 401s and 403s before them, ${cancels} orders and their ${cancels} cancels, ${refusedN} refused 422, ${repeats} repeated clientOrderIds, ${missing + foreign} cancels answered 404 (an unknown order, another user's) and ${conflict} answered 409 (an order cancelled twice) among them, on two symbols): ${inBurst} counted, ${sent - inBurst} answered 429; ${limit} and 2 expected`,
    );
    ctx.evidence.burst = sent;
    ctx.evidence.cancelsInBurst = cancels;
    ctx.evidence.counted = inBurst;
    ctx.evidence.refusedAfter = limited.length - 2;
    ctx.evidence.burstMs = spans.join(' ');
    return;
  }
  ctx.skip(
    `no burst of ${limit + 1} orders fit into the ${windowMs} ms window in ${ATTEMPTS} tries (spans ${spans.join(', ')} ms): the exact limit was not tested`,
  );
}
