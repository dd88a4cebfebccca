import { describe, expect, it } from 'vitest';
import { codeLength, keyspaceSize } from './keyspace.ts';
import { daysIn, multiply, peak, perSecond, product, storage, sum, totalOver } from './rates.ts';

describe('rates', () => {
  it('turns a daily count into a rate per second with its formula', () => {
    const q = perSecond(100e6);
    expect(q.value).toBeCloseTo(1157.407, 3);
    expect(q.unit).toBe('req/s');
    expect(q.formula).toBe('countPerDay / secondsPerDay');
    expect(q.inputs).toEqual({ countPerDay: 100e6, secondsPerDay: 86_400 });
  });

  it('doubles for the peak by default and keeps the unit', () => {
    expect(peak(3500).value).toBe(7000);
    expect(peak(perSecond(86_400, 'tweets/s'), 3)).toMatchObject({ value: 3, unit: 'tweets/s' });
    expect(multiply(perSecond(86_400), 10)).toMatchObject({ value: 10, unit: 'req/s', formula: 'base * factor' });
  });

  it('accumulates counts and bytes over days', () => {
    expect(daysIn(10)).toBe(3650);
    expect(totalOver(100e6, daysIn(10)).value).toBe(365e9);
    expect(storage(100e6, 100, daysIn(10)).value).toBe(36.5e12);
    expect(storage(30e6, 1e6).value).toBe(30e12);
    expect(product({ a: 2, b: 3, c: 4 }, 'x')).toEqual({
      value: 24,
      unit: 'x',
      formula: 'a * b * c',
      inputs: { a: 2, b: 3, c: 4 },
    });
    expect(sum({ id: 64, text: 140, meta: 1000 }, 'bytes')).toMatchObject({ value: 1204, formula: 'id + text + meta' });
  });

  it('finds the shortest code for a number of records', () => {
    expect(codeLength(62, 365e9).value).toBe(7);
    expect(codeLength(62, 62 ** 6).value).toBe(6);
    expect(codeLength(62, 62 ** 6 + 1).value).toBe(7);
    expect(codeLength(2, 1).value).toBe(0);
    expect(keyspaceSize(62, 7).value).toBe(3_521_614_606_208);
    expect(() => codeLength(1, 10)).toThrow(RangeError);
  });
});
