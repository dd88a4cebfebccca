// A partition: a directory of segments, the newest one active. Appends go to the active segment (a new one is
// started when it reaches segmentBytes; the old one is read-only from then on); reads walk the segments from an
// offset; retention drops whole closed segments; long polls wait here for the next append.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LogSegment, type SegmentOptions } from './log-segment.ts';
import { ProducerState } from './producer-state.ts';
import { encodeRecord, type LogRecord } from './record.ts';

export interface Appending {
  key: string | null;
  value: string;
  tags?: readonly string[] | undefined;
}

export interface PartitionOptions extends SegmentOptions {
  /** MUTANT producer-dedup-in-memory-only: records are written without their producer ID and sequence. */
  producerNotLogged?: boolean;
  /** MUTANT producer-dedup-ignores-partition: one producer state for every partition. */
  sharedProducers?: ProducerState | undefined;
  /** MUTANT producer-dedup-ignores-producer: one producer state for every producer of a partition. */
  producerIdIgnored?: boolean;
  /** MUTANT producer-remembers-every-batch: every batch of a producer is remembered, not its last 5. */
  producerBatchesUnbounded?: boolean;
  /** MUTANT producer-state-from-active-segment: the producer state is rebuilt from the active segment only. */
  producerStateFromActiveOnly?: boolean;
  /** MUTANT producer-state-kept-on-truncate: a truncation leaves the producer state of the records it drops. */
  producerStateKeptOnTruncate?: boolean;
  /** MUTANT truncate-active-segment-only: a truncation cuts the active segment only. */
  truncateActiveOnly?: boolean;
  /** MUTANT producer-state-per-partition-number: the partitions of one number, across topics, share one state. */
  producersByPartitionNumber?: ProducerState[] | undefined;
}

/** An idempotent produce's batch: its producer and the sequence of its first message. */
export interface BatchProducer {
  id: string;
  firstSequence: number;
}

/** The spec's bound on how many messages one filtered fetch looks at. */
export const FILTER_SCAN_LIMIT = 10_000;

/** What a filtered read found: the matching records, and the offset after the last record it looked at. */
export interface FilteredRead {
  records: LogRecord[];
  nextOffset: number;
}

export class PartitionLog {
  private readonly segments: LogSegment[] = [];
  private readonly waiters = new Set<() => void>();
  /** The idempotent producers' last batches here, rebuilt from the records (producer-state.ts). */
  readonly producers: ProducerState;

  constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly options: PartitionOptions = {},
  ) {
    this.producers =
      options.sharedProducers ?? new ProducerState(options.producerIdIgnored, options.producerBatchesUnbounded);
    mkdirSync(dir, { recursive: true });
    const bases = readdirSync(dir)
      .filter((f) => /^\d{20}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((a, b) => a - b);
    // MUTANT restart-opens-newest-segment: on a restart the log resumes from its newest segment only.
    for (const base of options.openNewestOnly ? bases.slice(-1) : bases) {
      // A segment that does not start where the previous one ends (its predecessor was cut by recovery) and all
      // after it are unreachable: offsets must stay dense, so they go.
      const prev = this.segments.at(-1);
      if (prev && (prev.nextOffset !== base || prev.recovered.truncatedBytes > 0)) {
        options.log?.(`${dir}: dropping segment ${base} and later ones: the log before it ends at ${prev.nextOffset}`);
        rmSync(join(dir, `${String(base).padStart(20, '0')}.log`), { force: true });
        continue;
      }
      this.segments.push(new LogSegment(dir, base, options));
    }
    if (this.segments.length === 0) this.segments.push(new LogSegment(dir, 0, options));
    this.rebuildProducers();
  }

  /** The producers' state from every record in the log: what keeps it across a restart and on a new leader. */
  private rebuildProducers(): void {
    const records = this.allRecords();
    // MUTANT producer-dedup-ignores-partition: the shared state takes every partition's records without a reset.
    if (this.options.sharedProducers) for (const r of records) this.producers.observe(r);
    else this.producers.rebuild(records);
  }

  private *allRecords(): Generator<LogRecord> {
    // MUTANT producer-state-from-active-segment: the closed segments' records are left out of the rebuild.
    let at = this.options.producerStateFromActiveOnly ? this.active.baseOffset : this.logStartOffset;
    while (at < this.endOffset) {
      const got = this.read(at, 1024 * 1024);
      if (got.length === 0) return;
      yield* got;
      at = got.at(-1)!.offset + 1;
    }
  }

  get logStartOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  get endOffset(): number {
    return this.active.nextOffset;
  }

  private get active(): LogSegment {
    return this.segments.at(-1)!;
  }

  /** What recovery cut off when the partition opened. */
  get recovered(): { truncatedBytes: number; reason: string | null } {
    return this.active.recovered;
  }

  /**
   * Appends messages in order with consecutive offsets; one write (and one fsync when durable) per segment. An
   * idempotent batch's `producer` is written with each record and taken into the producers' state.
   */
  append(
    messages: readonly Appending[],
    durable: boolean,
    timestamp = Date.now(),
    producer?: BatchProducer,
  ): { offset: number }[] {
    const out: { offset: number }[] = [];
    let batch: Buffer[] = [];
    let batchTags: (readonly string[] | null)[] = [];
    let batchBytes = 0;
    for (const m of messages) {
      const tags = m.tags?.length ? m.tags : null;
      const encoded = encodeRecord(
        {
          offset: this.endOffset + batch.length,
          timestamp,
          key: m.key,
          value: m.value,
          // MUTANT tags-not-in-record: the tags are kept in the index only, never written with the record.
          tags: this.options.tagsOutOfRecord ? undefined : (tags ?? undefined),
          // MUTANT producer-dedup-in-memory-only: the producer is kept in memory only, never written with the record.
          producer: this.options.producerNotLogged ? undefined : producer,
        },
        this.options.crcWithoutTags,
      );
      if (this.active.size + batchBytes > 0 && this.active.size + batchBytes + encoded.length > this.segmentBytes) {
        // The active segment is full: it is closed (read-only from now on) and a new one starts at this offset.
        // MUTANT roll-drops-pending-batch: the part of the batch meant for the full segment is never written.
        if (batch.length && !this.options.dropPendingAtRoll) this.active.append(batch, timestamp, durable, batchTags);
        batch = [];
        // MUTANT roll-keeps-batch-tags: the full segment's share of the tags stays, shifting the new one's index.
        if (!this.options.keepTagsAtRoll) batchTags = [];
        batchBytes = 0;
        this.roll();
      }
      out.push({ offset: this.endOffset + batch.length });
      batch.push(encoded);
      batchTags.push(tags);
      batchBytes += encoded.length;
    }
    if (batch.length) this.active.append(batch, timestamp, durable, batchTags);
    if (producer && out.length)
      this.producers.add(producer.id, {
        firstSequence: producer.firstSequence,
        count: out.length,
        firstOffset: out[0]!.offset,
        timestamp,
      });
    // MUTANT long-poll-woken-only-by-fsync: an acks 1 (not fsynced) append leaves long polls asleep.
    if (durable || !this.options.wakeOnlyOnDurable) {
      for (const wake of this.waiters) wake();
      this.waiters.clear();
    }
    return out;
  }

  /**
   * Appends records a follower fetched from its leader, keeping the leader's offsets and timestamps (they must
   * continue this log: offsets are the leader's, never chosen here). Durable, as the leader counts them in sync.
   */
  appendReplicated(records: readonly LogRecord[]): void {
    for (const r of records) {
      if (r.offset !== this.endOffset)
        throw new Error(`${this.dir}: replicated offset ${r.offset} does not continue the log at ${this.endOffset}`);
      const encoded = encodeRecord(r, this.options.crcWithoutTags);
      if (this.active.size > 0 && this.active.size + encoded.length > this.segmentBytes) this.roll();
      // MUTANT tag-index-empty-on-replica: the replicated record's tags are written, but not indexed.
      const indexed = r.tags?.length && !this.options.replicaTagsUnindexed ? r.tags : null;
      this.active.append([encoded], r.timestamp, false, [indexed]);
    }
    if (records.length) this.active.sync();
    for (const r of records) this.producers.observe(r);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Drops every record from `offset` on (a replica whose log went past what its new leader has). */
  truncateTo(offset: number): void {
    if (offset >= this.endOffset) return;
    // MUTANT truncate-active-segment-only: the closed segments are left as they are, only the active one is cut.
    while (!this.options.truncateActiveOnly && this.segments.length > 1 && this.active.baseOffset >= offset) {
      const seg = this.segments.pop()!;
      seg.close();
      rmSync(seg.path, { force: true });
    }
    this.active.truncateTo(Math.max(offset, this.active.baseOffset));
    if (!this.options.producerStateKeptOnTruncate) this.rebuildProducers(); // MUTANT producer-state-kept-on-truncate
  }

  /** Makes everything written so far durable (a retried acks=all batch first appended with acks 1). */
  sync(): void {
    this.active.sync();
  }

  private roll(): void {
    this.segments.push(new LogSegment(this.dir, this.endOffset, this.options));
  }

  /** Records from `offset` (logStartOffset..endOffset) on, at most about maxBytes (the first always). */
  read(offset: number, maxBytes: number): LogRecord[] {
    const out: LogRecord[] = [];
    let budget = maxBytes;
    let at = offset;
    let i = this.segmentIndexOf(offset);
    while (i >= 0 && i < this.segments.length && (out.length === 0 || budget > 0)) {
      const seg = this.segments[i]!;
      let damaged = false;
      const got = seg.read(at, budget, out.length === 0, (o, reason) => {
        damaged = true;
        this.options.log?.(`${this.dir}: record ${o} is damaged (${reason}); not served`);
      });
      for (const r of got) budget -= Buffer.byteLength(r.value, 'utf8');
      out.push(...got);
      // A read that maxBytes (or damage) ended inside this segment ends the batch: going on to the next segment would
      // skip this one's remaining records and break the dense run of offsets.
      if (damaged) break;
      if (at + got.length < seg.nextOffset && !this.options.skipSegmentRest) break; // MUTANT fetch-skips-segment-rest
      if (got.length === 0 && at < seg.nextOffset) break;
      at = seg.nextOffset;
      i++;
    }
    return out;
  }

  /**
   * The records from `offset` (below `end`) whose tags `matches`, looking at no more than FILTER_SCAN_LIMIT records:
   * as many as fit in about maxBytes (the first always), read one by one, so the skipped ones are never read. The
   * next offset is past every record answered or skipped: the match that did not fit, when maxBytes ended it.
   */
  readFiltered(
    offset: number,
    end: number,
    maxBytes: number,
    matches: (tags: readonly string[] | null) => boolean,
  ): FilteredRead {
    const records: LogRecord[] = [];
    let budget = maxBytes;
    let at = offset;
    const stop = Math.min(end, this.endOffset, offset + FILTER_SCAN_LIMIT);
    let i = this.segmentIndexOf(offset);
    while (i >= 0 && at < stop) {
      const seg = this.segments[i]!;
      if (at >= seg.nextOffset) {
        i++;
        continue;
      }
      if (matches(seg.tagsAt(at))) {
        const bytes = seg.bytesAt(at);
        if (records.length > 0 && bytes > budget) break;
        const r = seg.readOne(at, (o, reason) =>
          this.options.log?.(`${this.dir}: record ${o} is damaged (${reason}); not served`),
        );
        // A damaged record ends the batch where it is: never served, never skipped over.
        if (!r) break;
        records.push(r);
        budget -= bytes;
      }
      at++;
    }
    return { records, nextOffset: at };
  }

  private segmentIndexOf(offset: number): number {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i]!.baseOffset <= offset) return i;
    return -1;
  }

  /** Resolves on the next append, after `ms`, or when `signal` aborts; whichever comes first. */
  waitForAppend(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Deletes closed segments whose newest record is older than the retention period; never the active one. */
  applyRetention(retentionMs: number, now = Date.now()): number {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[0]!.lastTimestamp < now - retentionMs) {
      const seg = this.segments.shift()!;
      seg.close();
      rmSync(seg.path, { force: true });
      removed++;
    }
    return removed;
  }

  close(): void {
    for (const wake of [...this.waiters]) wake();
    for (const s of this.segments) s.close();
  }
}
