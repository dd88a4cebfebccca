// The arithmetic of every estimate - per day to per second, average to peak, count times size times days - as
// Quantities that keep their formula. Inputs get generic names; a chapter renames them (see renameInputs).
import type { Quantity } from './quantity.ts';

export const SECONDS_PER_DAY = 86_400;
export const DAYS_PER_YEAR = 365;

/** Days in a number of years, with the book's 365-day year. */
export function daysIn(years: number): number {
  return years * DAYS_PER_YEAR;
}

const numberOf = (x: number | Quantity): number => (typeof x === 'number' ? x : x.value);

/** An average rate per second from a count per day: 100 million a day -> ~1,157 per second. */
export function perSecond(countPerDay: number, unit = 'req/s'): Quantity {
  return {
    value: countPerDay / SECONDS_PER_DAY,
    unit,
    formula: 'countPerDay / secondsPerDay',
    inputs: { countPerDay, secondsPerDay: SECONDS_PER_DAY },
  };
}

/** Peak rate as a multiple of the average; the book's examples use twice the average. */
export function peak(avgPerSecond: number | Quantity, factor = 2): Quantity {
  return {
    value: numberOf(avgPerSecond) * factor,
    unit: typeof avgPerSecond === 'number' ? 'req/s' : avgPerSecond.unit,
    formula: 'avgPerSecond * peakFactor',
    inputs: { avgPerSecond: numberOf(avgPerSecond), peakFactor: factor },
  };
}

/** A quantity scaled by a ratio, e.g. reads per second = writes per second * reads per write. */
export function multiply(base: number | Quantity, factor: number, unit?: string): Quantity {
  return {
    value: numberOf(base) * factor,
    unit: unit ?? (typeof base === 'number' ? '' : base.unit),
    formula: 'base * factor',
    inputs: { base: numberOf(base), factor },
  };
}

/** How many accumulate over a number of days: 100 million a day for 3,650 days -> 365 billion. */
export function totalOver(countPerDay: number, days: number, unit = 'records'): Quantity {
  return { value: countPerDay * days, unit, formula: 'countPerDay * days', inputs: { countPerDay, days } };
}

/** Bytes stored after some days at a count per day and a size each. */
export function storage(countPerDay: number, bytesEach: number, days = 1): Quantity {
  return {
    value: countPerDay * bytesEach * days,
    unit: 'bytes',
    formula: 'countPerDay * bytesEach * days',
    inputs: { countPerDay, bytesEach, days },
  };
}

/** The product of named inputs; the names become the formula: { a: 2, b: 3 } -> "a * b" = 6. */
export function product(inputs: Record<string, number>, unit: string): Quantity {
  const values = Object.values(inputs);
  return { value: values.reduce((a, b) => a * b, 1), unit, formula: Object.keys(inputs).join(' * '), inputs };
}

/** The sum of named inputs: { idBytes: 64, textBytes: 140 } -> "idBytes + textBytes" = 204. */
export function sum(inputs: Record<string, number>, unit: string): Quantity {
  const values = Object.values(inputs);
  return { value: values.reduce((a, b) => a + b, 0), unit, formula: Object.keys(inputs).join(' + '), inputs };
}
