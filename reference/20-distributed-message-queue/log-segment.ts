// One segment file of a partition's log: append-only while active, read-only once closed. It keeps the file
// position of every record it holds (its offset index) and checks every record's CRC when it opens and on every
// read, so a damaged record is never handed out as data.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord, type LogRecord } from './record.ts';

export interface SegmentOptions {
  /** Check CRCs on open and read (false only for the crc-not-checked mutant). */
  verifyCrc?: boolean;
  /** Cut a damaged or torn tail off on open (false only for the torn-tail-kept mutant). */
  truncateDamagedTail?: boolean;
  /** Delay writes by this many ms after answering (only for the ack-before-durable mutant). */
  deferWritesMs?: number;
  /** Wake long polls only on durable appends (only for the long-poll-woken-only-by-fsync mutant). */
  wakeOnlyOnDurable?: boolean;
  /** Drop the records pending when a segment rolls (only for the roll-drops-pending-batch mutant). */
  dropPendingAtRoll?: boolean;
  /** Open only the newest segment of a partition (only for the restart-opens-newest-segment mutant). */
  openNewestOnly?: boolean;
  /** Go on to the next segment when maxBytes ended a read inside one (only for the fetch-skips-segment-rest mutant). */
  skipSegmentRest?: boolean;
  /** MUTANT fetch-budget-reset-per-segment: a read answers the first record of every segment it reaches whole. */
  firstOfEverySegment?: boolean;
  /** Leave the tag index empty on open (only for the tag-index-not-rebuilt mutant). */
  skipTagIndexOnOpen?: boolean;
  /** Write records without their tags, keeping them only in the index (only for the tags-not-in-record mutant). */
  tagsOutOfRecord?: boolean;
  /** Keep a batch's tags at a segment roll (only for the roll-keeps-batch-tags mutant). */
  keepTagsAtRoll?: boolean;
  /** Leave the tags out of each record's CRC (only for the tags-outside-crc mutant). */
  crcWithoutTags?: boolean;
  /** MUTANT tag-index-not-truncated: truncating a segment leaves its tag index as long as it was. */
  keepTagIndexAtTruncate?: boolean;
  /** MUTANT segment-time-lost-on-restart: a reopened segment's newest-record time is left at 0. */
  forgetTimesOnOpen?: boolean;
  /** MUTANT tag-index-empty-on-replica: records a follower replicates are indexed as untagged. */
  replicaTagsUnindexed?: boolean;
  /** MUTANT retention-by-first-append: a segment's time is its first append's, not its newest record's. */
  timeOfFirstAppend?: boolean;
  log?: (message: string) => void;
}

export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

export class LogSegment {
  readonly path: string;
  /** File position of each record, by offset - baseOffset. */
  private readonly positions: number[] = [];
  /** Tags of each record (null: none), by offset - baseOffset: a filtered fetch skips records without reading them. */
  private readonly tagIndex: (readonly string[] | null)[] = [];
  private fd: number;
  /** Bytes of whole records, the position of the next append. */
  size = 0;
  /** Timestamp of the newest record (0 when empty): retention removes a closed segment by it. */
  lastTimestamp = 0;
  /** What recovery cut off when it opened: the number of bytes and why. */
  readonly recovered: { truncatedBytes: number; reason: string | null };
  private readonly pendingWrites = new Set<NodeJS.Timeout>();

  constructor(
    dir: string,
    readonly baseOffset: number,
    private readonly options: SegmentOptions = {},
  ) {
    this.path = join(dir, segmentFileName(baseOffset));
    this.fd = openSync(this.path, 'a+');
    this.recovered = this.recover();
  }

  get count(): number {
    return this.positions.length;
  }

  get nextOffset(): number {
    return this.baseOffset + this.positions.length;
  }

  /** Scans the file, indexing every whole record whose CRC holds; cuts the file at the first one that does not. */
  private recover(): { truncatedBytes: number; reason: string | null } {
    const fileSize = fstatSync(this.fd).size;
    if (fileSize === 0) return { truncatedBytes: 0, reason: null };
    const buf = Buffer.allocUnsafe(fileSize);
    readSync(this.fd, buf, 0, fileSize, 0);
    let at = 0;
    let reason: string | null = null;
    while (at < fileSize) {
      const d = decodeRecord(buf, at, this.options.verifyCrc !== false, this.options.crcWithoutTags);
      if (d.kind === 'torn') {
        reason = 'torn write at the tail';
        break;
      }
      if (d.kind === 'corrupt') {
        reason = d.reason;
        break;
      }
      if (d.record.offset !== this.nextOffset) {
        reason = `offset ${d.record.offset} where ${this.nextOffset} was expected`;
        break;
      }
      this.positions.push(at);
      // MUTANT tag-index-not-rebuilt: the index of a reopened segment knows no tags (only appends fill it).
      this.tagIndex.push(this.options.skipTagIndexOnOpen ? null : (d.record.tags ?? null));
      if (!this.options.forgetTimesOnOpen) this.lastTimestamp = d.record.timestamp; // MUTANT segment-time-lost-on-restart
      at += d.bytes;
    }
    this.size = at;
    if (at === fileSize) return { truncatedBytes: 0, reason: null };
    // MUTANT torn-tail-kept: the damaged tail stays in the file and new records are appended after it.
    if (this.options.truncateDamagedTail === false) {
      this.size = fileSize;
      return { truncatedBytes: 0, reason };
    }
    ftruncateSync(this.fd, at);
    fsyncSync(this.fd);
    this.options.log?.(`${this.path}: cut ${fileSize - at} bytes at offset ${this.nextOffset} (${reason})`);
    return { truncatedBytes: fileSize - at, reason };
  }

