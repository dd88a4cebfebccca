// The sequencer's append-only event store: one JSON line per event in <dataDir>/events.log. Each inbound event and
// the fills it caused are written with one write() before the request is answered, so a kill -9 loses nothing
// acknowledged (the OS page cache survives a process crash; a power cut is not this chapter's fault model). A line
// is an event only with its newline: bytes after the last one are a write cut short by a crash (a torn tail), never
// answered, so recovery drops them and cuts them from the file before appending again (else the next event would be
// written onto them, and the start after that would meet a line that is no event).
import { closeSync, existsSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from './types.ts';

export class EventLog {
  private readonly fd: number;
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'events.log');
    this.fd = openSync(this.path, 'a');
  }

  /** Every complete event in the file, and the bytes they take (the file's length but a torn tail). */
  static read(dataDir: string): { events: LogEvent[]; complete: number } {
    const path = join(dataDir, 'events.log');
    if (!existsSync(path)) return { events: [], complete: 0 };
    const bytes = readFileSync(path);
    const complete = bytes.lastIndexOf(0x0a) + 1;
    const events: LogEvent[] = [];
    // A line before the last newline that is no event is damage, not a torn write: JSON.parse throws.
    for (const line of bytes.subarray(0, complete).toString('utf8').split('\n'))
      if (line !== '') events.push(JSON.parse(line) as LogEvent);
    return { events, complete };
  }

  /**
   * Cuts a torn tail off the file (the bytes past `complete`), so the next append starts a line of its own.
   * MUTANT torn-tail-kept: the torn bytes stay; the next event is written onto them.
   */
  static cutTornTail(dataDir: string, complete: number, keep = false): void {
    const path = join(dataDir, 'events.log');
    if (!keep && existsSync(path) && statSync(path).size > complete) truncateSync(path, complete);
  }

  append(events: readonly LogEvent[]): void {
    if (events.length === 0) return;
    writeSync(this.fd, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}
