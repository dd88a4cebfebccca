import { describe, expect, it } from 'vitest';
import { violates } from './bad-input-property.ts';

describe('violates (which generated parameter values surely break their schema)', () => {
  it('knows integers, their range and their format', () => {
    const n = { type: 'integer', minimum: 1, maximum: 16 };
    expect(['1', '16'].map((v) => violates(n, v))).toEqual([false, false]);
    expect(['0', '17', '1.5', 'abc', ' 3', ''].map((v) => violates(n, v))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  });
  it('knows string lengths, enums and patterns, counting code points', () => {
    expect(violates({ type: 'string', maxLength: 2 }, '\u{1F600}\u{1F600}')).toBe(false);
    expect(violates({ type: 'string', maxLength: 2 }, 'abc')).toBe(true);
    expect(violates({ type: 'string', enum: ['a'] }, 'b')).toBe(true);
    expect(violates({ type: 'string', pattern: '^[0-9]+$' }, '12')).toBe(false);
    expect(violates({ type: 'string', pattern: '^[0-9]+$' }, '1a')).toBe(true);
  });
  it('claims nothing about schemas it does not know', () => {
    expect(violates({ type: 'boolean' }, 'maybe')).toBe(false);
    expect(violates({}, 'x')).toBe(false);
  });
});
