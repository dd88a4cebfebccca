import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALPHABET, decodeBase62, encodeBase62 } from './base62.ts';
import { codeFor } from './codes.ts';

describe('base62', () => {
  it('round-trips any non-negative 64-bit integer, with no leading zeros', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
        const code = encodeBase62(n);
        expect(code).toMatch(/^[0-9a-zA-Z]{1,11}$/);
        expect(decodeBase62(code)).toBe(n);
        if (n > 0n) expect(code[0]).not.toBe('0');
      }),
      { numRuns: 2000 },
    );
  });
  it('round-trips any code without leading zeros', () => {
    const digit = fc.constantFrom(...ALPHABET);
    const code = fc
      .tuple(fc.constantFrom(...ALPHABET.slice(1)), fc.array(digit, { maxLength: 10 }))
      .map(([head, tail]) => head + tail.join(''));
    fc.assert(fc.property(code, (c) => encodeBase62(decodeBase62(c)) === c));
  });
  it('orders digits 0-9, a-z, A-Z as the book does', () => {
    expect(ALPHABET).toHaveLength(62);
    expect(encodeBase62(0)).toBe('0');
    expect(encodeBase62(61)).toBe('Z');
    expect(encodeBase62(62)).toBe('10');
    expect(encodeBase62(11157)).toBe('2TX'); // the book's worked example: 11157 = 2*62^2 + 55*62 + 59
    expect(encodeBase62(62n ** 7n - 1n)).toBe('ZZZZZZZ'); // 3.5 trillion codes in 7 characters
    expect(encodeBase62(62n ** 7n)).toHaveLength(8);
  });
  it('refuses what is not a base62 integer', () => {
    expect(() => encodeBase62(-1)).toThrow(RangeError);
    expect(() => encodeBase62(1.5)).toThrow(RangeError);
    expect(() => decodeBase62('')).toThrow(RangeError);
    expect(() => decodeBase62('ab-c')).toThrow(RangeError);
  });
});

describe('codes', () => {
  it('is base62 of the ID', () => {
    expect(codeFor(1n, 'https://a.example')).toBe('1');
    expect(codeFor(62n ** 7n - 1n, 'https://a.example')).toBe('ZZZZZZZ');
  });
  it('MUTANT snowflake-codes gives 11 characters; truncated-hash gives 2', () => {
    expect(codeFor(1n, 'https://a.example', 'snowflake-codes')).toHaveLength(11);
    expect(codeFor(1n, 'https://a.example', 'truncated-hash')).toMatch(/^[0-9a-zA-Z]{2}$/);
  });
});
