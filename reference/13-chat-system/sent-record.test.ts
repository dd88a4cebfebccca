import { describe, expect, it } from 'vitest';
import { MAX_RANGES_PER_CHANNEL, SentRecord } from './sent-record.ts';

describe('SentRecord', () => {
  it('remembers IDs per channel, not the highest: a sync from below what came live still finds the older ones', () => {
    const r = new SentRecord();
    for (const id of [105, 106, 107]) r.add('c_1', id);
    expect([104, 105, 107, 108].map((id) => r.has('c_1', id))).toEqual([false, true, true, false]);
    expect(r.has('c_2', 105)).toBe(false);
    for (let id = 1; id <= 104; id++) r.add('c_1', id);
    for (let id = 1; id <= 107; id++) expect(r.has('c_1', id), String(id)).toBe(true);
  });

  it('joins neighbours from either side and keeps gaps', () => {
    const r = new SentRecord();
    for (const id of [10, 12, 20, 11, 19, 30, 5]) r.add('c', id);
    const have = Array.from({ length: 32 }, (_, i) => i).filter((id) => r.has('c', id));
    expect(have).toEqual([5, 10, 11, 12, 19, 20, 30]);
  });

  it('is bounded: past the limit the lowest range is forgotten (sent again at worst, never dropped)', () => {
    const r = new SentRecord();
    for (let k = 0; k <= MAX_RANGES_PER_CHANNEL; k++) r.add('c', k * 10);
    expect(r.has('c', 0)).toBe(false);
    expect(r.has('c', 10)).toBe(true);
    expect(r.has('c', MAX_RANGES_PER_CHANNEL * 10)).toBe(true);
  });
});
