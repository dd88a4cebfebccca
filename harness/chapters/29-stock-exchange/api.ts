// The chapter's operations over the wire (every exchange validated against the spec by ctx.http), and helpers that
// give each check its own symbol and users, so checks and runs never see each other's orders.
import { createHmac, randomBytes } from 'node:crypto';
import type { components } from '../../../specs/29-stock-exchange/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import { type Exchange, HttpClient } from '../../core/http-client.ts';
import { timeLimit } from '../../core/time-scale.ts';

export type Order = components['schemas']['Order'];
export type Account = components['schemas']['Account'];
export type Execution = components['schemas']['Execution'];
export type Executions = components['schemas']['Executions'];
export type OrderBookL2 = components['schemas']['OrderBookL2'];
export type Candles = components['schemas']['Candles'];
export type LogEvent = components['schemas']['Event'];
export type EventPage = components['schemas']['EventPage'];
export type Side = 'buy' | 'sell';

/** The spec's daily risk limit: shares of one symbol per user per UTC day. */
export const DAILY_LIMIT = 1_000_000;
export const CASH = 'USD';

/** The spec's candle history per resolution (seconds): GET candles answers only the last this many of a symbol. */
export const CANDLE_HISTORY: Readonly<Record<number, number>> = { 1: 10, 60: 1440, 300: 2016, 3600: 2160, 86400: 3660 };

/** Of a symbol's whole candle series (oldest first), the ones GET candles still answers: the last CANDLE_HISTORY. */
export function keptCandles<C>(series: readonly C[], resolution: number): C[] {
  return series.slice(-(CANDLE_HISTORY[resolution] ?? series.length));
}

