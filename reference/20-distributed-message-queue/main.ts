// The chapter 20 reference server: node --import tsx reference/20-distributed-message-queue/main.ts
// Wires config -> topic registry (partition logs) + group coordinator -> app -> run-server (README.md lists the
// environment).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadSpec } from '../kit/load-spec.ts';
import { parsePeers } from '../kit/peers.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { Cluster } from './cluster.ts';
import { clusterPrefix } from './coordination.ts';
import { DelayStore, type DelayTarget } from './delay-store.ts';
import { type CoordinatorMutant, GroupCoordinator } from './group-coordinator.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { ProducerState } from './producer-state.ts';
import { delayTargetOf, TopicRegistry } from './topic-registry.ts';

export const CHAPTER = '20-distributed-message-queue';
/** How often retention looks for closed segments past their topic's period. */
const RETENTION_CHECK_MS = Number(process.env['RETENTION_CHECK_MS'] ?? 5000);
/** The cluster (README.md): the other brokers as name=url, this one's name and URL. Empty PEERS: one broker. */
const PEERS = parsePeers(process.env['PEERS']);
const SELF = process.env['NODE_NAME']?.trim() || 'broker-1';
const REPLICA_LAG_MS = Number(process.env['REPLICA_LAG_MS'] ?? 3000);
const ACK_TIMEOUT_MS = Number(process.env['ACK_TIMEOUT_MS'] ?? 10_000);
/** The cluster's coordination service (etcd) and the controller lease's TTL; a cluster cannot run without it. */
const ETCD_URL = process.env['ETCD_URL']?.trim() ?? '';
const CONTROLLER_LEASE_S = Number(process.env['CONTROLLER_LEASE_S'] ?? 3);
const COORDINATOR_MUTANTS: readonly string[] = [
  'leave-without-rebalance',
  'two-owners-after-rebalance',
  'session-never-expires',
  'session-expires-early',
  'commit-ahead',
  'no-generation-fence',
  'describe-without-expiry',
  'expiry-keeps-generation',
  'commit-file-own-partitions',
  'offsets-reloaded-by-position',
  'commit-durable-later',
  'commit-lost-update',
  'moved-partition-from-checkpoint',
  'group-store-own-partitions',
] satisfies CoordinatorMutant[];

