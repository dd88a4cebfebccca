// The Idempotency-Key claims on the embedded store, where a check over the wire cannot reach in its time: a request
// presumed dead (in flight past the 30 s claim timeout) whose claim another request took over, and which then fails
// at last. Only the service's clock is moved (Date), so the test takes milliseconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteDb } from './db.ts';
import { IdempotencyKeys } from './idempotency.ts';

type Answer = { status: number; body: unknown };

/** An execution that runs until the test settles it. */
function held() {
  let settle!: { resolve: (a: Answer) => void; reject: (e: unknown) => void };
  let started!: () => void;
  const running = new Promise<void>((ok) => {
    started = ok;
  });
  const execute = () => {
    started();
    return new Promise<Answer>((resolve, reject) => {
      settle = { resolve, reject };
    });
  };
  return { execute, running, settle: () => settle };
}

describe('27 IdempotencyKeys claims', () => {
  let dir: string;
  let db: SqliteDb;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sdgrade-27-keys-'));
    db = new SqliteDb(join(dir, 'payments.db'));
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the late failure of a request presumed dead does not release the claim taken over from it', async () => {
    const keys = new IdempotencyKeys(db);
    vi.setSystemTime(1_800_000_000_000);
    const first = held();
    const a = keys.run('key-1', 'fp', first.execute);
    await first.running;
    // Past the claim timeout: the first request is presumed dead and the second takes its claim over.
    vi.setSystemTime(1_800_000_000_000 + 31_000);
    const second = held();
    const b = keys.run('key-1', 'fp', second.execute);
    await second.running;
    first.settle().reject(new Error('the presumed-dead request fails at last'));
    await expect(a).rejects.toThrow(/presumed-dead/);
    // The second still runs: a third request with the key is in_use, not executed.
    let executedThird = 0;
    const third = keys.run('key-1', 'fp', async () => {
      executedThird++;
      return { status: 201, body: { n: 3 } };
    });
    await expect(third).rejects.toMatchObject({ status: 409, code: 'idempotency_key_in_use' });
    expect(executedThird).toBe(0);
    second.settle().resolve({ status: 201, body: { n: 2 } });
    await expect(b).resolves.toEqual({ status: 201, body: { n: 2 }, replayed: false });
    await expect(keys.run('key-1', 'fp', first.execute)).resolves.toEqual({
      status: 201,
      body: { n: 2 },
      replayed: true,
    });
  });

  it('a failed request releases its own claim: the retry with the key is executed', async () => {
    const keys = new IdempotencyKeys(db);
    await expect(
      keys.run('key-2', 'fp', async () => {
        throw new Error('the PSP is away');
      }),
    ).rejects.toThrow(/PSP/);
    await expect(keys.run('key-2', 'fp', async () => ({ status: 201, body: { n: 1 } }))).resolves.toEqual({
      status: 201,
      body: { n: 1 },
      replayed: false,
    });
  });
});
