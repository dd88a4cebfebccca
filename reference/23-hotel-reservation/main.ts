// The chapter 23 reference server: node --import tsx reference/23-hotel-reservation/main.ts
// Wires config -> database (SQLite by default, PostgreSQL with DATABASE_URL) -> store and cache -> app (README.md).
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CacheMode, ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { type InventoryCache, MemoryInventoryCache } from './cache.ts';
import { RedisInventoryCache } from './cache-redis.ts';
import { cancelVariant } from './cancel-variants.ts';
import { horizonCountedToLastNight } from './dates.ts';
import { type Db, PostgresDb, SqliteDb, schemaOptionsFor } from './db.ts';
import { HotelAdmin, rollNightsForward } from './hotel-admin.ts';
import { MUTANT_NAMES, MUTANT_STRATEGY, type MutantName, NEEDS_POSTGRES } from './mutants.ts';
import { readThroughUnversioned } from './mutants-read-through.ts';
import { flushWholeDb, unlinkFirstPage } from './namespace-one-page.ts';
import { STRATEGIES, type Strategy } from './room-taker.ts';
import { DEFAULT_STAFF_KEY } from './staff-auth.ts';
import { HotelStore } from './store.ts';

/**
 * The PostgreSQL schema: DB_SCHEMA, else one made for this deployment on its first start and kept in SHARED_DIR (or
 * DATA_DIR), so a restart finds its data, services given one SHARED_DIR share one database (and so one cache), and
 * every fresh start (a grade, a mutant) gets tables made for its own strategy.
 */
