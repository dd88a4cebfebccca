// The idempotent producer's state and its place in the record: what MQ-C11 and MQ-F8 grade over the wire, here at
// the unit (a record keeps its producer through encoding; the state rebuilt from records answers as the live one).
import { describe, expect, it } from 'vitest';
import { ProducerState } from './producer-state.ts';
import { decodeRecord, encodeRecord, type LogRecord } from './record.ts';

const P = '6f1c2b4e-8d0a-4e57-9b3f-2a7c5d9e1f08';

describe('record with a producer', () => {
  it('round-trips the producer, with and without tags, and a record without one reads as before', () => {
    const base = { offset: 7, timestamp: 1_796_345_000_123, key: null, value: 'v ü😀' };
    for (const r of [
      { ...base, producer: { id: P, firstSequence: 41 } },
      { ...base, tags: ['a', 'b'], producer: { id: P, firstSequence: 0 } },
      { ...base, tags: ['a'] },
      base,
    ] as LogRecord[]) {
      const d = decodeRecord(encodeRecord(r), 0);
      expect(d.kind).toBe('record');
      if (d.kind === 'record') expect(d.record).toEqual(r);
    }
  });

  it('catches a flipped byte in the producer section (it is under the CRC)', () => {
    const buf = encodeRecord({ offset: 0, timestamp: 1, key: null, value: 'x', producer: { id: P, firstSequence: 3 } });
    buf[buf.length - 2]! ^= 0xff;
    expect(decodeRecord(buf, 0).kind).toBe('corrupt');
  });
});

describe('ProducerState', () => {
  it('appends the next sequence, answers a repeat of a remembered batch, refuses the rest', () => {
    const s = new ProducerState();
    expect(s.check(P, 1, 2)).toEqual({ kind: 'out-of-order', expected: 0 });
    expect(s.check(P, 0, 3)).toEqual({ kind: 'append' });
    s.add(P, { firstSequence: 0, count: 3, firstOffset: 10, timestamp: 5 });
    expect(s.check(P, 3, 1)).toEqual({ kind: 'append' });
    expect(s.check(P, 0, 3)).toMatchObject({ kind: 'duplicate', batch: { firstOffset: 10, count: 3 } });
    expect(s.check(P, 0, 2)).toEqual({ kind: 'out-of-order', expected: 3 });
    expect(s.check(P, 4, 1)).toEqual({ kind: 'out-of-order', expected: 3 });
    expect(s.check('other', 0, 1)).toEqual({ kind: 'append' });
  });

  it('rebuilt from records, knows the same batches (consecutive records of one batch are one)', () => {
    const live = new ProducerState();
    const records: LogRecord[] = [];
    let offset = 0;
    for (const [id, first, count] of [
      [P, 0, 3],
      ['q', 0, 1],
      [P, 3, 2],
      [P, 5, 1],
    ] as const) {
      live.add(id, { firstSequence: first, count, firstOffset: offset, timestamp: 9 });
      for (let i = 0; i < count; i++)
        records.push({ offset: offset++, timestamp: 9, key: null, value: '', producer: { id, firstSequence: first } });
    }
    records.push({ offset: offset++, timestamp: 9, key: null, value: 'plain' });
    const rebuilt = new ProducerState();
    rebuilt.rebuild(records);
    for (const [id, first, count] of [
      [P, 0, 3],
      [P, 3, 2],
      [P, 5, 1],
      [P, 6, 1],
      ['q', 0, 1],
      ['q', 1, 1],
    ] as const)
      expect(rebuilt.check(id, first, count)).toEqual(live.check(id, first, count));
  });
});
