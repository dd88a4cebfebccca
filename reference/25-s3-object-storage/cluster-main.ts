// The API service of the cluster variant (manifest.cluster.json): node --import tsx reference/25-s3-object-storage/cluster-main.ts
// The same S3 API and metadata store as main.ts; the object bytes on the data nodes named by DATA_NODES
// (name=url,..., the manifest's ${peers}; data-node-main.ts), REPLICAS copies of each (default 3).
import { ConfigError } from '../kit/config.ts';
import { parsePeers } from '../kit/peers.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp } from './app.ts';
import { ClusterOrphanSweep } from './cluster-orphan-sweep.ts';
import { PostgresMetadataStore } from './metadata-postgres.ts';
import { MetadataStore, type MetaStore } from './metadata-store.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { OwedCopies } from './owed-copies.ts';
import { Placement } from './placement.ts';
import { memoryLedger } from './replica-ledger.ts';
import { ReplicatedData } from './replicated-data.ts';
import { multipartExpiryMs, UploadExpiry } from './upload-expiry.ts';

await runServer({
  chapter: '25-s3-object-storage',
  defaultPort: 8250,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const nodes = [...parsePeers(process.env['DATA_NODES'])].map(([name, url]) => ({ name, url }));
    if (nodes.length === 0) throw new ConfigError('DATA_NODES must name the data nodes (name=url,...)');
    const replicas = Number(process.env['REPLICAS'] ?? 3);
    if (!Number.isInteger(replicas) || replicas < 1)
      throw new ConfigError(`REPLICAS must be a positive integer, got '${replicas}'`);
    const minPartBytes = Number(process.env['MIN_PART_BYTES'] ?? 5 * 1024 * 1024);
    if (!Number.isInteger(minPartBytes) || minPartBytes < 1) {
      throw new ConfigError(`MIN_PART_BYTES must be a positive integer, got '${process.env['MIN_PART_BYTES']}'`);
    }
    const meta: MetaStore = config.databaseUrl
      ? await PostgresMetadataStore.connect(config.databaseUrl, (m, e) => console.error(m, e), mutant)
      : new MetadataStore(config.dataDir, mutant);
    // What the data nodes are owed (copies, deletes) survives a restart of this service in the metadata store.
    // MUTANT owed-copies-in-memory: kept in this process only: a restart while a node is down forgets them.
    const owed = await OwedCopies.open(mutant === 'owed-copies-in-memory' ? memoryLedger : await meta.replicaLedger());
    const data = new ReplicatedData(
      new Placement(nodes, replicas),
      owed,
      Number(process.env['COMPACT_GARBAGE_RATIO'] ?? 0.5),
      mutant,
    );
    // MUTANT torn-put-orphan-kept: no sweep: the copies of a PUT torn by a kill of this service stay mapped forever.
    if (mutant !== 'torn-put-orphan-kept')
      data.sweep = new ClusterOrphanSweep(
        meta,
        (id) => data.drop(id),
        nodes,
        (m, e) => console.error(m, e ?? ''),
      );
    data.start();
    // The data nodes start after the API service (the manifest's order): readiness does not wait for them.
    readiness.dependencies = async () => ({
      database: meta instanceof PostgresMetadataStore ? await meta.ping() : 'embedded',
      ...Object.fromEntries(Object.entries(data.status().nodes).map(([n, s]) => [`data-${n}`, s])),
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
      compactor: data,
      credentials: {
        accessKeyId: process.env['S3_ACCESS_KEY_ID'] ?? '',
        secretAccessKey: process.env['S3_SECRET_ACCESS_KEY'] ?? '',
      },
      mutant,
      logger: { level: config.logLevel },
      minPartBytes,
      deferMetadataMs: 3000,
    });
    // Every answer waits until the deletes owed to data nodes by the objects it dropped are written (so do the
    // others' meanwhile: a few milliseconds): the operations drop bytes without awaiting, as on the embedded store.
    app.addHook('onSend', async (_request, _reply, payload) => {
      await data.recorded();
      return payload;
    });
    // The placement service's view, for operators and SOS-F6 (setting replicationPath): nodes up or down, and the
    // copies and deletes still owed to nodes that missed them.
    app.get('/_ops/replication', async () => data.status());
    return {
      app,
      close: async () => {
        uploadExpiry.close();
        data.close();
        await meta.close();
      },
    };
  },
});
