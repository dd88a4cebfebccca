// Each grade test file that grades on a real Redis uses a database of its own. The files run at once on one Redis
// (CI's), and a mutant may empty its whole database when it starts (23's `namespace-flushed` FLUSHDBs): on a shared
// database that took 05's counters and 13's channels with it in a CI run. Database 0 stays for the other users of
// SDGRADE_REDIS_URL (benchmarks, the CLI) and 1 is TEST_REDIS_URL's (the references' unit tests).
const DATABASES: Readonly<Record<string, number>> = {
  '05-rate-limiter': 2,
  '09-url-shortener': 3,
  '13-chat-system': 4,
  '26-gaming-leaderboard': 5,
  '23-hotel-reservation': 7,
};

/** The Redis database the grade test of `slug` uses. */
export function redisDatabaseOf(slug: string): number {
  const db = DATABASES[slug];
  if (db === undefined)
    throw new Error(`no Redis database is assigned to ${slug}'s grade test (own-redis-database.ts)`);
  return db;
}

/** Every assignment, to show they are distinct (own-redis-database.test.ts). */
export function redisDatabases(): Readonly<Record<string, number>> {
  return DATABASES;
}

/**
 * Points SDGRADE_REDIS_URL (where given) at the database of `slug`'s grade test. Called at a grade test file's top
 * level, before any grade starts a service (each test file has its own process environment).
 */
export function useOwnRedisDatabase(slug: string, env: NodeJS.ProcessEnv = process.env): void {
  const url = env['SDGRADE_REDIS_URL'];
  if (!url) return;
  const own = new URL(url);
  own.pathname = `/${redisDatabaseOf(slug)}`;
  env['SDGRADE_REDIS_URL'] = own.toString();
}
