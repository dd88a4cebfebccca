// The book's delayed messages: "temporary storage in the broker", moved to the partition at the right time. Pending
// messages are kept in one journal, <dataDir>/delayed.jsonl, written before the produce is answered (fsynced for
// acks=all), so a kill -9 loses no acknowledged one. A timer for the earliest due message moves every due one to its
// partition; the journal notes the offset each is about to take before the append, so a restart that finds the
// note can tell from the log whether the append happened: a message is appended once, never twice, never lost.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Appending } from './partition-log.ts';

export interface DelayedMessage extends Appending {
  /** Unique within the store (a counter kept across restarts). */
  id: number;
  topic: string;
  partition: number;
  /** When it may be appended, ms since the epoch on this broker's clock. */
  deliverAt: number;
}

/** Where the store appends a due message, and how it recognises one already there after a crash. */
export interface DelayTarget {
  /** Appends the partition's due messages in order; their offsets. Throws when the topic is gone. */
  append(topic: string, partition: number, messages: readonly Appending[]): number[];
  /** The partition's next offset (where the next append goes). */
  endOffset(topic: string, partition: number): number;
  /** The record at `offset` is this message (same key, value and tags): the append noted before a crash happened. */
  holds(topic: string, partition: number, offset: number, m: Appending): boolean;
}

export interface DelayStoreOptions {
  /** MUTANT delays-lost-on-restart: the journal is not read at start (pending messages forgotten). */
  forgetOnRestart?: boolean;
  /** MUTANT delayed-twice-after-restart: the notes of appends already done are ignored at start. */
  ignoreMovedNotes?: boolean;
  /** MUTANT delay-timer-not-rearmed: an armed timer is never moved earlier for a message due before it. */
  keepArmedTimer?: boolean;
  /** MUTANT delay-ids-from-pending-count: after a restart new ids count on from the number pending. */
  idsFromPendingCount?: boolean;
  /** MUTANT delay-sweep-takes-nearly-due: the timer's sweep also appends messages due within this many ms. */
  dueSlackMs?: number;
  /** MUTANT delay-due-in-produce-order: messages due at once are appended in produce order, not deliverAt order. */
  produceOrder?: boolean;
  /** MUTANT moving-note-after-append: the note of where a due message goes follows its append (a crash between them appends it again). */
  noteAfterAppend?: boolean;
  log?: (message: string) => void;
}

type JournalLine = ({ op: 'add' } & DelayedMessage) | { op: 'moving'; id: number; offset: number };

export class DelayStore {
  private readonly pending = new Map<number, DelayedMessage>();
  private fd: number;
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly file: string,
    private readonly target: DelayTarget,
    private readonly options: DelayStoreOptions = {},
  ) {
    this.recover();
    this.fd = openSync(file, 'a');
  }

  /** Pending messages (not yet appended). */
  get size(): number {
    return this.pending.size;
  }

  /** Keeps messages until their time: one journal write (and one fsync when durable) before this returns. */
  add(messages: readonly Omit<DelayedMessage, 'id'>[], durable: boolean): DelayedMessage[] {
    const added = messages.map((m) => ({ ...m, id: this.nextId++ }));
    this.write(
      added.map((m) => ({ op: 'add', ...m })),
      durable,
    );
    for (const m of added) this.pending.set(m.id, m);
    this.schedule();
    return added;
  }

  close(): void {
    clearTimeout(this.timer);
    closeSync(this.fd);
  }

  /** Appends every due message to its partition, in deliverAt order (then produce order). */
  deliverDue(now = Date.now()): void {
    const due = [...this.pending.values()]
      .filter((m) => m.deliverAt <= now)
      .sort(this.options.produceOrder ? (a, b) => a.id - b.id : byDue);
    const byPartition = new Map<string, DelayedMessage[]>();
    for (const m of due) {
      const k = JSON.stringify([m.topic, m.partition]);
      byPartition.set(k, [...(byPartition.get(k) ?? []), m]);
    }
    for (const list of byPartition.values()) {
      const { topic, partition } = list[0]!;
      const end = this.target.endOffset(topic, partition);
      // The note first: a crash between it and the append leaves a note the restart checks against the log.
      const note = () =>
        this.write(
          list.map((m, i) => ({ op: 'moving', id: m.id, offset: end + i })),
          true,
        );
      if (!this.options.noteAfterAppend) note();
      try {
        this.target.append(topic, partition, list);
      } catch (e) {
        this.options.log?.(`delayed messages for ${topic}/${partition} dropped: ${(e as Error).message}`);
      }
      if (this.options.noteAfterAppend) note(); // MUTANT moving-note-after-append
      for (const m of list) this.pending.delete(m.id);
    }
    this.schedule();
  }

  private schedule(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const m of this.pending.values()) earliest = Math.min(earliest, m.deliverAt);
    if (earliest === this.timerAt || (this.options.keepArmedTimer && this.timerAt !== Number.POSITIVE_INFINITY)) return;
    clearTimeout(this.timer);
    this.timerAt = earliest;
    if (earliest === Number.POSITIVE_INFINITY) return;
    // setTimeout takes at most 2^31 - 1 ms; seven days is below that.
    this.timer = setTimeout(
      () => {
        this.timerAt = Number.POSITIVE_INFINITY;
        this.deliverDue(Date.now() + (this.options.dueSlackMs ?? 0)); // MUTANT delay-sweep-takes-nearly-due
      },
      Math.max(0, earliest - Date.now()),
    );
    this.timer.unref();
  }

  private write(lines: readonly JournalLine[], durable: boolean): void {
    writeSync(this.fd, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    if (durable) fsyncSync(this.fd);
  }

  /**
   * Reads the journal: messages added and not noted as moving are pending; one noted as moving at offset N was
   * appended if the log holds it at N, else it is appended again. Then the journal is rewritten with the pending
   * ones only (temporary file, fsync, rename), so it does not grow across restarts.
   */
  private recover(): void {
    const added = new Map<number, DelayedMessage>();
    const moving = new Map<number, number>();
    if (existsSync(this.file) && !this.options.forgetOnRestart)
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        const l = parseLine(line);
        if (!l) continue; // a torn last line: its produce was never answered
        if (l.op === 'add') {
          const { op: _op, ...m } = l;
          added.set(m.id, m);
          this.nextId = Math.max(this.nextId, m.id + 1);
        } else if (!this.options.ignoreMovedNotes) moving.set(l.id, l.offset);
      }
    for (const [id, m] of added) {
      const offset = moving.get(id);
      if (offset === undefined || !this.target.holds(m.topic, m.partition, offset, m)) this.pending.set(id, m);
    }
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, [...this.pending.values()].map((m) => `${JSON.stringify({ op: 'add', ...m })}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }

  /** Starts the timer (after the partitions are open): messages due while the broker was down go at once. */
  start(): void {
    // MUTANT delay-ids-from-pending-count: the id counter restarts at the number of pending messages.
    if (this.options.idsFromPendingCount) this.nextId = this.pending.size;
    this.deliverDue();
  }
}

function byDue(a: DelayedMessage, b: DelayedMessage): number {
  return a.deliverAt - b.deliverAt || a.id - b.id;
}

function parseLine(line: string): JournalLine | undefined {
  if (!line) return undefined;
  try {
    return JSON.parse(line) as JournalLine;
  } catch {
    return undefined;
  }
}
