// The client gateway in process, on a clock the test sets: the window's exact edges, which the wire check (SE-I10)
// cannot time on a shared machine, the key's format, and which events of the log a user sees.
import { describe, expect, it } from 'vitest';
import { eventVisibleTo, OrderRateLimiter, userKey, userOf } from './gateway.ts';

describe('order rate limiter', () => {
  it('admits `limit` per sliding window, refuses the next until the oldest leaves, per user', () => {
    let now = 1000;
    const l = new OrderRateLimiter(3, 100, {}, () => now);
    expect([l.admit('a'), l.admit('a')]).toEqual([0, 0]);
    now = 1050;
    expect(l.admit('a')).toBe(0);
    expect(l.admit('a')).toBe(50); // the oldest (at 1000) leaves at 1100
    expect(l.admit('b')).toBe(0); // another user's window is their own
    now = 1099;
    expect(l.admit('a')).toBe(1);
    now = 1100; // the two at 1000 have left: two more fit, not three
    expect([l.admit('a'), l.admit('a'), l.admit('a')]).toEqual([0, 0, 50]);
  });

  it('does not count refused requests', () => {
    let now = 0;
    const l = new OrderRateLimiter(1, 10, {}, () => now);
    expect(l.admit('a')).toBe(0);
    for (now = 1; now < 10; now++) expect(l.admit('a')).toBeGreaterThan(0);
    now = 10;
    expect(l.admit('a')).toBe(0);
  });
});

describe('user keys', () => {
  it("accepts the user's own key only", () => {
    const key = userKey('s', 'alice');
    expect(key).toMatch(/^alice:[0-9a-f]{64}$/);
    expect(userOf(`Bearer ${key}`, 's')).toBe('alice');
    expect(userOf(`Bearer ${key}`, 'other secret')).toBeUndefined();
    expect(userOf(`Bearer bob:${key.split(':')[1]}`, 's')).toBeUndefined();
    expect(userOf(`Bearer ${key.toUpperCase()}`, 's')).toBeUndefined();
    expect(userOf(undefined, 's')).toBeUndefined();
    expect(userOf(`Basic ${key}`, 's')).toBeUndefined();
  });
});

describe('event log visibility', () => {
  it("shows a user their account's events: deposits, their orders, cancels of them, fills they are in", () => {
    const owners = new Map([
      [1, 'alice'],
      [2, 'bob'],
    ]);
    const ownerOf = (id: number) => owners.get(id);
    const base = { sequenceId: 1, time: 0 };
    const order = { ...base, type: 'new' as const, symbol: 'A', side: 'buy' as const, price: 1, quantity: 1 };
    const fill = { ...base, type: 'fill' as const, symbol: 'A', price: 1, quantity: 1 };
    const see = (u: string) =>
      [
        { ...base, type: 'deposit' as const, userId: 'alice', asset: 'USD', amount: 1 },
        { ...order, orderId: 1, userId: 'alice' },
        { ...order, orderId: 2, userId: 'bob' },
        { ...base, type: 'cancel' as const, orderId: 2 },
        { ...fill, makerOrderId: 1, takerOrderId: 2 },
      ].map((e) => eventVisibleTo(u, e, ownerOf));
    expect(see('alice')).toEqual([true, true, false, false, true]);
    expect(see('bob')).toEqual([false, false, true, true, true]);
    expect(see('carol')).toEqual([false, false, false, false, false]);
  });
});
