// Chapter 07, the key-value store: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown
// one), its mutants, its load test and its micro-benchmark.
import { MUTANTS } from '../../../reference/07-key-value-store/mutants.ts';
import { type CheckId, catalog } from '../../../specs/07-key-value-store/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchKeyValueStore } from './bench.ts';
import { concurrentWritesKeptAsSiblings } from './concurrent-siblings.ts';
import { clusterConformance, deleteConformance, putGetConformance, readinessConformance } from './conformance.ts';
import { durableUnderKill } from './durable-under-kill.ts';
import { killAndRestart } from './kill-restart.ts';
import { loadKeyValueStore } from './load.ts';
import { localReplicaConformance } from './local-replica.ts';
import { noLostWrites } from './no-lost-writes.ts';
import { partitionedNodeGetsHints } from './partition-hints.ts';
import { pausedNodeDoesNotHold } from './paused-node.ts';
import { readsLastWrite } from './reads-last-write.ts';
import { replacedNodeConverges } from './replaced-node.ts';
import { siblingCapConformance } from './sibling-cap.ts';
import { slowLinksStillServe } from './slow-links.ts';

export const keyValueStore: ChapterModule<CheckId> = {
  slug: '07-key-value-store',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('07-key-value-store'),
  referenceManifest: new URL('../../../reference/07-key-value-store/manifest.json', import.meta.url).pathname,
  checks: {
    'KV-C1': putGetConformance,
    'KV-C2': deleteConformance,
    'KV-C3': clusterConformance,
    'KV-C4': localReplicaConformance,
    'KV-C5': readinessConformance,
    'KV-C6': siblingCapConformance,
    'KV-I1': noLostWrites,
    'KV-I2': readsLastWrite,
    'KV-I3': concurrentWritesKeptAsSiblings,
    'KV-I4': replacedNodeConverges,
    'KV-I5': durableUnderKill,
    'KV-I6': (ctx) => badInputIs4xxEverywhere(ctx),
    'KV-F1': killAndRestart,
    'KV-F2': pausedNodeDoesNotHold,
    'KV-F3': partitionedNodeGetsHints,
    'KV-F4': slowLinksStillServe,
  },
  mutants: MUTANTS,
  // The manifest's cluster has N = 3 on three nodes, so every node replicates every key: forwarding by a node that
  // holds no replica, and a node beyond the preference list standing in for a down replica (sloppy quorum), run only
  // on a larger cluster. `sdgrade test 07 --variant four-nodes`; `sdgrade mutate` grades that code under it.
  variants: [
    {
      name: 'four-nodes',
      description:
        'four nodes with N=3 (manifest.four-nodes.json): requests reaching a non-replica are forwarded, a node beyond the preference list stands in for a down replica',
      env: {},
      manifest: 'manifest.four-nodes.json',
    },
    {
      // At 4 MB a node flushes once per life (the start-up replay) in the checks and never compacts; at 1 KB (the
      // least the reference takes) every check flushes and compacts many times, so that code is graded too.
      name: 'small-memtable',
      description: 'MEMTABLE_BYTES=1024: the memtable flushed to an SSTable every 1 KB, and SSTables compacted',
      env: { MEMTABLE_BYTES: '1024' },
    },
  ],
  load: loadKeyValueStore,
  bench: benchKeyValueStore,
};