/** A symbol no earlier check or run used: 8 random capital letters. */
export function freshSymbol(): string {
  return [...randomBytes(8)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
}

export function freshUser(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** The spec's grading defaults for the client gateway (settings of these names). */
export const DEFAULT_API_KEY_SECRET = 'sdgrade-exchange-gateway';
export const DEFAULT_OPERATOR_USER_ID = 'operator';
export const DEFAULT_ORDER_RATE_LIMIT = 100;
export const DEFAULT_ORDER_RATE_WINDOW_MS = 1000;

/** A user's key as the spec defines it: `<userId>:<hex HMAC-SHA256(secret, userId)>`. */
export function userKey(secret: string, userId: string): string {
  return `${userId}:${createHmac('sha256', secret).update(userId, 'utf8').digest('hex')}`;
}

/** The gateway settings a target was graded with. */
export function gatewaySettings(ctx: CheckContext) {
  return {
    secret: ctx.setting<string>('apiKeySecret', DEFAULT_API_KEY_SECRET),
    /** The reserved user whose key reads the whole event log. */
    operator: ctx.setting<string>('operatorUserId', DEFAULT_OPERATOR_USER_ID),
    limit: ctx.setting<number>('orderRateLimit', DEFAULT_ORDER_RATE_LIMIT),
    windowMs: ctx.setting<number>('orderRateWindowMs', DEFAULT_ORDER_RATE_WINDOW_MS),
  };
}

/**
 * Who a request is sent as: the user it concerns (the default: the named user, or the order's owner as this API
 * saw it placed), another user, no key, or an Authorization header as given.
 */
export type Auth = { as: string } | { none: true } | { header: string };

export interface NewOrder {
  userId: string;
  clientOrderId?: string;
  symbol: string;
  side: Side;
  price: number;
  quantity: number;
}

export function seApi(ctx: CheckContext, http: HttpClient = ctx.http) {
  const qs = (o: Record<string, string | number | undefined>) =>
    new URLSearchParams(
      Object.entries(o)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    ).toString();
  const { secret, operator } = gatewaySettings(ctx);
  /** Each order's user, from the answers that showed it: the key its reads and cancels are sent with. */
  const owners = new Map<number, string>();
  const learn = (x: Exchange): Exchange => {
    const b = x.body as Partial<Order> | undefined;
    if ((x.status === 200 || x.status === 201) && typeof b?.id === 'number' && typeof b.userId === 'string')
      owners.set(b.id, b.userId);
    return x;
  };
  const as = (userId: string | undefined, auth: Auth | undefined) => {
    if (auth && 'none' in auth) return { validRequest: false }; // no key breaks the operation's security on purpose
    if (auth && 'header' in auth) return { validRequest: false, headers: { authorization: auth.header } };
    // An order this API never saw placed (an unknown ID, say) is asked about by a user who owns nothing: any valid
    // key, so the answer is the order's (404 when there is none), not the missing key's.
    const who = auth?.as ?? userId ?? 'sdgrade-no-owner';
    return { headers: { authorization: `Bearer ${userKey(secret, who)}` } };
  };
  return {
    /** The user's key, for checks that compose their own requests. */
    keyOf: (userId: string) => userKey(secret, userId),
    ownerOf: (orderId: number) => owners.get(orderId),
    deposit: (userId: string, asset: string, amount: number, auth?: Auth) =>
      http.send({
        method: 'POST',
        path: `/v1/accounts/${encodeURIComponent(userId)}/deposits`,
        json: { asset, amount },
        ...as(userId, auth),
      }),
    account: (userId: string, auth?: Auth) =>
      http.send({ method: 'GET', path: `/v1/accounts/${encodeURIComponent(userId)}`, ...as(userId, auth) }),
    place: async (o: NewOrder, auth?: Auth) =>
      learn(
        await http.send({
          method: 'POST',
          path: '/v1/order',
          json: { ...o, orderType: 'limit' },
          ...as(o.userId, auth),
        }),
      ),
    order: async (id: number, auth?: Auth) =>
      learn(await http.send({ method: 'GET', path: `/v1/order/${id}`, ...as(owners.get(id), auth) })),
    cancel: (id: number, auth?: Auth) =>
      http.send({ method: 'DELETE', path: `/v1/order/${id}`, ...as(owners.get(id), auth) }),
    /** The executions `userId` may read (their own). */
    executions: (
      q: { symbol: string; orderId?: number; startTime?: number; endTime?: number },
      userId: string,
      auth?: Auth,
    ) => http.send({ method: 'GET', path: `/v1/execution?${qs(q)}`, ...as(userId, auth) }),
    l2: (symbol: string, depth?: number) =>
      http.send({ method: 'GET', path: `/v1/marketdata/orderBook/L2?${qs({ symbol, depth })}` }),
    candles: (q: { symbol: string; resolution: number; startTime?: number; endTime?: number }) =>
      http.send({ method: 'GET', path: `/v1/marketdata/candles?${qs(q)}` }),
    /** The event log, read with the operator's key (the whole log) unless `auth` says otherwise. */
    events: (fromSequence?: number, limit?: number, auth?: Auth) =>
      http.send({ method: 'GET', path: `/v1/events?${qs({ fromSequence, limit })}`, ...as(operator, auth) }),
  };
}

export type SeApi = ReturnType<typeof seApi>;

/** The body of an answer that must have `status`; fails the check otherwise. */
export function okBody<T>(ctx: CheckContext, x: Exchange, status: number, what: string): T {
  ctx.expect(x.status === status, `${what}: expected ${status}, got ${x.status ?? x.error}`, x);
  return x.body as T;
}

/** Funds a user (each deposit must answer 200). */
export async function fund(ctx: CheckContext, api: SeApi, userId: string, assets: Record<string, number>) {
  for (const [asset, amount] of Object.entries(assets))
    if (amount > 0) okBody(ctx, await api.deposit(userId, asset, amount), 200, `depositing ${amount} ${asset}`);
}

/** The whole event log from `from`, page by page; fails unless the pages are consecutive. */
export async function readLog(ctx: CheckContext, api: SeApi, from = 1): Promise<{ events: LogEvent[]; last: number }> {
  const events: LogEvent[] = [];
  let at = from;
  for (let page = 0; page < 100_000; page++) {
    const x = await api.events(at, 1000);
    const p = okBody<EventPage>(ctx, x, 200, `reading the event log from ${at}`);
    for (const e of p.events) {
      ctx.expect(
        e.sequenceId === at,
        `the event log has sequence ID ${e.sequenceId} where ${at} was next: sequence IDs must have no gaps`,
        x,
      );
      events.push(e);
      at++;
    }
    if (p.events.length === 0 || at > p.lastSequence) {
      ctx.expect(at > p.lastSequence, `lastSequence is ${p.lastSequence} but the log ends at ${at - 1}`, x);
      return { events, last: p.lastSequence };
    }
  }
  ctx.fail('still reading the event log after 100,000 pages');
}

/** Every execution of a symbol, as the union of what each of `users` may read (their own), by execution ID. */
export async function executionsOf(
  ctx: CheckContext,
  api: SeApi,
  symbol: string,
  users: readonly string[],
  q: { orderId?: number; startTime?: number; endTime?: number } = {},
): Promise<{ executions: Execution[]; answers: Exchange[] }> {
  const byId = new Map<number, Execution>();
  const answers: Exchange[] = [];
  for (const u of users) {
    const x = await api.executions({ symbol, ...q }, u);
    answers.push(x);
    for (const e of okBody<Executions>(ctx, x, 200, `reading the executions of ${u}`).executions) byId.set(e.id, e);
  }
  return { executions: [...byId.values()].sort((a, b) => a.id - b.id), answers };
}

/** The newest sequence ID stamped (from the L2 answer of any symbol). */
export async function lastSequence(ctx: CheckContext, api: SeApi): Promise<number> {
  return okBody<OrderBookL2>(ctx, await api.l2('A'), 200, 'reading the sequence').sequenceId;
}

/**
 * Requests wait past the HTTP client's default 10 s: the spec's bound for an answer while the log cannot be written
 * is 15 s (scaled), which expectDocumented grades; a request cut short at 10 s would hide an answer that came in time.
 */
export function patient(ctx: CheckContext): HttpClient {
  const http = ctx.http;
  const p = Object.create(http) as HttpClient;
  p.send = (o) => HttpClient.prototype.send.call(http, { timeoutMs: timeLimit(30_000), ...o });
  return p;
}
