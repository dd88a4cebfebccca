// The click counter against a store that can lose a write's answer after the write landed (PostgreSQL gone between
// its COMMIT and the answer) or refuse writes: every click is counted exactly once, and a read settles a batch in doubt.
import { describe, expect, it } from 'vitest';
import { ClickCounter } from './clicks.ts';
import type { MutantName } from './mutants.ts';
import type { ClickBatch, LinkRecord } from './store.ts';

/** Applies each batch id once, like the real stores; `mode` decides what the next writes do. */
class FlakyStore {
  clicks = 0;
  readonly applied = new Set<string>();
  readonly writes: string[] = [];
  mode: 'ok' | 'answer-lost' | 'refused' = 'ok';

  async addClicks(batch: ClickBatch): Promise<void> {
    this.writes.push(batch.id);
    if (this.mode === 'refused') throw new Error('connection refused');
    if (!this.applied.has(batch.id)) {
      this.applied.add(batch.id);
      for (const n of batch.counts.values()) this.clicks += n;
    }
    if (this.mode === 'answer-lost') throw new Error('Connection terminated unexpectedly');
  }

  async read(): Promise<LinkRecord> {
    if (this.mode === 'refused') throw new Error('connection refused');
    return { id: 1n, code: 'a', longUrl: 'https://example.com/', createdAt: new Date(0), clicks: this.clicks };
  }
}

function counter(store: FlakyStore, mutant?: MutantName) {
  const errors: unknown[] = [];
  const c = new ClickCounter(store, (e) => errors.push(e), 60_000, mutant);
  const read = () => c.readExact('a', () => store.read()).then((l) => l?.clicks);
  return { c, read, errors };
}

describe('ClickCounter', () => {
  it('counts a batch whose write landed but whose answer was lost once, in reads and in the store', async () => {
    const store = new FlakyStore();
    const { c, read, errors } = counter(store);
    for (let i = 0; i < 3; i++) c.record('a');
    store.mode = 'answer-lost';
    await c.flush();
    expect(errors).toHaveLength(1);
    expect(store.clicks).toBe(3); // it landed
    store.mode = 'ok';
    expect(await read()).toBe(3); // the read settled the batch first: its retry (same id) added nothing
    expect(store.writes).toHaveLength(2);
    expect(new Set(store.writes).size).toBe(1);
    c.record('a');
    await c.close();
    expect(store.clicks).toBe(4);
  });

  it('retries the batch in doubt as itself before newer counts, and a read fails while it cannot be settled', async () => {
    const store = new FlakyStore();
    const { c, read } = counter(store);
    c.record('a');
    store.mode = 'refused';
    await c.flush();
    c.record('a');
    c.record('a');
    await expect(read()).rejects.toThrow(/refused/); // cannot know whether it landed: no answer rather than a guess
    store.mode = 'ok';
    await c.flush(); // the batch in doubt alone
    expect(store.clicks).toBe(1);
    expect(store.writes[0]).toBe(store.writes[2]);
    expect(await read()).toBe(3); // stored 1 + pending 2
    await c.flush();
    expect(store.clicks).toBe(3);
  });

  it('mutant click-batch-readded counts a landed batch twice', async () => {
    const store = new FlakyStore();
    const { c, read } = counter(store, 'click-batch-readded');
    for (let i = 0; i < 3; i++) c.record('a');
    store.mode = 'answer-lost';
    await c.flush();
    store.mode = 'ok';
    expect(await read()).toBe(6);
    await c.flush();
    expect(store.clicks).toBe(6);
  });
});
