// The chapter 09 reference server: node --import tsx reference/09-url-shortener/main.ts
// Wires config -> store -> cache -> app -> run-server (see README.md for the environment).
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { baseUrlOf, ConfigError, type ServerConfig } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { type LinkCache, NoCache } from './cache.ts';
import { MemoryCache } from './cache-memory.ts';
import { RedisCache } from './cache-redis.ts';
import { MUTANT_NAMES, type MutantName, SQLITE_ONLY_MUTANTS } from './mutants.ts';
import { Shortener } from './shortener.ts';
import type { LinkStore } from './store.ts';
import { PostgresStore } from './store-postgres.ts';
import { SqliteStore } from './store-sqlite.ts';

export const CHAPTER = '09-url-shortener';

await runServer({
  chapter: CHAPTER,
  defaultPort: 8090,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    if (mutant && SQLITE_ONLY_MUTANTS.includes(mutant) && config.databaseUrl) {
      throw new ConfigError(`MUTANT ${mutant} lives in the embedded SQLite store; unset DATABASE_URL to run it`);
    }
    // Until the app (and its logger) exists, messages go to stderr as plain lines.
    let app: FastifyInstance | undefined;
    const log = {
      info: (message: string) => (app ? app.log.info(message) : console.error(message)),
      warn: (message: string) => (app ? app.log.warn(message) : console.error(message)),
      error: (obj: object, message: string) => (app ? app.log.error(obj, message) : console.error(message, obj)),
    };

    const spec = await loadSpec(SPEC_URL);
    const store = await openStore(config, mutant, log);
    let cache: LinkCache;
    try {
      // MUTANT cache-keys-without-instance: the Redis keys leave out the database's instance ID, so a database that
      // starts from empty (and issues its codes again) meets another database's entries in a Redis that outlived it.
      const keyedBy = mutant === 'cache-keys-without-instance' ? { instanceId: '' } : store;
      cache = await openCache(config, keyedBy, log, mutant);
    } catch (error) {
      await store.close();
      throw error;
    }
    const shortener = new Shortener({ store, cache, mutant, log });
    readiness.dependencies = async () => {
      const dependencies: Record<string, 'up' | 'down' | 'embedded'> = { database: await store.health() };
      const cacheState = cache.health();
      if (cacheState) dependencies['cache'] = cacheState;
      return dependencies;
    };

    let baseUrl = config.publicBaseUrl ?? baseUrlOf(config.host, config.port);
    app = buildApp({ spec, readiness, shortener, mutant, baseUrl: () => baseUrl, logger: { level: config.logLevel } });
    app.log.info({ store: store.kind, cache: cache.kind, mutant: mutant ?? null }, 'url shortener configured');
    return {
      app,
      onListening(url) {
        if (!config.publicBaseUrl) baseUrl = url;
      },
      async close() {
        if (mutant === 'clicks-lost-on-stop') {
          // MUTANT clicks-lost-on-stop: the cache and the store are closed before the click counter's last flush,
          // which then fails: the clicks of the last second are lost on a graceful stop.
          await cache.close();
          await store.close();
        }
        await shortener.close();
      },
    };
  },
});

async function openStore(config: ServerConfig, mutant: MutantName | undefined, log: { warn: (m: string) => void }) {
  let store: LinkStore;
  if (mutant === 'memory-only-store') {
    // MUTANT memory-only-store: ignores DATA_DIR and DATABASE_URL; everything is gone after a restart.
    store = new SqliteStore({ file: ':memory:', mutant });
  } else if (config.databaseUrl) {
    store = await PostgresStore.connect({
      connectionString: config.databaseUrl,
      mutant,
      log: (message, error) => log.warn(`${message}: ${(error as Error | undefined)?.message ?? ''}`),
    });
  } else {
    store = new SqliteStore({ file: join(config.dataDir, 'url-shortener.sqlite'), mutant });
  }
  if (mutant === 'clicks-dropped-on-db-error') {
    // MUTANT clicks-dropped-on-db-error: a click write the database refuses is dropped, not put back and retried.
    const addClicks = store.addClicks.bind(store);
    store.addClicks = (batch) => addClicks(batch).catch(() => {});
  }
  return store;
}

async function openCache(
  config: ServerConfig,
  store: Pick<LinkStore, 'instanceId'>,
  log: { warn: (m: string) => void; info: (m: string) => void },
  mutant: MutantName | undefined,
) {
  if (config.cache === 'none') return new NoCache();
  if (config.cache === 'memory') return new MemoryCache();
  const cacheMutant = mutant === 'redis-waits-forever' || mutant === 'cache-health-inverted' ? mutant : undefined;
  const cache = new RedisCache({
    url: config.redisUrl!,
    namespace: `sdgrade:${CHAPTER}:${store.instanceId}:`,
    log,
    ...(cacheMutant ? { mutant: cacheMutant } : {}),
  });
  await cache.connect(); // if Redis is down the service starts anyway and uses it once it is back
  return cache;
}
