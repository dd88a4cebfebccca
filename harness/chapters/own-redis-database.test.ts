import { describe, expect, it } from 'vitest';
import { redisDatabaseOf, redisDatabases, useOwnRedisDatabase } from './own-redis-database.ts';

describe('own Redis database per grade test file', () => {
  it('gives each file a distinct database, never 0 (shared) or 1 (the unit tests), within Redis default 16', () => {
    const dbs = Object.values(redisDatabases());
    expect(new Set(dbs).size).toBe(dbs.length);
    for (const db of dbs) {
      expect(db).toBeGreaterThan(1);
      expect(db).toBeLessThan(16);
    }
  });

  it('rewrites only the database of SDGRADE_REDIS_URL, and leaves an unset one unset', () => {
    const env: NodeJS.ProcessEnv = { SDGRADE_REDIS_URL: 'redis://127.0.0.1:56379/0' };
    useOwnRedisDatabase('23-hotel-reservation', env);
    expect(env['SDGRADE_REDIS_URL']).toBe('redis://127.0.0.1:56379/7');
    const none: NodeJS.ProcessEnv = {};
    useOwnRedisDatabase('05-rate-limiter', none);
    expect(none['SDGRADE_REDIS_URL']).toBeUndefined();
  });

  it('refuses a chapter without an assignment (a new grade test must pick a free database)', () => {
    expect(() => redisDatabaseOf('99-nothing')).toThrow(/no Redis database is assigned/);
  });
});
