// The node's clock: Date.now() plus an offset that can be stepped at runtime, so the harness can make the clock jump
// backwards without root or a real time change. The offset comes from a file in libfaketime's relative format
// ("+0", "-3s", "-1500ms", "+2m"): the same file the harness writes for any implementation, which can instead run
// under libfaketime with FAKETIME_TIMESTAMP_FILE pointing at it. The file is polled (never read per ID).
// The file may also hold the clock still: libfaketime's absolute form "2026-12-06 02:40:03" (UTC; libfaketime reads
// it in the process's time zone, so such a node runs with TZ=UTC) stops the clock at that second. While it is held,
// now() reads the file itself at most every poll interval, so a node waiting for the next millisecond (a loop that
// never yields to the poll timer) sees the clock released.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, '': 1000 };

/** Parses a libfaketime relative offset into milliseconds; absent or empty means 0. */
export function parseOffset(text: string): number {
  const t = text.trim();
  if (t === '') return 0;
  const m = /^([+-])(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(t);
  if (!m) throw new Error(`not a relative clock offset like "-3s" or "+0": ${JSON.stringify(t)}`);
  const ms = Number(m[2]) * UNITS[m[3] ?? '']!;
  return m[1] === '-' ? -ms : ms;
}

/** The millisecond (Unix) a libfaketime absolute timestamp "YYYY-MM-DD hh:mm:ss" (UTC) holds the clock at, or null. */
export function parseHeld(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, sec);
}

export interface SteppableClock {
  now: () => number;
  close: () => void;
}

/** A clock whose offset follows `file` (polled every `pollMs`); without a file, plain Date.now. */
export function offsetClock(
  file: string | undefined,
  o: { pollMs?: number; baseOffsetMs?: number } = {},
): SteppableClock {
  const base = o.baseOffsetMs ?? 0;
  const pollMs = o.pollMs ?? 20;
  let offset = base;
  /** The millisecond the clock is held at (an absolute timestamp in the file), or null while it runs. */
  let held: number | null = null;
  if (!file) return { now: base === 0 ? Date.now : () => Date.now() + base, close: () => {} };
  const read = (text: string) => {
    const at = parseHeld(text);
    if (at !== null) {
      held = at;
      return;
    }
    try {
      offset = base + parseOffset(text);
      held = null;
    } catch {
      // A half-written file: keep the last offset.
    }
  };
  let readAt = 0;
  const readNow = () => {
    readAt = Date.now();
    try {
      read(readFileSync(file, 'utf8'));
    } catch {
      read('');
    }
  };
  try {
    read(readFileSync(file, 'utf8'));
  } catch {
    // No file yet: no offset.
  }
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    readFile(file, 'utf8')
      .then(read, () => read(''))
      .finally(() => {
        busy = false;
      });
  }, pollMs);
  timer.unref();
  const now = () => {
    if (held === null) return Date.now() + offset;
    if (Date.now() - readAt >= pollMs) readNow();
    return held ?? Date.now() + offset;
  };
  return { now, close: () => clearInterval(timer) };
}
