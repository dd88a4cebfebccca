// Click counting without a write per redirect (that would make every read a write): counts accumulate in memory
// and are flushed to the store in one batch every second and on shutdown. A link's clicks = stored + pending, so
// within one process the count is exact; a kill -9 loses at most the last second of clicks (the spec allows
// clicks to lag by up to one second; losing them on a crash is the price of not writing per click).
//
// Each batch is applied once, as a payment is: it carries an id the store records in the same transaction as the
// counts, and a batch whose write failed is kept as itself (same id, same counts) and retried before newer counts.
// A failed write may have landed (its COMMIT reached the database, the answer never came back): the retry then
// finds the id and changes nothing, so no click is counted twice.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { MutantName } from './mutants.ts';
import type { ClickBatch, LinkRecord, LinkStore } from './store.ts';

export class ClickCounter {
  private pending = new Map<string, number>();
  /** The batch whose write failed: it may or may not have landed, so it is retried as itself before anything else. */
  private inDoubt: ClickBatch | undefined;
  private lastError: unknown;
  private inFlight: Promise<void> | undefined;
  /** Bumped whenever a flush starts, so a read can tell whether one overlapped it. */
  private flushes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<LinkStore, 'addClicks'>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 1000,
    private readonly mutant?: MutantName,
  ) {
    if (mutant === 'clicks-cleared-after-flush') this.flush = () => this.flushThenClear();
    // MUTANT clicks-flushed-in-tens: "a write per handful of clicks is wasteful": nothing is written, not even at a
    // graceful stop, until 10 clicks have piled up.
    if (mutant === 'clicks-flushed-in-tens') {
      const flush = this.flush.bind(this);
      const pendingClicks = () => [...this.pending.values()].reduce((a, n) => a + n, 0);
      this.flush = () => (this.inDoubt || this.inFlight || pendingClicks() >= 10 ? flush() : Promise.resolve());
    }
  }

  start(): void {
    // MUTANT clicks-flushed-only-on-stop: no periodic flush, so counts reach the store only on a graceful stop and a
    // kill -9 loses every click since the start, not just the last second of them.
    if (this.mutant === 'clicks-flushed-only-on-stop') return;
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  record(code: string): void {
    // MUTANT clicks-overwritten: sets the pending count to 1 instead of adding 1 (a set where an add belongs), so
    // a link counts at most one click per flush interval.
    this.pending.set(code, this.mutant === 'clicks-overwritten' ? 1 : (this.pending.get(code) ?? 0) + 1);
  }

  /** Write the batch in doubt if there is one, else the pending counts as a new batch. */
  async flush(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    // MUTANT click-retry-carries-newer: the retry of a batch in doubt carries the clicks counted since, under its id.
    const batch =
      this.mutant === 'click-retry-carries-newer' && this.inDoubt
        ? { id: this.inDoubt.id, counts: merged(this.inDoubt.counts, this.takePending()?.counts) }
        : (this.inDoubt ?? this.takePending());
    if (!batch) return;
    this.flushes++;
    this.inFlight = this.store
      .addClicks(batch)
      .then(
        () => {
          this.inDoubt = undefined;
        },
        (error: unknown) => {
          this.keepInDoubt(batch, error);
          this.onError(error);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private takePending(): ClickBatch | undefined {
    if (this.pending.size === 0) return undefined;
    const batch = { id: randomUUID(), counts: this.pending };
    this.pending = new Map();
    return batch;
  }

  private keepInDoubt(batch: ClickBatch, error: unknown): void {
    this.lastError = error;
    if (this.mutant === 'click-batch-readded') {
      // MUTANT click-batch-readded: a failed batch's counts go back into pending and are written later under a new
      // id, so a write that landed but whose answer was lost is added a second time.
      for (const [code, n] of batch.counts) this.pending.set(code, (this.pending.get(code) ?? 0) + n);
      this.inDoubt = undefined;
      return;
    }
    this.inDoubt = batch;
  }

  /** MUTANT clicks-cleared-after-flush: writes a copy of the pending counts and clears the map once the write is
   * done, losing the clicks recorded while it was in flight. The write is given 100 ms, a remote database's round
   * trip under load, so the race shows on the embedded store too (whose own write is synchronous). */
  private flushThenClear(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = { id: randomUUID(), counts: new Map(this.pending) };
    this.flushes++;
    this.inFlight = Promise.all([this.store.addClicks(batch), delay(100)])
      .then(() => this.pending.clear())
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /**
   * Read a link and add its pending clicks so that no click is counted twice or missed: wait out a flush in
   * flight, settle a batch in doubt first (a read cannot know whether it landed; its retry is idempotent, and if the
   * store refuses it the read fails with the store's error, a 503), read, and read again if a flush started
   * meanwhile (its clicks may or may not be in what was read).
   */
  async readExact(code: string, read: () => Promise<LinkRecord | undefined>): Promise<LinkRecord | undefined> {
    for (;;) {
      if (this.inFlight) await this.inFlight;
      // MUTANT clicks-read-during-flush: answers the read at once, neither settling a batch in doubt nor reading
      // again when a flush started during it: after a failed write the link shows fewer clicks (the batch in doubt
      // is in neither the store nor pending) until the timer's retry lands.
      if (this.mutant === 'clicks-read-during-flush') {
        const link = await read();
        return link ? { ...link, clicks: link.clicks + (this.pending.get(code) ?? 0) } : undefined;
      }
      if (this.inDoubt) {
        await this.flush();
        if (this.inDoubt) throw this.lastError;
        continue;
      }
      const before = this.flushes;
      const link = await read();
      if (this.flushes === before && !this.inFlight) {
        return link ? { ...link, clicks: link.clicks + (this.pending.get(code) ?? 0) } : undefined;
      }
    }
  }

  /** Stop the timer and write what is left (graceful shutdown): a flush in flight, a batch in doubt, the pending. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (let i = 0; i < 3 && (this.inFlight || this.inDoubt || this.pending.size > 0); i++) await this.flush();
  }
}

/** MUTANT click-retry-carries-newer only: the counts of a and b added together. */
function merged(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number> | undefined): Map<string, number> {
  const out = new Map(a);
  for (const [code, n] of b ?? []) out.set(code, (out.get(code) ?? 0) + n);
  return out;
}
