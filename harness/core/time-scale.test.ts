import { expect, it } from 'vitest';
import { timeLimit, timeScale } from './time-scale.ts';

it('multiplies a base limit by SDGRADE_TIME_SCALE, 1 when unset, never below 1', () => {
  expect(timeScale({})).toBe(1);
  expect(timeLimit(60_000, {})).toBe(60_000);
  expect(timeLimit(60_000, { SDGRADE_TIME_SCALE: '2.5' })).toBe(150_000);
  expect(timeLimit(60_000, { SDGRADE_TIME_SCALE: '0.1' })).toBe(60_000);
  expect(timeLimit(60_000, { SDGRADE_TIME_SCALE: 'fast' })).toBe(60_000);
});
