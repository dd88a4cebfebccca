// The per-mutant time limit scales with SDGRADE_TIME_SCALE: a timed-out mutant counts as detected, so a limit that
// does not grow on a loaded machine would turn slow survivors into kills. And the variants a run grades under.
import { afterEach, expect, it, vi } from 'vitest';
import { mutantTimeLimit, pickVariants } from './cmd-mutate.ts';

it('multiplies --timeout-ms by SDGRADE_TIME_SCALE', () => {
  expect(mutantTimeLimit(600_000, {})).toBe(600_000);
  expect(mutantTimeLimit(600_000, { SDGRADE_TIME_SCALE: '4' })).toBe(2_400_000);
  expect(mutantTimeLimit(600_000, { SDGRADE_TIME_SCALE: 'x' })).toBe(600_000);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

it("grades chapter 23's mutants under each concurrency strategy and, with --real-deps, on the embedded store", () => {
  // Without these variants the optimistic and constraint modules' mutants, and the SQLite store's under --real-deps,
  // were all "no coverage". The two-nodes variant needs both real services configured: as in CI, whatever this shell has.
  vi.stubEnv('SDGRADE_DATABASE_URL', 'postgres://127.0.0.1:1/unused');
  vi.stubEnv('SDGRADE_REDIS_URL', 'redis://127.0.0.1:1/0');
  const log: string[] = [];
  expect(pickVariants('23-hotel-reservation', { realDeps: true }, (l) => log.push(l))).toEqual([
    'default',
    'optimistic',
    'constraint',
    'memory-cache',
    'two-nodes',
    'embedded',
  ]);
  expect(log).toEqual([]);
  // Without --real-deps the default itself runs on the embedded store: that variant would grade the same code again.
  expect(pickVariants('23-hotel-reservation', {}, (l) => log.push(l))).toEqual([
    'default',
    'optimistic',
    'constraint',
    'memory-cache',
  ]);
  expect(log).toEqual([
    'variant two-nodes left out: needs --real-deps (postgres, redis)',
    expect.stringMatching(/^variant embedded left out: without --real-deps/),
  ]);
});
