// The chapter 25 reference server: node --import tsx reference/25-s3-object-storage/main.ts
// Wires config -> metadata store (SQLite) + data store (append-only data files, object mapping table) -> app ->
// run-server (README.md lists the environment).
import { ConfigError } from '../kit/config.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp } from './app.ts';
import { type CompactionSettings, Compactor } from './compaction.ts';
import { type CompactionMutant, DataStore } from './data-store.ts';
import { PostgresMetadataStore } from './metadata-postgres.ts';
import { MetadataStore, type MetaStore } from './metadata-store.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { dropUnnamedEntries } from './orphan-sweep.ts';
import { multipartExpiryMs, UploadExpiry } from './upload-expiry.ts';

export const CHAPTER = '25-s3-object-storage';
/** The reference's credentials unless S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY say otherwise (see the manifest). */
const DEFAULT_ACCESS_KEY_ID = 'SDGRADEACCESSKEY0001';
const DEFAULT_SECRET = 'sdgrade-reference-secret-not-for-production';

await runServer({
  chapter: CHAPTER,
  defaultPort: 8250,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const fileBytes = Number(process.env['DATA_FILE_BYTES'] ?? 256 * 1024 * 1024);
    if (!Number.isInteger(fileBytes) || fileBytes < 1024) {
      throw new ConfigError(`DATA_FILE_BYTES must be an integer >= 1024, got '${process.env['DATA_FILE_BYTES']}'`);
    }
    // MUTANT min-part-decimal: the default minimum part size in decimal megabytes (5,000,000), not S3's 5 MiB.
    const defaultMinPart = mutant === 'min-part-decimal' ? 5 * 1000 * 1000 : 5 * 1024 * 1024;
    const minPartBytes = Number(process.env['MIN_PART_BYTES'] ?? defaultMinPart);
    if (!Number.isInteger(minPartBytes) || minPartBytes < 1) {
      throw new ConfigError(`MIN_PART_BYTES must be a positive integer, got '${process.env['MIN_PART_BYTES']}'`);
    }
    // The book's metadata store: PostgreSQL when DATABASE_URL is given, else SQLite in the data directory.
    const meta: MetaStore = config.databaseUrl
      ? await PostgresMetadataStore.connect(config.databaseUrl, (m, e) => console.error(m, e), mutant)
      : new MetadataStore(config.dataDir, mutant);
    const data = new DataStore(config.dataDir, {
      fileBytes,
      verifyChecksum: mutant !== 'checksum-not-verified', // MUTANT checksum-not-verified
      rangeUnchecked: mutant === 'range-read-unchecked', // MUTANT range-read-unchecked
      replaceMapping: mutant === 'object-id-from-content', // MUTANT object-id-from-content
      offsetFromMapping: mutant === 'restart-offset-from-mapping', // MUTANT restart-offset-from-mapping
      // MUTANT compaction-drops-live-object, compaction-maps-before-copy, compaction-keeps-garbage
      compactionMutant: mutant?.startsWith('compaction-') ? (mutant as CompactionMutant) : undefined,
    });
    // MUTANT torn-put-orphan-kept: the bytes of a PUT torn by a crash (mapped, never named) are kept forever.
    if (mutant !== 'torn-put-orphan-kept') {
      const dropped = await dropUnnamedEntries(data, meta);
      if (dropped > 0)
        console.error(`start-up: ${dropped} mapping entries no metadata row names dropped (torn writes)`);
    }
    const compactor = new Compactor(
      data,
      compactionSettings(),
      (msg, report) => console.error(msg, JSON.stringify(report)),
      mutant === 'compaction-passes-overlap', // MUTANT compaction-passes-overlap
    );
    compactor.start();
    readiness.dependencies = async () => ({
      database: meta instanceof PostgresMetadataStore ? await meta.ping() : 'embedded',
      data: 'embedded',
    });
    const expiryMs = multipartExpiryMs(process.env['MULTIPART_EXPIRY_SECONDS']);
    if (typeof expiryMs === 'string') throw new ConfigError(expiryMs);
    const uploadExpiry = new UploadExpiry(meta, data, expiryMs, mutant);
    uploadExpiry.start((m, e) => console.error(m, e ?? ''));
    const app = buildApp({
      readiness,
      meta,
      data,
      uploadExpiry,
      compactor,
      credentials: {
        accessKeyId: process.env['S3_ACCESS_KEY_ID'] || DEFAULT_ACCESS_KEY_ID,
        secretAccessKey: process.env['S3_SECRET_ACCESS_KEY'] || DEFAULT_SECRET,
      },
      mutant,
      logger: { level: config.logLevel },
      minPartBytes,
      deferMetadataMs: 3000,
    });
    app.log.info({ dataDir: config.dataDir, metadata: meta.kind, mutant: mutant ?? null }, 'object storage configured');
    return {
      app,
      close: async () => {
        uploadExpiry.close();
        await compactor.close();
        data.close();
        await meta.close();
      },
    };
  },
});

/** COMPACT_INTERVAL_MS (default a minute; 0 = no timer), COMPACT_GARBAGE_RATIO (0.5), COMPACT_BATCH_OBJECTS (64). */
function compactionSettings(): CompactionSettings {
  const intervalMs = Number(process.env['COMPACT_INTERVAL_MS'] ?? 60_000);
  const garbageRatio = Number(process.env['COMPACT_GARBAGE_RATIO'] ?? 0.5);
  const batchObjects = Number(process.env['COMPACT_BATCH_OBJECTS'] ?? 64);
  if (!Number.isInteger(intervalMs) || intervalMs < 0) {
    throw new ConfigError(`COMPACT_INTERVAL_MS must be an integer >= 0, got '${process.env['COMPACT_INTERVAL_MS']}'`);
  }
  if (!(garbageRatio > 0 && garbageRatio <= 1)) {
    throw new ConfigError(`COMPACT_GARBAGE_RATIO must be in (0, 1], got '${process.env['COMPACT_GARBAGE_RATIO']}'`);
  }
  if (!Number.isInteger(batchObjects) || batchObjects < 1) {
    throw new ConfigError(
      `COMPACT_BATCH_OBJECTS must be a positive integer, got '${process.env['COMPACT_BATCH_OBJECTS']}'`,
    );
  }
  return { intervalMs, garbageRatio, batchObjects };
}
