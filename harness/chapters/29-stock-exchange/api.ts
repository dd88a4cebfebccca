// The chapter's operations over the wire (every exchange validated against the spec by ctx.http), and helpers that
// give each check its own symbol and users, so checks and runs never see each other's orders.
import { randomBytes } from 'node:crypto';
import type { components } from '../../../specs/29-stock-exchange/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient } from '../../core/http-client.ts';

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

/** A symbol no earlier check or run used: 8 random capital letters. */
export function freshSymbol(): string {
  return [...randomBytes(8)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
}

export function freshUser(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

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
  return {
    deposit: (userId: string, asset: string, amount: number) =>
      http.send({
        method: 'POST',
        path: `/v1/accounts/${encodeURIComponent(userId)}/deposits`,
        json: { asset, amount },
      }),
    account: (userId: string) => http.send({ method: 'GET', path: `/v1/accounts/${encodeURIComponent(userId)}` }),
    place: (o: NewOrder) => http.send({ method: 'POST', path: '/v1/order', json: { ...o, orderType: 'limit' } }),
    order: (id: number) => http.send({ method: 'GET', path: `/v1/order/${id}` }),
    cancel: (id: number) => http.send({ method: 'DELETE', path: `/v1/order/${id}` }),
    executions: (q: { symbol: string; orderId?: number; startTime?: number; endTime?: number }) =>
      http.send({ method: 'GET', path: `/v1/execution?${qs(q)}` }),
    l2: (symbol: string, depth?: number) =>
      http.send({ method: 'GET', path: `/v1/marketdata/orderBook/L2?${qs({ symbol, depth })}` }),
    candles: (q: { symbol: string; resolution: number; startTime?: number; endTime?: number }) =>
      http.send({ method: 'GET', path: `/v1/marketdata/candles?${qs(q)}` }),
    events: (fromSequence?: number, limit?: number) =>
      http.send({ method: 'GET', path: `/v1/events?${qs({ fromSequence, limit })}` }),
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

/** The newest sequence ID stamped (from the L2 answer of any symbol). */
export async function lastSequence(ctx: CheckContext, api: SeApi): Promise<number> {
  return okBody<OrderBookL2>(ctx, await api.l2('A'), 200, 'reading the sequence').sequenceId;
}
