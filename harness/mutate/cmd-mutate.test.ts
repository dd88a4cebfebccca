// The per-mutant time limit scales with SDGRADE_TIME_SCALE: a timed-out mutant counts as detected, so a limit that
// does not grow on a loaded machine would turn slow survivors into kills.
import { expect, it } from 'vitest';
import { mutantTimeLimit } from './cmd-mutate.ts';

it('multiplies --timeout-ms by SDGRADE_TIME_SCALE', () => {
  expect(mutantTimeLimit(600_000, {})).toBe(600_000);
  expect(mutantTimeLimit(600_000, { SDGRADE_TIME_SCALE: '4' })).toBe(2_400_000);
  expect(mutantTimeLimit(600_000, { SDGRADE_TIME_SCALE: 'x' })).toBe(600_000);
});
