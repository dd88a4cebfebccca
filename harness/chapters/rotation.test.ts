// The daily rotation covers every rotated test within its parts' days, keeps each check's witness every run, and
// moves no other test when one is added.
import { describe, expect, it } from 'vitest';
import { inPart, rotation, witnesses } from './rotation.ts';

const names = Array.from({ length: 300 }, (_, i) => `mutant-${i}`);

describe('daily rotation', () => {
  it('runs everything outside CI, and in 4 parts under CI, a different part each day', () => {
    expect(rotation({})).toEqual({ parts: 1, part: 0 });
    const day = (d: string) => rotation({ CI: 'true' }, new Date(`${d}T12:00:00Z`)).part;
    expect(rotation({ CI: 'true' }).parts).toBe(4);
    expect(new Set([day('2026-12-06'), day('2026-12-07'), day('2026-12-08'), day('2026-12-09')])).toEqual(
      new Set([0, 1, 2, 3]),
    );
    expect(rotation({ CI: 'true', SDGRADE_ROTATION: '1' })).toEqual({ parts: 1, part: 0 });
    expect(rotation({ SDGRADE_ROTATION: '4', SDGRADE_ROTATION_PART: '3' })).toEqual({ parts: 4, part: 3 });
    expect(() => rotation({ SDGRADE_ROTATION: '3', SDGRADE_ROTATION_PART: '3' })).toThrow(/from 0 to 2/);
    expect(() => rotation({ SDGRADE_ROTATION: '0' })).toThrow(/positive integer/);
  });

  it('puts every name in exactly one part, the parts of similar size', () => {
    const sizes = [0, 1, 2].map((part) => names.filter((n) => inPart(n, { parts: 3, part })).length);
    expect(sizes.reduce((a, b) => a + b)).toBe(names.length);
    for (const s of sizes) expect(s).toBeGreaterThan(70);
    for (const n of names) expect([0, 1, 2].filter((part) => inPart(n, { parts: 3, part })).length).toBe(1);
    expect(names.every((n) => inPart(n, { parts: 1, part: 0 }))).toBe(true);
  });

  it("takes each check's first mutant as its witness", () => {
    const w = witnesses([
      { name: 'a', breaks: 'X-1' },
      { name: 'b', breaks: 'X-1' },
      { name: 'c', breaks: 'X-2' },
    ]);
    expect([...w]).toEqual(['a', 'c']);
  });
});
