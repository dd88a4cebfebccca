import { describe, expect, it } from 'vitest';
import { matchesBook } from './book-figure.ts';
import { approximationError, powersOfTwo } from './power-of-two.ts';

describe('BOE-E4 power of two', () => {
  it('BOE-E4 lists 2^10 to 2^50 with the book’s names', () => {
    expect(powersOfTwo.map((p) => p.power)).toEqual([10, 20, 30, 40, 50]);
    expect(powersOfTwo.map((p) => p.shortName)).toEqual(['1 KB', '1 MB', '1 GB', '1 TB', '1 PB']);
    expect(powersOfTwo.map((p) => p.approximate)).toEqual([
      '1 thousand',
      '1 million',
      '1 billion',
      '1 trillion',
      '1 quadrillion',
    ]);
  });

  it('BOE-E4 keeps exact values and the book’s round figures', () => {
    expect(powersOfTwo.map((p) => p.exact)).toEqual([
      1024, 1_048_576, 1_073_741_824, 1_099_511_627_776, 1_125_899_906_842_624,
    ]);
    expect(powersOfTwo.map((p) => p.approximateValue)).toEqual([1e3, 1e6, 1e9, 1e12, 1e15]);
    for (const p of powersOfTwo) expect(Number.isSafeInteger(p.exact)).toBe(true);
  });

  it('BOE-E4 each exact power is "about" the round figure at one significant figure', () => {
    for (const p of powersOfTwo) {
      expect(matchesBook(p.exact, { text: p.book, value: p.approximateValue, sigFigs: 1 })).toBe(true);
    }
    expect(approximationError(powersOfTwo[0]!)).toBeCloseTo(0.024, 3);
    expect(approximationError(powersOfTwo[4]!)).toBeCloseTo(0.1259, 4);
  });
});
