// The guard around the event store: a failed append answers 503 with Retry-After, rolls the exchange back to the
// last stored event, refuses writes while the store is lost, and takes in the events in doubt the store turns out
// to hold once it answers again.
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../kit/problem.ts';
import type { EventStore } from './event-store.ts';
import { GuardedStore } from './log-outage.ts';
import type { LogEvent } from './types.ts';

const deposit = (sequenceId: number): LogEvent => ({
  sequenceId,
  time: 1_733_300_000_000 + sequenceId,
  type: 'deposit',
  userId: 'u',
  asset: 'USD',
  amount: 1,
});

class FakeStore implements EventStore {
  readonly kind = 'postgres' as const;
  rows: LogEvent[] = [];
  failing = false;
  /** Appends that reach the table although they fail (the connection lost after the commit). */
  landAnyway = false;
  async readAll() {
    return [...this.rows];
  }
  async append(events: readonly LogEvent[]) {
    if (this.failing) {
      if (this.landAnyway) this.rows.push(...events);
      throw new Error('connection terminated');
    }
    this.rows.push(...events);
  }
  async readAfter(sequenceId: number) {
    if (this.failing) throw new Error('connection refused');
    return this.rows.filter((e) => e.sequenceId > sequenceId);
  }
  async close() {}
}

function guarded(store: FakeStore) {
  const calls: { rolledBackTo: number[]; adopted: LogEvent[][] } = { rolledBackTo: [], adopted: [] };
  const g = new GuardedStore(store, {}, () => {});
  g.host = {
    rollBackTo: (last) => {
      calls.rolledBackTo.push(last);
      return [deposit(last + 1)];
    },
    adopt: (stored) => void calls.adopted.push([...stored]),
  };
  return { g, calls };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('GuardedStore', () => {
  it('answers 503 with Retry-After on a failed append, rolls back, refuses writes, and resumes with nothing in doubt stored', async () => {
    const store = new FakeStore();
    const { g, calls } = guarded(store);
    await g.readAll();
    await g.append([deposit(1)]);
    store.failing = true;
    const error = await g.append([deposit(2)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).status).toBe(503);
    expect((error as ProblemError).code).toBe('unavailable');
    expect((error as ProblemError).headers?.['retry-after']).toBe('1');
    expect(calls.rolledBackTo).toEqual([1]);
    expect(g.available).toBe(false);
    expect(() => g.refuseWhileDown()).toThrow(ProblemError);
    store.failing = false;
    await until(() => g.available);
    expect(g.available).toBe(true);
    expect(calls.adopted).toEqual([[]]);
    await g.append([deposit(2)]);
    expect(store.rows.map((e) => e.sequenceId)).toEqual([1, 2]);
    await g.close();
  });

  it('takes in the events in doubt that reached the store, also when the first append after a start fails', async () => {
    const store = new FakeStore();
    store.rows = [deposit(1), deposit(2)]; // a log recovered by the exchange (read from the store, not the guard)
    const { g, calls } = guarded(store);
    store.failing = true;
    store.landAnyway = true;
    await expect(g.append([deposit(3)])).rejects.toBeInstanceOf(ProblemError);
    expect(calls.rolledBackTo).toEqual([2]);
    store.failing = false;
    await until(() => g.available);
    expect(calls.adopted).toEqual([[deposit(3)]]);
    await g.append([deposit(4)]);
    expect(store.rows.map((e) => e.sequenceId)).toEqual([1, 2, 3, 4]);
    await g.close();
  });
});
