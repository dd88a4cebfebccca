// The idempotent producer's state for one partition (Kafka's): per producer ID, the batches it appended last, so a
// retried batch is answered with its original offsets instead of being appended twice, and a batch that skips
// sequence numbers is refused. Nothing is kept beside the log: every record carries its producer's ID and its
// batch's first sequence number, and the state is rebuilt from the records at open and after a truncation, so it
// survives a restart and a new leader has it from its replica of the log.
import type { LogRecord } from './record.ts';

/** One batch a producer appended: sequences first..first+count-1 at offsets firstOffset.. (one timestamp). */
export interface ProducedBatch {
  firstSequence: number;
  count: number;
  firstOffset: number;
  timestamp: number;
}

/** How many of a producer's last batches are remembered for answering retries (Kafka's in-flight limit). */
export const REMEMBERED_BATCHES = 5;

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: ProducedBatch }
  /** `expected`: the sequence the next batch must start at (0 for a producer new to this partition). */
  | { kind: 'out-of-order'; expected: number };

export class ProducerState {
  private readonly batches = new Map<string, ProducedBatch[]>();

  /**
   * `ignoreProducer` only for the producer-dedup-ignores-producer mutant, `rememberEvery` only for the
   * producer-remembers-every-batch mutant.
   */
  constructor(
    private readonly ignoreProducer = false,
    private readonly rememberEvery = false,
  ) {}

  // MUTANT producer-dedup-ignores-producer: every producer's batches are kept under one key.
  private key(producerId: string): string {
    return this.ignoreProducer ? '' : producerId;
  }

  /**
   * What to do with a batch of `count` messages from `producerId` starting at `firstSequence`. `ignoreCount` only for
   * the producer-repeat-ignores-length mutant.
   */
  check(producerId: string, firstSequence: number, count: number, ignoreCount = false): SequenceCheck {
    const recent = this.batches.get(this.key(producerId)) ?? [];
    const last = recent.at(-1);
    const expected = last ? last.firstSequence + last.count : 0;
    if (firstSequence === expected) return { kind: 'append' };
    // MUTANT producer-repeat-ignores-length: a batch with a remembered batch's sequence is its repeat, whatever its length.
    const same = recent.find((b) => b.firstSequence === firstSequence && (ignoreCount || b.count === count));
    if (same) return { kind: 'duplicate', batch: same };
    return { kind: 'out-of-order', expected };
  }

  /** Records an appended batch (or the next record of one being rebuilt, when it continues the last batch). */
  add(producerId: string, batch: ProducedBatch): void {
    const recent = this.batches.get(this.key(producerId)) ?? [];
    recent.push(batch);
    // MUTANT producer-remembers-every-batch: batches older than the last 5 are still answered as repeats.
    if (recent.length > REMEMBERED_BATCHES && !this.rememberEvery) recent.shift();
    this.batches.set(this.key(producerId), recent);
  }

  clear(): void {
    this.batches.clear();
  }

  /** MUTANT producer-state-recorded-at-ack: takes the batch appended last out again (its append was not confirmed). */
  forgetLast(): void {
    let latest: ProducedBatch[] | undefined;
    for (const recent of this.batches.values())
      if (recent.length && (!latest || recent.at(-1)!.firstOffset > latest.at(-1)!.firstOffset)) latest = recent;
    latest?.pop();
  }

  /** Rebuilds from records in offset order (the whole log, at open and after a truncation). */
  rebuild(records: Iterable<LogRecord>): void {
    this.clear();
    for (const r of records) this.observe(r);
  }

  /** Takes one more record, in offset order: consecutive records of one producer and first sequence are one batch. */
  observe(r: LogRecord): void {
    if (!r.producer) return;
    const last = this.batches.get(this.key(r.producer.id))?.at(-1);
    if (last && last.firstSequence === r.producer.firstSequence && last.firstOffset + last.count === r.offset)
      last.count++;
    else
      this.add(r.producer.id, {
        firstSequence: r.producer.firstSequence,
        count: 1,
        firstOffset: r.offset,
        timestamp: r.timestamp,
      });
  }
}
