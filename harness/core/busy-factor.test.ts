import { expect, it } from 'vitest';
import { busyFactor, checkTimeLimit, MAX_BUSY_FACTOR } from './busy-factor.ts';

it('stretches by the load average per CPU, never below 1, at most MAX_BUSY_FACTOR', () => {
  expect(busyFactor(0.5, 2)).toBe(1);
  expect(busyFactor(3, 2)).toBe(1.5);
  expect(busyFactor(50, 2)).toBe(MAX_BUSY_FACTOR);
  expect(busyFactor(Number.NaN, 2)).toBe(1);
  expect(busyFactor(3, 0)).toBe(1);
});

it('multiplies the scaled limit by the factor and says so', () => {
  expect(checkTimeLimit(180_000, {}, 1)).toEqual({ ms: 180_000, why: '' });
  const busy = checkTimeLimit(180_000, { SDGRADE_TIME_SCALE: '2' }, 2.5);
  expect(busy.ms).toBe(900_000);
  expect(busy.why).toBe('360000 ms stretched 2.5x for the load average per CPU when it started');
});
