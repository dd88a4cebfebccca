// The versioning rules in isolation: the book's D1..D5 example, the same-node concurrency plain vector clocks get
// wrong, and a merge that is order-independent.
import { describe, expect, it } from 'vitest';
import {
  type Clock,
  clockOf,
  contextOf,
  covers,
  formatClock,
  merge,
  mergeAll,
  parseClock,
  type Version,
} from './clock.ts';

const v = (value: string, dot: string, past: Clock | string = ''): Version => ({
  value,
  dot,
  past: typeof past === 'string' ? parseClock(past) : past,
  ts: 0,
});

describe('clock', () => {
  it('reads and writes the wire form, folding contiguous dots', () => {
    expect(formatClock(parseClock('sx:2,sy@1'))).toBe('sx:2,sy:1');
    expect(formatClock(parseClock('sx:1,sx@3'))).toBe('sx:1,sx@3');
    expect(() => parseClock('sx=1')).toThrow(RangeError);
    expect(covers(parseClock('sx:2'), 'sx:1')).toBe(true);
    expect(covers(parseClock('sx@2'), 'sx:1')).toBe(false);
  });

  it("follows the book's D1..D5: D3 and D4 are siblings, D5 resolves them", () => {
    const d1 = v('D1', 'sx:1');
    const d2 = v('D2', 'sx:2', clockOf(d1));
    const d3 = v('D3', 'sy:1', clockOf(d2));
    const d4 = v('D4', 'sz:1', clockOf(d2));
    const s = mergeAll([], [d1, d2, d3, d4], 'dots');
    expect(s.map((x) => x.value).sort()).toEqual(['D3', 'D4']);
    expect(formatClock(clockOf(d3))).toBe('sx:2,sy:1');
    const d5 = v('D5', 'sx:3', contextOf(s));
    expect(formatClock(clockOf(d5))).toBe('sx:3,sy:1,sz:1');
    expect(merge(s, d5).map((x) => x.value)).toEqual(['D5']);
  });

  it('keeps two writes through one node with one context as siblings (plain vector clocks drop one)', () => {
    const a = v('a', 'n1:1');
    const b = v('b', 'n1:2');
    expect(mergeAll([], [a, b], 'dots')).toHaveLength(2);
    expect(mergeAll([], [a, b], 'plain-version-vectors').map((x) => x.value)).toEqual(['b']);
  });

  it('merges to the same siblings in any order, and is idempotent', () => {
    const base = v('0', 'n1:1');
    const xs = [
      base,
      v('a', 'n2:1', clockOf(base)),
      v('b', 'n3:1', clockOf(base)),
      v('c', 'n1:2'),
      v('d', 'n2:2', 'n1:1,n2:1'),
    ];
    const want = mergeAll([], xs, 'dots')
      .map((x) => x.dot)
      .sort();
    for (let i = 0; i < 20; i++) {
      const shuffled = [...xs, ...xs].sort(() => Math.random() - 0.5);
      expect(
        mergeAll([], shuffled, 'dots')
          .map((x) => x.dot)
          .sort(),
      ).toEqual(want);
    }
  });
});
