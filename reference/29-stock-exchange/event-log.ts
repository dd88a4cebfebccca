// The sequencer's append-only event store: one JSON line per event in <dataDir>/events.log. Each inbound event and
// the fills it caused are written with one write() before the request is answered, so a kill -9 loses nothing
// acknowledged (the OS page cache survives a process crash; a power cut is not this chapter's fault model).
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from './types.ts';

export class EventLog {
  private readonly fd: number;
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'events.log');
    this.fd = openSync(this.path, 'a');
  }

  /** Every complete event in the file; a torn last line (a crash mid-write) is ignored. */
  static read(dataDir: string): LogEvent[] {
    const path = join(dataDir, 'events.log');
    if (!existsSync(path)) return [];
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    const events: LogEvent[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      try {
        events.push(JSON.parse(line) as LogEvent);
      } catch (error) {
        if (i === lines.length - 1) break; // a torn tail: the write that was under way when the process died
        throw error;
      }
    }
    return events;
  }

  append(events: readonly LogEvent[]): void {
    if (events.length === 0) return;
    writeSync(this.fd, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}
