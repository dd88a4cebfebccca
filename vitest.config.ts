import { defineConfig } from 'vitest/config';
import { timeLimit } from './harness/core/time-scale.ts';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'reference/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Base limits times SDGRADE_TIME_SCALE (harness/core/time-scale.ts): a busy runner sets it, tests stay green.
    testTimeout: timeLimit(60_000),
    hookTimeout: timeLimit(120_000),
    // Test files mostly wait on servers, timers and k6: two workers left a third of two cores idle (124% CPU over a
    // 26-minute run); three still left a quarter idle (`time npm test` in CI, 2026-12-05: user+sys 45 min over 29.8
    // min, 151%), so four files run at once. SDGRADE_TEST_WORKERS overrides it (1 to debug one file at a time).
    fileParallelism: true,
    maxWorkers: Number(process.env.SDGRADE_TEST_WORKERS ?? 4),
  },
});
