// The chapter 10 reference server: node --import tsx reference/10-web-crawler/main.ts
// Wires config -> crawl store (SQLite in DATA_DIR by default, PostgreSQL with DATABASE_URL) -> app (which resumes the
// running jobs) -> run-server.
import { join } from 'node:path';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { type Db, PostgresDb, SqliteDb, schemaFor } from './db.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { storeFor } from './mutants-store.ts';

export const CHAPTER = '10-web-crawler';

await runServer({
  chapter: CHAPTER,
  defaultPort: 8100,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const spec = await loadSpec(SPEC_URL);
    const log = (m: string) => console.error(m);
    const db: Db = config.databaseUrl
      ? await PostgresDb.connect(config.databaseUrl, schemaFor(config.dataDir), log)
      : new SqliteDb(join(config.dataDir, 'crawl.sqlite'));
    const store = storeFor(db, mutant); // MUTANT tx-on-pool, content-after-page-tx
    readiness.dependencies = async () => ({ database: await db.health() });
    const { app, stop } = await buildApp({ spec, readiness, store, mutant, logger: { level: config.logLevel } });
    app.log.info({ dataDir: config.dataDir, store: db.kind, mutant: mutant ?? null }, 'web crawler configured');
    return {
      app,
      close: async () => {
        stop();
        await store.close();
      },
    };
  },
});
