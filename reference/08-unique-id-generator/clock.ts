// The node's clock: Date.now() plus an offset that can be stepped at runtime, so the harness can make the clock jump
// backwards without root or a real time change. The offset comes from a file in libfaketime's relative format
// ("+0", "-3s", "-1500ms", "+2m"): the same file the harness writes for any implementation, which can instead run
// under libfaketime with FAKETIME_TIMESTAMP_FILE pointing at it. The file is polled (never read per ID).

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
  let offset = base;
  if (!file) return { now: base === 0 ? Date.now : () => Date.now() + base, close: () => {} };
  const read = (text: string) => {
    try {
      offset = base + parseOffset(text);
    } catch {
      // A half-written file: keep the last offset.
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
  }, o.pollMs ?? 20);
  timer.unref();
  return { now: () => Date.now() + offset, close: () => clearInterval(timer) };
}
