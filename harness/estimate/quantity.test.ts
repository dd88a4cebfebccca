import { describe, expect, it } from 'vitest';
import { describeBookFigure, matchesBook, roundingTolerance } from './book-figure.ts';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatNumber,
  formatQuantity,
  renameInputs,
  substituteInputs,
} from './quantity.ts';

describe('formatters', () => {
  it('writes rates with separators and a ~ when rounded', () => {
    expect(formatQuantity({ value: 1157.4, unit: 'req/s', formula: 'x' })).toBe('~1,157 req/s');
    expect(formatQuantity({ value: 7000, unit: 'tweets/s', formula: 'x' })).toBe('7,000 tweets/s');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(52.56)).toBe('~52.6');
  });

  it('writes bytes in the book’s decimal units', () => {
    expect(formatBytes(30e12)).toBe('30 TB');
    expect(formatBytes(5.5e16)).toBe('55 PB');
    expect(formatBytes(5.475e16)).toBe('~54.8 PB');
    expect(formatBytes(36.5e12)).toBe('36.5 TB');
    expect(formatBytes(1e6)).toBe('1 MB');
    expect(formatBytes(1204)).toBe('1,204 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatQuantity({ value: 30e12, unit: 'bytes', formula: 'x' })).toBe('30 TB');
  });

  it('writes bytes in binary units when asked', () => {
    expect(formatBytes(2 ** 30, { binary: true })).toBe('1 GiB');
    expect(formatBytes(30e12, { binary: true })).toBe('~27.3 TiB');
    expect(formatQuantity({ value: 2 ** 50, unit: 'bytes', formula: 'x' }, { binary: true })).toBe('1 PiB');
  });

  it('writes large counts in words and durations in their unit', () => {
    expect(formatCount(365e9)).toBe('365 billion');
    expect(formatCount(62 ** 7)).toBe('~3.5 trillion');
    expect(formatCount(302.4e6)).toBe('302.4 million');
    expect(formatCount(999)).toBe('999');
    expect(formatQuantity({ value: 100e6, unit: 'URLs/day', formula: 'x' })).toBe('100 million URLs/day');
    expect(formatDuration(3153.6)).toBe('~52.6 minutes');
    expect(formatDuration(5e-10)).toBe('0.5 ns');
    expect(formatDuration(0.25e-3)).toBe('250 µs');
    expect(formatDuration(3.65 * 86_400)).toBe('3.65 days');
    expect(formatQuantity({ value: 0.1, unit: 'ratio', formula: 'x' })).toBe('10%');
  });
});

describe('formulas', () => {
  const q = {
    value: 1e8 / 86_400,
    unit: 'req/s',
    formula: 'countPerDay / secondsPerDay',
    inputs: { countPerDay: 1e8, secondsPerDay: 86_400 },
  };

  it('substitutes the inputs into the formula', () => {
    expect(substituteInputs(q)).toBe('100 million / 86,400');
  });

  it('renames inputs in the formula and the inputs alike', () => {
    const renamed = renameInputs(q, { countPerDay: 'urlsPerDay' });
    expect(renamed.formula).toBe('urlsPerDay / secondsPerDay');
    expect(renamed.inputs).toEqual({ urlsPerDay: 1e8, secondsPerDay: 86_400 });
    expect(renamed.value).toBe(q.value);
  });
});

describe('book figures', () => {
  it('takes the tolerance from the book’s rounding', () => {
    expect(roundingTolerance({ text: '7000', value: 7000, sigFigs: 1 })).toBe(500);
    expect(roundingTolerance({ text: '~1200', value: 1200, sigFigs: 2 })).toBe(50);
    expect(roundingTolerance({ text: '36.5 TB', value: 36.5e12, sigFigs: 3 })).toBeCloseTo(0.05e12, -6);
    expect(roundingTolerance({ text: 'exact', value: 100 })).toBe(0);
  });

  it('matches within the rounding and not beyond it', () => {
    const fig = { text: '~1200', value: 1200, sigFigs: 2 };
    expect(matchesBook(1157.4, fig)).toBe(true);
    expect(matchesBook(1149, fig)).toBe(false);
    expect(matchesBook(3472, { text: '3400-3600', value: 3500, range: [3400, 3600] })).toBe(true);
    expect(matchesBook(3399, { text: '3400-3600', value: 3500, range: [3400, 3600] })).toBe(false);
    expect(matchesBook(101, { text: '100', value: 100 })).toBe(false);
    expect(describeBookFigure(1149, fig)).toContain('DIFFERS');
  });
});
