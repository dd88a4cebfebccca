// The book's client gateway: who is asking (a user's key, signed by the gateway's secret) and how fast they may
// order (a sliding window per user). The handlers in app.ts ask it before touching an account or an order.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LogEvent } from './types.ts';

/** The spec's grading defaults (settings `apiKeySecret`, `operatorUserId`, `orderRateLimit`, `orderRateWindowMs`). */
export const DEFAULT_API_KEY_SECRET = 'sdgrade-exchange-gateway';
export const DEFAULT_OPERATOR_USER_ID = 'operator';
export const DEFAULT_ORDER_RATE_LIMIT = 100;
export const DEFAULT_ORDER_RATE_WINDOW_MS = 1000;

/** A user's key as the spec defines it: `<userId>:<hex HMAC-SHA256(secret, userId)>`. */
export function userKey(secret: string, userId: string): string {
  return `${userId}:${createHmac('sha256', secret).update(userId, 'utf8').digest('hex')}`;
}

export interface AuthFaults {
  /** MUTANT bad-key-accepted: the signature is not checked, only the user ID before it. */
  signatureUnchecked?: boolean;
}

/** The user an `Authorization` header proves, or undefined (no key, a malformed one, a wrong signature). */
export function userOf(authorization: string | undefined, secret: string, faults: AuthFaults = {}): string | undefined {
  const m = /^Bearer +([A-Za-z0-9._-]{1,64}):([0-9a-f]{64}) *$/.exec(authorization ?? '');
  if (!m) return undefined;
  const userId = m[1]!;
  if (faults.signatureUnchecked) return userId;
  const given = Buffer.from(m[2]!, 'hex');
  const want = createHmac('sha256', secret).update(userId, 'utf8').digest();
  return given.length === want.length && timingSafeEqual(given, want) ? userId : undefined;
}

/**
 * Whether `userId` may see event `e` of the log: the events of its own account (deposits, its new orders, cancels of
 * its orders, fills it is a party to). The operator sees every event; the caller decides that.
 */
export function eventVisibleTo(userId: string, e: LogEvent, ownerOf: (orderId: number) => string | undefined): boolean {
  if (e.type === 'deposit' || e.type === 'new') return e.userId === userId;
  if (e.type === 'cancel') return ownerOf(e.orderId) === userId;
  return ownerOf(e.makerOrderId) === userId || ownerOf(e.takerOrderId) === userId;
}

export interface RateLimitFaults {
  /** MUTANT rate-limit-shared: one window for every user. */
  shared?: boolean;
  /** MUTANT rate-limit-off-by-one: one order more than the limit is admitted. */
  offByOne?: boolean;
  /** MUTANT rate-limit-counts-refused: a refused (429) request is logged in the window too. */
  countRefused?: boolean;
}

/**
 * At most `limit` admitted requests per user in any `windowMs` (a sliding log of admission times). `admit` answers
 * 0 when the request is admitted (and counts it), else the milliseconds until the oldest counted one leaves.
 */
export class OrderRateLimiter {
  private readonly admitted = new Map<string, number[]>();
  private calls = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly faults: RateLimitFaults = {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  admit(userId: string): number {
    const key = this.faults.shared ? '' : userId;
    const t = this.now();
    if (++this.calls % 10_000 === 0) this.sweep();
    const times = this.admitted.get(key) ?? [];
    if (times.length === 0) this.admitted.set(key, times);
    // Times are in admission order: drop those out of the window from the front.
    let expired = 0;
    while (expired < times.length && times[expired]! <= t - this.windowMs) expired++;
    if (expired > 0) times.splice(0, expired);
    if (times.length >= this.limit + (this.faults.offByOne ? 1 : 0)) {
      const wait = Math.max(1, times[0]! + this.windowMs - t);
      if (this.faults.countRefused) times.push(t);
      return wait;
    }
    times.push(t);
    return 0;
  }

  /** Gives back the slot of the last admitted request (used only by the refused-order-not-counted mutant). */
  release(userId: string): void {
    this.admitted.get(this.faults.shared ? '' : userId)?.pop();
  }

  /** Forgets users with nothing in their window (bounded memory under many users). */
  sweep(): void {
    const t = this.now();
    for (const [k, times] of this.admitted)
      if (times.length === 0 || times.at(-1)! <= t - this.windowMs) this.admitted.delete(k);
  }
}