  /**
   * Appends encoded records (consecutive offsets from nextOffset) in one write; fsyncs when `durable`. `tags` are
   * each record's tags, for the index.
   */
  append(encoded: Buffer[], timestamp: number, durable: boolean, tags: readonly (readonly string[] | null)[]): void {
    const data = encoded.length === 1 ? encoded[0]! : Buffer.concat(encoded);
    let at = this.size;
    encoded.forEach((e, i) => {
      this.positions.push(at);
      this.tagIndex.push(tags[i] ?? null);
      at += e.length;
    });
    this.size = at;
    // MUTANT retention-by-first-append: the time is set by the segment's first append only.
    if (!this.options.timeOfFirstAppend || this.lastTimestamp === 0) this.lastTimestamp = timestamp;
    const deferMs = this.options.deferWritesMs ?? 0;
    if (deferMs > 0) {
      // MUTANT ack-before-durable: the answer goes out before the bytes reach the file.
      const t = setTimeout(() => {
        this.pendingWrites.delete(t);
        writeSync(this.fd, data);
      }, deferMs);
      this.pendingWrites.add(t);
      return;
    }
    writeSync(this.fd, data);
    if (durable) fsyncSync(this.fd);
  }

  /**
   * Records from `offset` on, while their record bytes (more than their values' bytes) stay within `maxBytes` (the
   * first one whatever its size when `atLeastOne`), stopping before the first record whose CRC fails (reported
   * through `onDamage`).
   */
  read(
    offset: number,
    maxBytes: number,
    atLeastOne: boolean,
    onDamage: (offset: number, reason: string) => void,
  ): LogRecord[] {
    const first = offset - this.baseOffset;
    if (first < 0 || first >= this.positions.length) return [];
    const start = this.positions[first]!;
    // MUTANT fetch-budget-reset-per-segment: atLeastOne taken as true (a read's later segments answer their first).
    if (!atLeastOne && !this.options.firstOfEverySegment && this.endOf(first) - start > maxBytes) return [];
    let last = first;
    while (last + 1 < this.positions.length && this.endOf(last + 1) - start <= maxBytes) last++;
    const end = this.endOf(last);
    const buf = Buffer.allocUnsafe(end - start);
    const got = readSync(this.fd, buf, 0, buf.length, start);
    const out: LogRecord[] = [];
    for (let i = first; i <= last; i++) {
      const d = decodeRecord(
        buf.subarray(0, got),
        this.positions[i]! - start,
        this.options.verifyCrc !== false,
        this.options.crcWithoutTags,
      );
      if (d.kind !== 'record' || d.record.offset !== this.baseOffset + i) {
        onDamage(this.baseOffset + i, d.kind === 'record' ? 'wrong offset' : d.kind === 'torn' ? 'torn' : d.reason);
        break;
      }
      out.push(d.record);
    }
    return out;
  }

  /** The tags of the record at `offset` (null: none), from the index, without reading the file. */
  tagsAt(offset: number): readonly string[] | null {
    return this.tagIndex[offset - this.baseOffset] ?? null;
  }

  /** The bytes the record at `offset` takes in the file. */
  bytesAt(offset: number): number {
    const i = offset - this.baseOffset;
    return this.endOf(i) - this.positions[i]!;
  }

  /** The one record at `offset`, read and CRC-checked; null (reported through `onDamage`) when it is damaged. */
  readOne(offset: number, onDamage: (offset: number, reason: string) => void): LogRecord | null {
    const i = offset - this.baseOffset;
    const buf = Buffer.allocUnsafe(this.bytesAt(offset));
    const got = readSync(this.fd, buf, 0, buf.length, this.positions[i]!);
    const d = decodeRecord(buf.subarray(0, got), 0, this.options.verifyCrc !== false, this.options.crcWithoutTags);
    if (d.kind === 'record' && d.record.offset === offset) return d.record;
    onDamage(offset, d.kind === 'record' ? 'wrong offset' : d.kind === 'torn' ? 'torn' : d.reason);
    return null;
  }

  /** Forces what was written to disk. */
  sync(): void {
    fsyncSync(this.fd);
  }

  /** Cuts the segment so it ends before `offset` (a replica dropping records its new leader does not have). */
  truncateTo(offset: number): void {
    const keep = Math.max(0, offset - this.baseOffset);
    if (keep >= this.positions.length) return;
    this.size = this.positions[keep]!;
    this.positions.length = keep;
    if (!this.options.keepTagIndexAtTruncate) this.tagIndex.length = keep; // MUTANT tag-index-not-truncated
    ftruncateSync(this.fd, this.size);
    fsyncSync(this.fd);
  }

  private endOf(i: number): number {
    return i + 1 < this.positions.length ? this.positions[i + 1]! : this.size;
  }

  /** Closes the file; writes the ack-before-durable mutant deferred are dropped, as a crash would drop them. */
  close(): void {
    for (const t of this.pendingWrites) clearTimeout(t);
    this.pendingWrites.clear();
    closeSync(this.fd);
    this.fd = -1;
  }
}
