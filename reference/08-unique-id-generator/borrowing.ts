// MUTANT batch-borrows-next-millisecond (found by a blind bug, round 7, fixtures/blind-bugs/08-unique-id-generator):
// when a millisecond's 4,096 sequence numbers are used up and the clock is still in it, the generator takes the next
// millisecond at once instead of waiting for the clock to reach it ("it will be there within a millisecond anyway"),
// so it issues IDs of a millisecond its clock has not reached. Kept out of snowflake.ts so that the generator's own
// lines (keyed in mutate-equivalent.yaml) stay put: the generator is shown the next millisecond for that one call.
import { MAX_SEQUENCE, Snowflake, type SnowflakeOptions } from './snowflake.ts';

export class BorrowingSnowflake extends Snowflake {
  private readonly shown: { ms: number | null };
  private readonly realClock: () => number;
  /** The last ID used the millisecond's last sequence number. */
  private usedUp = false;

  constructor(o: SnowflakeOptions) {
    const shown: { ms: number | null } = { ms: null };
    const clock = o.clock ?? Date.now;
    super({ ...o, clock: () => shown.ms ?? clock() });
    this.shown = shown;
    this.realClock = clock;
  }

  override next(): string {
    if (this.usedUp && this.realClock() === this.lastMillisecond) this.shown.ms = this.lastMillisecond + 1;
    try {
      const id = super.next();
      this.usedUp = Number(BigInt(id) & BigInt(MAX_SEQUENCE)) === MAX_SEQUENCE;
      return id;
    } finally {
      this.shown.ms = null;
    }
  }
}
