import { describe, expect, it } from 'vitest';
import { availabilityTable, downtime, downtimeFraction, SLA_LEVELS } from './availability.ts';

const minutes = (s: number): number => s / 60;
const hours = (s: number): number => s / 3600;

describe('BOE-E6 availability', () => {
  it('BOE-E6 99.99% allows about 52.6 minutes a year', () => {
    expect(minutes(downtime(99.99).perYear.value)).toBeCloseTo(52.56, 2);
  });

  it('BOE-E6 99% allows 3.65 days a year, 14.4 minutes a day, 1.68 hours a week', () => {
    const d = downtime(99);
    expect(d.perYear.value / 86_400).toBeCloseTo(3.65, 10);
    expect(minutes(d.perDay.value)).toBeCloseTo(14.4, 10);
    expect(hours(d.perWeek.value)).toBeCloseTo(1.68, 10);
    expect(hours(d.perMonth.value)).toBeCloseTo(7.3, 10);
  });

  it('BOE-E6 each extra nine divides the downtime by ten', () => {
    const rows = availabilityTable();
    expect(rows.map((r) => r.slaPercent)).toEqual([...SLA_LEVELS]);
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i - 1]!.perYear.value / rows[i]!.perYear.value).toBeCloseTo(10, 9);
    }
    expect(downtime(99.999).perYear.value).toBeCloseTo(315.36, 9);
    expect(downtime(99.9).perDay.value).toBeCloseTo(86.4, 9);
  });

  it('BOE-E6 a 30-day month can be asked for', () => {
    expect(minutes(downtime(99.99, { daysPerMonth: 30 }).perMonth.value)).toBeCloseTo(4.32, 10);
    expect(minutes(downtime(99.99).perMonth.value)).toBeCloseTo(4.38, 10);
  });

  it('BOE-E6 keeps the formula and rejects impossible SLAs', () => {
    const q = downtime(99.9).perYear;
    expect(q.unit).toBe('s');
    expect(q.formula).toBe('(100 - slaPercent) / 100 * secondsPerYear');
    expect(q.inputs).toEqual({ slaPercent: 99.9, secondsPerYear: 31_536_000 });
    expect(downtimeFraction(99.99)).toBe(0.0001);
    expect(downtimeFraction(100)).toBe(0);
    expect(() => downtime(101)).toThrow(RangeError);
    expect(() => downtime(Number.NaN)).toThrow(RangeError);
  });
});
