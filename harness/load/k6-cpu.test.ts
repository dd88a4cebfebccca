import { describe, expect, it } from 'vitest';
import { parseProcStat } from './k6-cpu.ts';

describe('parseProcStat', () => {
  it('reads pid, command, parent and utime + stime, even with spaces and parentheses in the name', () => {
    const line =
      '4242 (k6 (run)) S 4200 4242 4200 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 12 0 9999 1000000 500 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ pid: 4242, comm: 'k6 (run)', ppid: 4200, ticks: 175 });
  });

  it('returns null for text that is not a stat line', () => {
    expect(parseProcStat('garbage')).toBeNull();
  });
});
