import { defineConfig } from 'vitest/config';
import { timeLimit } from './harness/core/time-scale.ts';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'reference/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Base limits times SDGRADE_TIME_SCALE (harness/core/time-scale.ts): a busy runner sets it, tests stay green.
    testTimeout: timeLimit(60_000),
    hookTimeout: timeLimit(120_000),
    // Tests start real servers on loopback ports and k6; two cores do not gain from more parallel files.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
