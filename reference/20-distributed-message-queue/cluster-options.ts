// How a broker is configured into a cluster, and what the cluster's parts (controller, partition leaders,
// follower fetch loops) see of the broker's Cluster: its options, its view of the state, and each other.
import type { ClusterState, PartitionState } from './cluster-state.ts';
import type { Coordination } from './coordination.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { TopicRegistry } from './topic-registry.ts';

export interface ClusterOptions {
  self: string;
  selfUrl: string;
  /** Every other broker: name -> URL. */
  peers: Map<string, string>;
  topics: TopicRegistry;
  /** The consumer groups this broker coordinates while it is the controller (kept in etcd too). */
  groups?: GroupCoordinator;
  dataDir: string;
  /** etcd, where the partition states and the controller's lease live (coordination.ts). */
  etcdUrl: string;
  /** This cluster's key prefix in etcd. */
  etcdPrefix: string;
  /** The controller lease's time to live, in seconds: a dead controller is replaced within it (and a campaign). */
  leaseTtlS: number;
  /** How long a follower may be behind the leader's end before it leaves the ISR. */
  replicaLagMs: number;
  /** How long acks=all waits for the in-sync replicas before it gives up. */
  ackTimeoutMs: number;
  /** MUTANT unclean-leader-election: any live replica may become leader, in sync or not. */
  uncleanElection?: boolean;
  /** MUTANT acks-all-waits-for-min-insync: acks=all answers once minInsync copies have the batch, not the whole ISR. */
  ackOnMinInsyncCopies?: boolean;
  /** MUTANT state-pulled-only-at-start: brokers pull the partition states once, then rely on the controller's pushes. */
  pullStateOnlyAtStart?: boolean;
  /** MUTANT follower-keeps-unacked-tail: a broker that becomes a follower keeps its log past the last high watermark. */
  keepTailOnFollow?: boolean;
  /** MUTANT hw-regresses-after-failover: the high watermark is set to the ISR's least position even when lower. */
  hwRegresses?: boolean;
  /** MUTANT partition-states-not-persisted: partition states are written only when a topic is created. */
  statesNotPersisted?: boolean;
  /** MUTANT producer-state-recorded-at-ack: a batch whose acks=all wait failed leaves the producer state. */
  unconfirmedBatchForgotten?: boolean;
  /** MUTANT min-insync-not-pushed: the topic configs the controller serves leave minInsyncReplicas out. */
  minInsyncNotPushed?: boolean;
  /** MUTANT position-counted-at-send: a follower counts as having the records the leader sends it. */
  positionAtSend?: boolean;
  /** MUTANT new-leader-hw-from-log-end: a new leader's high watermark starts at its own log end. */
  hwFromLogEnd?: boolean;
  /** MUTANT isr-rejoin-on-fetch: a follower out of the ISR is named in sync again at its next fetch. */
  rejoinOnFetch?: boolean;
  /** MUTANT failover-isr-all-live: at a failover the controller names every live replica in sync. */
  isrAllLiveAtFailover?: boolean;
  /** MUTANT isr-lag-from-last-fetch: a follower counts as caught up at every fetch, whatever its offset. */
  caughtUpAtEveryFetch?: boolean;
  /** MUTANT isr-never-shrinks: the leader never drops a follower that stopped fetching from the ISR. */
  isrNeverShrinks?: boolean;
  /** MUTANT isr-shrink-unstored-applied: a shrink the controller could not be told of counts all the same. */
  isrShrinkUnstoredApplied?: boolean;
  /** MUTANT controller-never-reelected: brokers campaign for the controller's lease only until they have seen one. */
  neverReelect?: boolean;
  /** MUTANT group-offsets-on-controller-disk: groups and their offsets stay on the controller's disk only. */
  groupsOnControllerDisk?: boolean;
  /** MUTANT state-write-without-cas: the partition states are written to etcd without the compare-and-swap. */
  stateWriteWithoutCas?: boolean;
  log: (message: string) => void;
}

/** The broker's Cluster as its parts use it. */
export interface ClusterView {
  readonly o: ClusterOptions;
  /** Every broker's name, sorted. */
  readonly brokers: string[];
  /** The broker holding the controller's lease, as last heard. */
  readonly controller: string;
  /** Whether this broker holds the controller's lease. */
  readonly isController: boolean;
  readonly closed: boolean;
  /** The state as this broker last heard it (from etcd, or pushed by the controller). */
  state: ClusterState;
  /** etcd's revision of `state`. */
  readonly revision: number;
  readonly coordination: Coordination;
  /** The state as the controller serves it to the brokers. */
  readonly snapshot: ClusterState;
  urlOf(broker: string): string;
  apply(next: ClusterState, revision: number): void;
  changeIsr(
    from: string,
    topic: string,
    partition: number,
    epoch: number,
    isr: string[],
  ): Promise<PartitionState | null>;
}
