import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offsetClock, parseHeld, parseOffset } from './clock.ts';
import {
  ClockMovedBackwards,
  checkNodeIds,
  decodeId,
  EPOCH_MS,
  MAX_SEQUENCE,
  MAX_WAIT_MS,
  Snowflake,
} from './snowflake.ts';

/** A clock the test moves by hand; `tick` is added on every read after `autoAfter` reads (to end a wait). */
function manualClock(start: number) {
  let now = start;
  return {
    read: () => now,
    set: (ms: number) => {
      now = ms;
    },
  };
}

describe('Snowflake layout', () => {
  it('puts timestamp, datacenter, machine and sequence where the book says', () => {
    const clock = manualClock(EPOCH_MS + 1234);
    const g = new Snowflake({ datacenterId: 7, machineId: 19, clock: clock.read });
    const a = g.next();
    const b = g.next();
    expect(BigInt(a)).toBe((1234n << 22n) | (7n << 17n) | (19n << 12n));
    expect(decodeId(b)).toEqual({ id: b, unixMs: EPOCH_MS + 1234, datacenterId: 7, machineId: 19, sequence: 1 });
  });

  it('makes decimal strings equal to BigInt arithmetic across digit carries', () => {
    for (const ms of [EPOCH_MS + 1, EPOCH_MS + 23, Date.now(), EPOCH_MS + 2 ** 41 - 1]) {
      const clock = manualClock(ms);
      const g = new Snowflake({ datacenterId: 31, machineId: 31, clock: clock.read });
      for (let s = 0; s <= MAX_SEQUENCE; s += 97) {
        while (decodeId(g.next()).sequence < s);
      }
      const ids = g.nextBatch(3);
      for (const id of ids) expect(id).toBe(BigInt(id).toString());
    }
  });

  it('resets the sequence every millisecond and waits once 4,096 are used', () => {
    let reads = 0;
    let now = EPOCH_MS + 10;
    const g = new Snowflake({
      datacenterId: 1,
      machineId: 1,
      clock: () => {
        reads++;
        // The clock advances only after the sequence is spent (the generator spins on it).
        if (reads > MAX_SEQUENCE + 1 + 5) now = EPOCH_MS + 11;
        return now;
      },
    });
    const ids = g.nextBatch(MAX_SEQUENCE + 2).map((x) => decodeId(x));
    expect(ids[MAX_SEQUENCE]!).toMatchObject({ unixMs: EPOCH_MS + 10, sequence: MAX_SEQUENCE });
    expect(ids[MAX_SEQUENCE + 1]!).toMatchObject({ unixMs: EPOCH_MS + 11, sequence: 0 });
    expect(new Set(ids.map((d) => d.id)).size).toBe(ids.length);
  });

  it('the sequence-wrap mutant reissues an ID instead (what UID-I6 catches)', () => {
    const g = new Snowflake({ datacenterId: 1, machineId: 1, clock: () => EPOCH_MS + 10, mutant: 'sequence-wrap' });
    const ids = g.nextBatch(MAX_SEQUENCE + 2);
    expect(ids[MAX_SEQUENCE + 1]).toBe(ids[0]);
  });

  it('waits out a small step back and refuses a larger one, never issuing a smaller ID', () => {
    const clock = manualClock(EPOCH_MS + 1000);
    const g = new Snowflake({ datacenterId: 0, machineId: 0, clock: clock.read });
    const first = BigInt(g.next());
    clock.set(EPOCH_MS + 1000 - MAX_WAIT_MS - 1);
    expect(() => g.next()).toThrow(ClockMovedBackwards);
    clock.set(EPOCH_MS + 1001);
    expect(BigInt(g.next())).toBeGreaterThan(first);
  });

  it('does not reuse the millisecond a previous run may have reached (the high-water mark)', () => {
    const clock = manualClock(EPOCH_MS + 500);
    const g = new Snowflake({ datacenterId: 0, machineId: 0, clock: clock.read, notBeforeMs: EPOCH_MS + 600 });
    expect(() => g.next()).toThrow(ClockMovedBackwards);
    clock.set(EPOCH_MS + 601);
    expect(decodeId(g.next()).unixMs).toBe(EPOCH_MS + 601);
  });

  it('refuses out-of-range node IDs', () => {
    expect(() => checkNodeIds(32, 0)).toThrow(/datacenter ID must be an integer from 0 to 31/);
    expect(() => checkNodeIds(0, -1)).toThrow(/machine ID/);
    expect(() => decodeId((1n << 63n).toString())).toThrow(RangeError);
  });
});

describe('clock offsets (libfaketime relative format)', () => {
  it('parses the offsets the harness writes', () => {
    expect(parseOffset('+0')).toBe(0);
    expect(parseOffset('-3s')).toBe(-3000);
    expect(parseOffset('-10')).toBe(-10_000);
    expect(parseOffset('+1500ms')).toBe(1500);
    expect(parseOffset('')).toBe(0);
    expect(() => parseOffset('yesterday')).toThrow();
  });

  it('holds the clock at an absolute timestamp (UTC), and a held clock sees its release without the poll timer', () => {
    expect(parseHeld('2026-12-06 02:40:03')).toBe(Date.UTC(2026, 11, 6, 2, 40, 3));
    expect(parseHeld('-3s')).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'clock-'));
    const file = join(dir, 'faketime.rc');
    writeFileSync(file, '2026-12-06 02:40:03\n');
    const clock = offsetClock(file, { pollMs: 5 });
    try {
      expect(clock.now()).toBe(Date.UTC(2026, 11, 6, 2, 40, 3));
      writeFileSync(file, '+0\n');
      // A synchronous wait, as the generator's for the next millisecond: no timer can run meanwhile.
      const until = Date.now() + 2000;
      let now = clock.now();
      while (now === Date.UTC(2026, 11, 6, 2, 40, 3) && Date.now() < until) now = clock.now();
      expect(Math.abs(now - Date.now())).toBeLessThan(1000);
    } finally {
      clock.close();
    }
  });
});