await runServer({
  chapter: CHAPTER,
  defaultPort: 8200,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const spec = await loadSpec(SPEC_URL);
    let app: ReturnType<typeof buildApp> | undefined;
    const topics = new TopicRegistry(
      config.dataDir,
      {
        verifyCrc: mutant !== 'crc-not-checked', // MUTANT crc-not-checked
        truncateDamagedTail: mutant !== 'torn-tail-kept', // MUTANT torn-tail-kept
        deferWritesMs: mutant === 'ack-before-durable' ? 3000 : 0, // MUTANT ack-before-durable
        wakeOnlyOnDurable: mutant === 'long-poll-woken-only-by-fsync', // MUTANT long-poll-woken-only-by-fsync
        dropPendingAtRoll: mutant === 'roll-drops-pending-batch', // MUTANT roll-drops-pending-batch
        openNewestOnly: mutant === 'restart-opens-newest-segment', // MUTANT restart-opens-newest-segment
        skipSegmentRest: mutant === 'fetch-skips-segment-rest', // MUTANT fetch-skips-segment-rest
        firstOfEverySegment: mutant === 'fetch-budget-reset-per-segment', // MUTANT fetch-budget-reset-per-segment
        skipTagIndexOnOpen: mutant === 'tag-index-not-rebuilt', // MUTANT tag-index-not-rebuilt
        tagsOutOfRecord: mutant === 'tags-not-in-record', // MUTANT tags-not-in-record
        keepTagsAtRoll: mutant === 'roll-keeps-batch-tags', // MUTANT roll-keeps-batch-tags
        crcWithoutTags: mutant === 'tags-outside-crc', // MUTANT tags-outside-crc
        keepTagIndexAtTruncate: mutant === 'tag-index-not-truncated', // MUTANT tag-index-not-truncated
        replicaTagsUnindexed: mutant === 'tag-index-empty-on-replica', // MUTANT tag-index-empty-on-replica
        forgetTimesOnOpen: mutant === 'segment-time-lost-on-restart', // MUTANT segment-time-lost-on-restart
        truncateActiveOnly: mutant === 'truncate-active-segment-only', // MUTANT truncate-active-segment-only
        timeOfFirstAppend: mutant === 'retention-by-first-append', // MUTANT retention-by-first-append
        producerNotLogged: mutant === 'producer-dedup-in-memory-only', // MUTANT producer-dedup-in-memory-only
        producerIdIgnored: mutant === 'producer-dedup-ignores-producer', // MUTANT producer-dedup-ignores-producer
        producerBatchesUnbounded: mutant === 'producer-remembers-every-batch', // MUTANT producer-remembers-every-batch
        producerStateFromActiveOnly: mutant === 'producer-state-from-active-segment', // MUTANT producer-state-from-active-segment
        producerStateKeptOnTruncate: mutant === 'producer-state-kept-on-truncate', // MUTANT producer-state-kept-on-truncate
        // MUTANT producer-state-per-partition-number
        producersByPartitionNumber: mutant === 'producer-state-per-partition-number' ? [] : undefined,
        // MUTANT producer-dedup-ignores-partition
        sharedProducers: mutant === 'producer-dedup-ignores-partition' ? new ProducerState() : undefined,
        log: (m) => (app ? app.log.warn(m) : console.error(m)),
      },
      mutant === 'retention-in-seconds',
    ); // MUTANT retention-in-seconds
    const groups = new GroupCoordinator(
      config.dataDir,
      mutant && COORDINATOR_MUTANTS.includes(mutant) ? (mutant as CoordinatorMutant) : undefined,
    );
    const log = (m: string) => (app ? app.log.warn(m) : console.error(m));
    if (PEERS.size > 0 && !ETCD_URL)
      throw new Error(
        'a cluster (PEERS) keeps its partition states in etcd: set ETCD_URL (scripts/services.sh starts one)',
      );
    const cluster =
      PEERS.size > 0
        ? new Cluster({
            self: SELF,
            selfUrl: process.env['SELF_URL'] ?? `http://${config.host}:${config.port}`,
            peers: PEERS,
            topics,
            groups,
            dataDir: config.dataDir,
            etcdUrl: ETCD_URL,
            etcdPrefix: process.env['ETCD_PREFIX'] ?? clusterPrefix(process.env['SHARED_DIR'] ?? config.dataDir),
            leaseTtlS: CONTROLLER_LEASE_S,
            replicaLagMs: REPLICA_LAG_MS,
            ackTimeoutMs: ACK_TIMEOUT_MS,
            uncleanElection: mutant === 'unclean-leader-election', // MUTANT unclean-leader-election
            ackOnMinInsyncCopies: mutant === 'acks-all-waits-for-min-insync', // MUTANT acks-all-waits-for-min-insync
            pullStateOnlyAtStart: mutant === 'state-pulled-only-at-start', // MUTANT state-pulled-only-at-start
            keepTailOnFollow: mutant === 'follower-keeps-unacked-tail', // MUTANT follower-keeps-unacked-tail
            hwRegresses: mutant === 'hw-regresses-after-failover', // MUTANT hw-regresses-after-failover
            statesNotPersisted: mutant === 'partition-states-not-persisted', // MUTANT partition-states-not-persisted
            positionAtSend: mutant === 'position-counted-at-send', // MUTANT position-counted-at-send
            minInsyncNotPushed: mutant === 'min-insync-not-pushed', // MUTANT min-insync-not-pushed
            unconfirmedBatchForgotten: mutant === 'producer-state-recorded-at-ack', // MUTANT producer-state-recorded-at-ack
            hwFromLogEnd: mutant === 'new-leader-hw-from-log-end', // MUTANT new-leader-hw-from-log-end
            rejoinOnFetch: mutant === 'isr-rejoin-on-fetch', // MUTANT isr-rejoin-on-fetch
            isrAllLiveAtFailover: mutant === 'failover-isr-all-live', // MUTANT failover-isr-all-live
            caughtUpAtEveryFetch: mutant === 'isr-lag-from-last-fetch', // MUTANT isr-lag-from-last-fetch
            isrNeverShrinks: mutant === 'isr-never-shrinks', // MUTANT isr-never-shrinks
            isrShrinkUnstoredApplied: mutant === 'isr-shrink-unstored-applied', // MUTANT isr-shrink-unstored-applied
            neverReelect: mutant === 'controller-never-reelected', // MUTANT controller-never-reelected
            groupsOnControllerDisk: mutant === 'group-offsets-on-controller-disk', // MUTANT group-offsets-on-controller-disk
            stateWriteWithoutCas: mutant === 'state-write-without-cas', // MUTANT state-write-without-cas
            log,
          })
        : undefined;
    // Delayed messages are kept by the embedded broker only: a cluster does not replicate them yet (422).
    const delays = cluster
      ? undefined
      : new DelayStore(join(config.dataDir, 'delayed.jsonl'), delayTarget(topics, mutant), {
          forgetOnRestart: mutant === 'delays-lost-on-restart', // MUTANT delays-lost-on-restart
          ignoreMovedNotes: mutant === 'delayed-twice-after-restart', // MUTANT delayed-twice-after-restart
          keepArmedTimer: mutant === 'delay-timer-not-rearmed', // MUTANT delay-timer-not-rearmed
          produceOrder: mutant === 'delay-due-in-produce-order', // MUTANT delay-due-in-produce-order
          noteAfterAppend: mutant === 'moving-note-after-append', // MUTANT moving-note-after-append
          idsFromPendingCount: mutant === 'delay-ids-from-pending-count', // MUTANT delay-ids-from-pending-count
          dueSlackMs: mutant === 'delay-sweep-takes-nearly-due' ? 100 : 0, // MUTANT delay-sweep-takes-nearly-due
          log,
        });
    // MUTANT delayed-key-ignored: a keyed delayed message is kept for partition 0, not its key's.
    if (delays && mutant === 'delayed-key-ignored') {
      const add = delays.add.bind(delays);
      delays.add = (messages, durable) =>
        add(
          messages.map((m) => (m.key !== null ? { ...m, partition: 0 } : m)),
          durable,
        );
    }
    app = buildApp({
      spec,
      readiness,
      topics,
      groups,
      delays,
      brokers: cluster?.brokers.length ?? 1,
      self: SELF,
      cluster,
      mutant,
      // MUTANT unstable-key-hash: a salt chosen at every start changes where a key goes.
      keySalt: mutant === 'unstable-key-hash' ? randomBytes(4).toString('hex') : '',
      logger: { level: config.logLevel },
    });
    await cluster?.start();
    delays?.start();
    const retention = setInterval(() => topics.applyRetention(), RETENTION_CHECK_MS);
    retention.unref();
    app.log.info(
      { dataDir: config.dataDir, broker: SELF, brokers: cluster?.brokers ?? [SELF], mutant: mutant ?? null },
      'message queue broker configured',
    );
    // MUTANT retention-runs-once: retention scheduled with setTimeout, not setInterval: one pass, none after.
    if (mutant === 'retention-runs-once') {
      clearInterval(retention);
      setTimeout(() => topics.applyRetention(), RETENTION_CHECK_MS).unref();
    }
    return {
      app,
      close: async () => {
        clearInterval(retention);
        cluster?.close();
        delays?.close();
        topics.close();
      },
    };
  },
});

/**
 * The partitions as the delay store sees them. MUTANT delayed-again-after-retention: a noted append whose record
 * retention has removed since is taken for one that never happened (appended again at the restart).
 */
function delayTarget(topics: TopicRegistry, mutant: MutantName | undefined): DelayTarget {
  const target = delayTargetOf(topics);
  if (mutant !== 'delayed-again-after-retention') return target;
  return {
    ...target,
    holds: (topic, partition, offset, m) =>
      offset >= (topics.get(topic)?.logs[partition]?.logStartOffset ?? 0) && target.holds(topic, partition, offset, m),
  };
}