function schemaFor(dir: string): string {
  const given = process.env['DB_SCHEMA']?.trim();
  if (given) return given;
  const file = join(dir, 'pg-schema');
  if (!existsSync(file)) {
    // Services of one SHARED_DIR start at once: the first name linked into place wins, the others read it (a plain
    // write could give each its own schema, or a reader an empty file).
    const mine = `${file}.${process.pid}`;
    writeFileSync(mine, `hr23_${randomBytes(6).toString('hex')}`);
    try {
      linkSync(mine, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(mine);
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/** How often the nights are rolled forward (a new day adds one night to every room type's bookable window). */
const ROLL_EVERY_MS = 3_600_000;

await runServer({
  chapter: '23-hotel-reservation',
  defaultPort: 8230,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    // MUTANT horizon-on-last-night (the blind bug horizon-counts-last-night): see dates.ts.
    if (mutant === 'horizon-on-last-night') horizonCountedToLastNight();
    const chosen = process.env['CONCURRENCY']?.trim() || 'pessimistic';
    if (!(STRATEGIES as readonly string[]).includes(chosen))
      throw new ConfigError(`CONCURRENCY must be one of ${STRATEGIES.join(', ')}, not ${chosen}`);
    const strategy = (mutant && MUTANT_STRATEGY[mutant]) ?? (chosen as Strategy);
    const schema = schemaOptionsFor(strategy, mutant);
    if (mutant && (NEEDS_POSTGRES as readonly string[]).includes(mutant) && !config.databaseUrl)
      throw new ConfigError(`MUTANT ${mutant} needs PostgreSQL (DATABASE_URL)`);
    const staffKey = process.env['STAFF_KEY']?.trim() || DEFAULT_STAFF_KEY;
    if (!/^\S{1,200}$/.test(staffKey)) throw new ConfigError('STAFF_KEY must be 1 to 200 non-space characters');
    const spec = await loadSpec(SPEC_URL);
    const log = (m: string) => console.error(m);
    const db: Db =
      config.databaseUrl && mutant !== 'memory-store'
        ? await PostgresDb.connect(
            config.databaseUrl,
            schemaFor(process.env['SHARED_DIR']?.trim() || config.dataDir),
            schema,
            log,
            mutant === 'db-loss-answers-500',
          )
        : // MUTANT memory-store: nothing reaches a file.
          new SqliteDb(mutant === 'memory-store' ? ':memory:' : join(config.dataDir, 'hotel.sqlite'), schema);
    // MUTANT deadlock-not-retried: a transaction PostgreSQL aborted as a deadlock is answered as it failed (500).
    if (db instanceof PostgresDb && mutant === 'deadlock-not-retried') db.deadlockAttempts = 1;
    // The tables were made for one strategy (the CHECK constraint is part of them): refuse to run another on them.
    await db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', ['strategy', strategy]);
    const [made] = await db.all<{ value: string }>('SELECT value FROM meta WHERE key = ?', ['strategy']);
    if (made?.value !== strategy)
      throw new ConfigError(`this store was made for CONCURRENCY=${made?.value}; start it with that, or a new store`);
    const cache = await openCache(config.cache, config.redisUrl, db, mutant, log);
    const store = new HotelStore(db, strategy, cache, mutant);
    readiness.dependencies = async () => {
      const state = cache.health();
      return { database: await db.health(), ...(state ? { cache: state } : {}) };
    };
    const admin = new HotelAdmin(db, cache, mutant);
    // The book's daily job, at start and hourly: every room type's nights made to the horizon (a reservation makes a
    // night it has not made yet). MUTANT night-made-with-stale-inventory makes none ahead (see store.ts).
    const roll = () => rollNightsForward(db).catch((e) => log(`nights not rolled forward: ${(e as Error).message}`));
    const rolling = mutant === 'night-made-with-stale-inventory' ? undefined : setInterval(roll, ROLL_EVERY_MS);
    rolling?.unref();
    const rolled = rolling ? roll() : Promise.resolve();
    const cancel = cancelVariant(db, cache, mutant);
    const app = buildApp({
      spec,
      readiness,
      store,
      admin,
      staffKey,
      mutant,
      logger: { level: config.logLevel },
      cancelVariant: cancel,
    });
    app.log.info(
      { store: db.kind, strategy, cache: cache.kind, mutant: mutant ?? null },
      'hotel reservation configured',
    );
    return {
      app,
      close: async () => {
        clearInterval(rolling);
        await rolled;
        await cache.close();
        await db.close();
      },
    };
  },
});

/**
 * The inventory cache: in process, or Redis (CACHE=redis, the default when REDIS_URL is given) under a namespace
 * kept in the database, so every service on one database shares one cache.
 */
async function openCache(
  mode: CacheMode,
  redisUrl: string | undefined,
  db: Db,
  mutant: MutantName | undefined,
  log: (m: string) => void,
): Promise<InventoryCache> {
  const withoutRoomType = mutant === 'cache-key-without-room-type';
  if (mode === 'none') throw new ConfigError('CACHE must be memory or redis here: availability is served from a cache');
  if (mode === 'memory') return new MemoryInventoryCache(withoutRoomType);
  await db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [
    'instance',
    randomBytes(6).toString('hex'),
  ]);
  const [instance] = await db.all<{ value: string }>('SELECT value FROM meta WHERE key = ?', ['instance']);
  // MUTANT namespace-per-start: a namespace of its own for each start, so services on one database no longer share
  // one cache (blind bug redis-namespace-per-start).
  const perStart = mutant === 'namespace-per-start' ? `${randomBytes(4).toString('hex')}:` : '';
  const namespace = `sdgrade:23:${instance!.value}:${perStart}`;
  const cache = new RedisInventoryCache({
    url: redisUrl!,
    namespace,
    withoutRoomType,
    log,
    dropRefused: mutant === 'stream-drops-refused',
    stallAfterFlush: mutant === 'stream-stalls-after-flush',
    keepNamespace: mutant === 'redis-namespace-kept',
    emptyOnlyAtStart: mutant === 'namespace-emptied-only-at-start',
    backoffGrows: mutant === 'stream-backoff-grows',
    unlinkWith:
      mutant === 'namespace-emptied-one-page'
        ? unlinkFirstPage
        : mutant === 'namespace-flushed'
          ? flushWholeDb
          : undefined,
  });
  await cache.open();
  // MUTANT read-through-unversioned: the read-through's rows written with a plain SET.
  if (mutant === 'read-through-unversioned')
    return readThroughUnversioned(cache, {
      url: redisUrl!,
      namespace,
      withoutRoomType,
    });
  return cache;
}
