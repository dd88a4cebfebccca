// Group commit: what is submitted while a flush is in flight waits and goes in the next flush, all together, so a
// store whose commit costs a round trip and an fsync (PostgreSQL) pays them once per group, not once per item. Flushes
// run one at a time, in submission order; an item's promise settles when the flush that carried it does.

interface Waiting<T> {
  item: T;
  done: () => void;
  fail: (error: unknown) => void;
}

export class GroupCommit<T> {
  private waiting: Waiting<T>[] = [];
  private draining: Promise<void> | null = null;

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  /** Resolves once a flush that carried `item` has completed; rejects with its error if that flush failed. */
  submit(item: T): Promise<void> {
    return new Promise<void>((done, fail) => {
      this.waiting.push({ item, done, fail });
      this.draining ??= this.drain();
    });
  }

  /** Resolves when nothing submitted waits or is being flushed. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0);
      try {
        await this.flush(group.map((w) => w.item));
        for (const w of group) w.done();
      } catch (error) {
        for (const w of group) w.fail(error);
      }
    }
    this.draining = null;
  }
}
