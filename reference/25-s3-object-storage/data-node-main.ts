// A data node of the cluster variant: node --import tsx reference/25-s3-object-storage/data-node-main.ts
// NODE_NAME (the manifest's ${name}), DATA_DIR, PORT; DATA_FILE_BYTES and COMPACT_* as the embedded server reads them.
import { ConfigError } from '../kit/config.ts';
import { runServer } from '../kit/run-server.ts';
import { Compactor } from './compaction.ts';
import { buildDataNode } from './data-node.ts';
import { DataStore } from './data-store.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';

/** A positive integer setting from the environment, or its default. */
function intEnv(name: string, fallback: number, least: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < least)
    throw new ConfigError(`${name} must be an integer >= ${least}, got '${process.env[name]}'`);
  return v;
}

await runServer({
  chapter: '25-s3-object-storage',
  defaultPort: 8251,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const name = process.env['NODE_NAME'] || 'data';
    const mutant = config.mutant as MutantName | undefined;
    const data = new DataStore(config.dataDir, {
      fileBytes: intEnv('DATA_FILE_BYTES', 256 * 1024 * 1024, 1024),
      // MUTANT replica-checksum-not-verified: the data node serves its copy without checking its CRC-32.
      verifyChecksum: mutant !== 'replica-checksum-not-verified',
    });
    const ratio = Number(process.env['COMPACT_GARBAGE_RATIO'] ?? 0.5);
    if (!(ratio > 0 && ratio <= 1)) throw new ConfigError(`COMPACT_GARBAGE_RATIO must be in (0, 1], got '${ratio}'`);
    const compactor = new Compactor(
      data,
      {
        intervalMs: intEnv('COMPACT_INTERVAL_MS', 60_000, 0),
        garbageRatio: ratio,
        batchObjects: intEnv('COMPACT_BATCH_OBJECTS', 64, 1),
      },
      (msg, report) => console.error(msg, JSON.stringify(report)),
    );
    compactor.start();
    readiness.dependencies = async () => ({ data: 'embedded' });
    const app = buildDataNode({
      name,
      readiness,
      data,
      compactor,
      mutant,
      logger: { level: config.logLevel },
    });
    return {
      app,
      close: async () => {
        await compactor.close();
        data.close();
      },
    };
  },
});
