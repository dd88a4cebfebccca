// Chapter 25, S3-like object storage: its checks keyed by the catalog's IDs (the compiler rejects a missing or
// unknown one), its mutants and its load test. Written to CHECKLIST.md beside this file.
import { MUTANTS } from '../../../reference/25-s3-object-storage/mutants.ts';
import { type CheckId, catalog } from '../../../specs/25-s3-object-storage/generated/catalog.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchS3ObjectStorage } from './bench.ts';
import { boto3Pass } from './boto3-pass.ts';
import { bucketConformance } from './buckets-conformance.ts';
import { compactionKeepsLive } from './compaction-faults.ts';
import { bitFlipDetected, killService } from './faults.ts';
import { listConformance } from './listing-conformance.ts';
import { loadS3ObjectStorage } from './load.ts';
import { heldAtTheWire } from './metadata-held.ts';
import { multipartConformance } from './multipart-conformance.ts';
import { multipartErrors } from './multipart-errors.ts';
import { killMidUpload } from './multipart-faults.ts';
import { multipartJoinsInOrder } from './multipart-properties.ts';
import { objectConformance } from './objects-conformance.ts';
import { bytesRoundTrip, listingMatchesModel, overwritesAreWhole } from './properties.ts';
import { readsRacingOverwrites } from './read-races.ts';
import { readinessConformance } from './readiness-conformance.ts';
import { dataNodeKilled } from './replication-faults.ts';
import { sigv4Conformance } from './sigv4-conformance.ts';
import { versioningConformance } from './versioning-conformance.ts';
import { versionsMatchModel } from './versioning-properties.ts';
import { versioningRacesWrites } from './versioning-races.ts';

export const s3ObjectStorage: ChapterModule<CheckId> = {
  slug: '25-s3-object-storage',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('25-s3-object-storage'),
  referenceManifest: new URL('../../../reference/25-s3-object-storage/manifest.json', import.meta.url).pathname,
  checks: {
    'SOS-C1': readinessConformance,
    'SOS-C2': bucketConformance,
    'SOS-C3': objectConformance,
    'SOS-C4': listConformance,
    'SOS-C5': sigv4Conformance,
    'SOS-C6': multipartConformance,
    'SOS-C7': multipartErrors,
    'SOS-C8': versioningConformance,
    'SOS-C9': boto3Pass,
    'SOS-I1': bytesRoundTrip,
    'SOS-I2': listingMatchesModel,
    'SOS-I3': overwritesAreWhole,
    'SOS-I4': multipartJoinsInOrder,
    'SOS-I5': versionsMatchModel,
    'SOS-I6': readsRacingOverwrites,
    'SOS-I7': versioningRacesWrites,
    'SOS-F1': killService,
    'SOS-F2': bitFlipDetected,
    'SOS-F3': killMidUpload,
    'SOS-F4': compactionKeepsLive,
    'SOS-F5': heldAtTheWire,
    'SOS-F6': dataNodeKilled,
  },
  mutants: MUTANTS,
  // The metadata store is PostgreSQL when DATABASE_URL is set, else SQLite: with real services configured
  // (`mutate --real-deps`), `embedded` grades the SQLite store the default then leaves unrun.
  variants: [
    {
      name: 'embedded',
      description: 'no DATABASE_URL: the metadata in the embedded SQLite store',
      env: { DATABASE_URL: '' },
    },
    {
      // The API service and three data nodes (replication, a data node killed): the single-process default skips
      // SOS-F6 and the main job grades it here. `sdgrade test 25 --variant cluster` grades the cluster whole.
      name: 'cluster',
      description:
        'the API service and three data nodes (manifest.cluster.json): every object on its primary and two secondaries, acknowledged by a majority',
      env: {},
      manifest: 'manifest.cluster.json',
      completes: ['SOS-F6'],
      // SOS-F4 measures the data directory of the first node, the API service's, which holds no object bytes here;
      // each data node runs the embedded DataStore and compaction, graded by it on the default deployment. (SOS-F2
      // flips its bit in a data node's copy here: the manifest declares dataNodes.)
      notApplicable: {
        'SOS-F4':
          "measures the space compaction reclaims in the first node's data directory (the API service's: metadata only); each data node's compaction is the embedded one, graded on the default deployment",
      },
    },
  ],
  load: loadS3ObjectStorage,
  bench: benchS3ObjectStorage,
};
