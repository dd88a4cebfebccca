// Chapter 08, the unique ID generator: its checks keyed by the catalog's IDs (the compiler rejects a missing or
// unknown one), its mutants, its load test and its micro-benchmark.
import { MUTANTS } from '../../../reference/08-unique-id-generator/mutants.ts';
import { type CheckId, catalog } from '../../../specs/08-unique-id-generator/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchIdGenerator } from './bench.ts';
import {
  decodeConformance,
  generateIdConformance,
  generateIdsConformance,
  readinessConformance,
} from './conformance.ts';
import { clockStepsBack, distinctMachineIds, restartOntoEarlierClock } from './faults.ts';
import { loadIdGenerator } from './load.ts';
import {
  fitsIn63Bits,
  increasingPerNode,
  layoutDecodes,
  noWrapAtExhaustion,
  sortableAcrossNodes,
  uniqueEverywhere,
} from './properties.ts';

export const uniqueIdGenerator: ChapterModule<CheckId> = {
  slug: '08-unique-id-generator',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('08-unique-id-generator'),
  referenceManifest: new URL('../../../reference/08-unique-id-generator/manifest.json', import.meta.url).pathname,
  checks: {
    'UID-C1': generateIdConformance,
    'UID-C2': generateIdsConformance,
    'UID-C3': decodeConformance,
    'UID-C4': readinessConformance,
    'UID-I1': uniqueEverywhere,
    'UID-I2': increasingPerNode,
    'UID-I3': sortableAcrossNodes,
    'UID-I4': layoutDecodes,
    'UID-I5': fitsIn63Bits,
    'UID-I6': noWrapAtExhaustion,
    'UID-I7': (ctx) => badInputIs4xxEverywhere(ctx),
    'UID-F1': clockStepsBack,
    'UID-F2': restartOntoEarlierClock,
    'UID-F3': distinctMachineIds,
  },
  mutants: MUTANTS,
  load: loadIdGenerator,
  bench: benchIdGenerator,
};
