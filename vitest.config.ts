import { defineConfig } from 'vitest/config';
import { timeLimit } from './harness/core/time-scale.ts';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'reference/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Base limits times SDGRADE_TIME_SCALE (harness/core/time-scale.ts): a busy runner sets it, tests stay green.
    testTimeout: timeLimit(60_000),
    hookTimeout: timeLimit(120_000),
    // Test files mostly wait on servers, timers and k6: two workers left a third of two cores idle (124% CPU over a
    // 26-minute run), so three files run at once. Three still leave a quarter idle (`time npm test` in CI on
    // 2026-12-05: user+sys 45 min over 29.8 min, 151%), but a four-worker CI run failed one real-PostgreSQL test of
    // chapter 10 that passed alone and with three (cause not found), so three stay until that is understood.
    // SDGRADE_TEST_WORKERS overrides it (1 to debug one file at a time).
    fileParallelism: true,
    maxWorkers: Number(process.env.SDGRADE_TEST_WORKERS ?? 3),
  },
});
