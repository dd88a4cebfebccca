// Chapter 06, consistent hashing: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown
// one), its mutants, its load test and its micro-benchmark.
import { MUTANTS } from '../../../reference/06-consistent-hashing/mutants.ts';
import { type CheckId, catalog } from '../../../specs/06-consistent-hashing/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchConsistentHashing } from './bench.ts';
import {
  batchConformance,
  lookupConformance,
  membershipConformance,
  readinessConformance,
  statsConformance,
} from './conformance.ts';
import { killUnderLoad, membershipRace } from './faults.ts';
import { loadConsistentHashing } from './load.ts';
import { deterministic, distinctReplicas, everyKeyOwned, minimalMovement, weightsRespected } from './properties.ts';

export const consistentHashing: ChapterModule<CheckId> = {
  slug: '06-consistent-hashing',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('06-consistent-hashing'),
  referenceManifest: new URL('../../../reference/06-consistent-hashing/manifest.json', import.meta.url).pathname,
  checks: {
    'CH-C1': membershipConformance,
    'CH-C2': lookupConformance,
    'CH-C3': batchConformance,
    'CH-C4': statsConformance,
    'CH-C5': readinessConformance,
    'CH-I1': deterministic,
    'CH-I2': minimalMovement,
    'CH-I3': distinctReplicas,
    'CH-I4': weightsRespected,
    'CH-I5': everyKeyOwned,
    'CH-I6': (ctx) => badInputIs4xxEverywhere(ctx),
    'CH-F1': membershipRace,
    'CH-F2': killUnderLoad,
  },
  mutants: MUTANTS,
  load: loadConsistentHashing,
  bench: benchConsistentHashing,
};
