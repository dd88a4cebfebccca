// Chapter 20, the distributed message queue: its checks keyed by the catalog's IDs (the compiler rejects a missing
// or unknown one), its mutants, its load test and its micro-benchmark against NATS JetStream. Written to
// CHECKLIST.md beside this file.

import { MUTANTS } from '../../../reference/20-distributed-message-queue/mutants.ts';
import { type CheckId, catalog } from '../../../specs/20-distributed-message-queue/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { acksAllWaitsForIsr } from './acks-all.ts';
import { benchMessageQueue } from './bench.ts';
import { controllerFailover } from './controller-failover.ts';
import { delayConformance } from './delay-conformance.ts';
import { killWithDelaysPending } from './delay-fault.ts';
import { leaderFailover } from './failover.ts';
import { failoverChain } from './failover-chain.ts';
import { consumerDiesBeforeCommit, killBroker, tornSegmentTail } from './faults.ts';
import { fetchConformance } from './fetch-conformance.ts';
import { groupConformance } from './group-conformance.ts';
import { idempotentAcrossFaults, idempotentProduce } from './idempotent-produce.ts';
import { isrRaces } from './isr-races.ts';
import { clusterLeadership } from './leadership.ts';
import { loadMessageQueue } from './load.ts';
import { offsetConformance } from './offset-conformance.ts';
import { partitionBetweenBrokers } from './partition-cut.ts';
import { produceConformance } from './produce-conformance.ts';
import { committedOffsetsRoundTrip, keyToPartition, oneOwnerPerPartition, orderPerPartition } from './properties.ts';
import { readinessConformance } from './readiness-conformance.ts';
import { retentionConformance } from './retention-conformance.ts';
import { tagConformance } from './tag-conformance.ts';
import { topicConformance } from './topic-conformance.ts';

export const distributedMessageQueue: ChapterModule<CheckId> = {
  slug: '20-distributed-message-queue',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('20-distributed-message-queue'),
  referenceManifest: new URL('../../../reference/20-distributed-message-queue/manifest.json', import.meta.url).pathname,
  checks: {
    'MQ-C1': readinessConformance,
    'MQ-C2': topicConformance,
    'MQ-C3': produceConformance,
    'MQ-C4': fetchConformance,
    'MQ-C5': groupConformance,
    'MQ-C6': offsetConformance,
    'MQ-C7': retentionConformance,
    'MQ-C9': tagConformance,
    'MQ-C10': delayConformance,
    'MQ-C11': idempotentProduce,
    'MQ-I1': (ctx) => badInputIs4xxEverywhere(ctx),
    'MQ-I2': orderPerPartition,
    'MQ-I3': keyToPartition,
    'MQ-I4': committedOffsetsRoundTrip,
    'MQ-I5': oneOwnerPerPartition,
    'MQ-F1': killBroker,
    'MQ-F2': tornSegmentTail,
    'MQ-F3': consumerDiesBeforeCommit,
    'MQ-F6': killWithDelaysPending,
    'MQ-F8': idempotentAcrossFaults,
    'MQ-C8': clusterLeadership,
    'MQ-F4': acksAllWaitsForIsr,
    'MQ-F5': leaderFailover,
    'MQ-F7': failoverChain,
    'MQ-F9': isrRaces,
    'MQ-F10': partitionBetweenBrokers,
    'MQ-F11': controllerFailover,
  },
  mutants: MUTANTS,
  // A restart slower than MQ-F6's scaled delay leaves one part of it ungraded: skipped with the figures, never passed.
  speedSkips: {
    'MQ-F6':
      /^(the restart took \d+ ms, so the messages produced after it came|the kill landed after the due sweep's append)/,
  },
  // Three brokers (manifest.cluster.json, on etcd): replication, acks=all and failover need a cluster, so the
  // single-broker default skips MQ-C8, MQ-F4, MQ-F5, MQ-F7, MQ-F9, MQ-F10 and MQ-F11 and the main job grades them here. `sdgrade test 20 --variant cluster`
  // grades the cluster whole; blind bugs and `mutate` name it as any variant.
  variants: [
    {
      name: 'cluster',
      description: 'three brokers (manifest.cluster.json) on etcd, every partition replicated three times',
      env: {},
      manifest: 'manifest.cluster.json',
      needs: ['etcd'],
      completes: ['MQ-C8', 'MQ-F4', 'MQ-F5', 'MQ-F7', 'MQ-F9', 'MQ-F10', 'MQ-F11'],
      // Graded whole (`test 20 --variant cluster`), these failed on the unmodified cluster: they talk to the first
      // broker only and do not follow its 307 not_leader redirect to a partition's leader. Not a property of the
      // cluster: a gap of these checks (README, "Not yet"); each is graded on the single broker. (MQ-F3 follows the
      // 307s and is graded on both, the controller killed after commits on the cluster.)
      // Delayed messages are the embedded broker's alone: not a gap of the checks but of the reference cluster.
      notApplicable: {
        ...Object.fromEntries(
          (['MQ-C2', 'MQ-C3', 'MQ-C4', 'MQ-C9', 'MQ-I2', 'MQ-I3', 'MQ-I4', 'MQ-F1'] as const).map((id) => [
            id,
            'graded on the single broker (manifest.json) only: this check talks to one broker and does not yet follow a 307 not_leader redirect to the partition leader',
          ]),
        ),
        'MQ-C10':
          'delayed messages are kept by the embedded broker only: the reference cluster refuses them (422 delay_not_supported) because it does not replicate pending ones yet',
        'MQ-F6':
          'delayed messages are kept by the embedded broker only: the reference cluster refuses them (422 delay_not_supported) because it does not replicate pending ones yet',
      },
    },
  ],
  load: loadMessageQueue,
  bench: benchMessageQueue,
};
