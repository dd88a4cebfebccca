// In CI the real-service tests of this folder must run, not skip: .ci/run starts PostgreSQL and Redis and exports
// their URLs. This fails loudly if that wiring breaks, instead of letting those tests turn into silent skips.
import { describe, expect, it } from 'vitest';

describe('CI services', () => {
  it.runIf(process.env.CI)('CI provides real PostgreSQL and Redis to the reference tests', () => {
    expect(process.env.TEST_DATABASE_URL, 'TEST_DATABASE_URL (scripts/services.sh start)').toMatch(/^postgres/);
    expect(process.env.TEST_REDIS_URL, 'TEST_REDIS_URL (scripts/services.sh start)').toMatch(/^redis/);
  });
});
