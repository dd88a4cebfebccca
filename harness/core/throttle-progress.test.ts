import { describe, expect, it, vi } from 'vitest';
import { throttleProgress } from './throttle-progress.ts';

describe('throttleProgress', () => {
  it('passes other lines at once and progress bars at most once per interval', () => {
    const seen: string[] = [];
    vi.useFakeTimers();
    const p = throttleProgress((l) => seen.push(l), 1000);
    p('redirect [  10% ] 5/10 VUs');
    p('redirect [  11% ] 5/10 VUs');
    p('level=error msg="thresholds crossed"');
    vi.advanceTimersByTime(1000);
    p('redirect [  20% ] 5/10 VUs');
    vi.useRealTimers();
    expect(seen).toEqual([
      'redirect [  10% ] 5/10 VUs',
      'level=error msg="thresholds crossed"',
      'redirect [  20% ] 5/10 VUs',
    ]);
  });
});
