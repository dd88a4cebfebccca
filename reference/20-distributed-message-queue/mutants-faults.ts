// The mutants of the fault checks (MQ-F*: broker kills, partitions, torn tails, failover; a part of mutants.ts's list, kept apart for its length).
/** The reference started as three brokers: the replication mutants show only there. */
const CLUSTER_MANIFEST = new URL('./manifest.cluster.json', import.meta.url).pathname;

export const FAULT_MUTANTS = [
  {
    name: 'ack-before-durable',
    breaks: 'MQ-F1',
    description: 'produce (acks 1 and all) answers before the records are written; the write follows 3 s later',
  },
  {
    name: 'crc-not-checked',
    breaks: 'MQ-F2',
    description: 'CRCs are not checked on recovery or on read: a damaged record is served as data',
  },
  {
    name: 'torn-tail-kept',
    breaks: 'MQ-F2',
    description:
      'recovery skips a torn tail but leaves it in the file; new records go after it and are lost at the next restart',
  },
  {
    name: 'session-never-expires',
    breaks: 'MQ-F3',
    description: "a member that stops heartbeating keeps its partitions: a dead consumer's messages reach nobody",
  },
  {
    name: 'session-expires-early',
    breaks: 'MQ-F3',
    description: 'a member is dropped after half its session timeout: a live but slow consumer loses its partitions',
  },
  {
    name: 'restart-opens-newest-segment',
    breaks: 'MQ-F1',
    description: 'on restart a partition opens only its newest segment: the older segments and their messages are gone',
  },
  {
    name: 'describe-without-expiry',
    breaks: 'MQ-F3',
    description: 'describeGroup does not expire sessions: a dead member is listed with its partitions',
  },
  {
    name: 'expiry-keeps-generation',
    breaks: 'MQ-F3',
    description: "an expired member's partitions are reassigned without a new generation",
  },
  // At-most-once (consumers that commit before processing): an offset committed past comes back (after a kill -9:
  // MQ-F1; right after the commit or at a rebalance: MQ-F3).
  {
    name: 'commit-durable-later',
    breaks: 'MQ-F1',
    description:
      "a commit is answered once it is in memory; the group's file is written a second later: a kill -9 right after it hands the next owner the offset before, whose messages were taken already",
  },
  {
    name: 'commit-lost-update',
    breaks: 'MQ-F3',
    description:
      "a commit reads the group's file, sets its offsets and writes it back asynchronously: commits of two partitions at once, the later write puts the other's offset back (read back stale right after it)",
  },
  {
    name: 'moved-partition-from-checkpoint',
    breaks: 'MQ-F3',
    description:
      'a partition that changes owner at a rebalance is handed over at the offset the group had at the previous rebalance: what its old owner committed since is delivered again',
  },
  {
    name: 'commit-file-own-partitions',
    breaks: 'MQ-F1',
    description:
      "a commit writes only its own partitions' offsets to the group's state file: after a restart the partitions committed in earlier calls read back older or null",
  },
  {
    name: 'tags-outside-crc',
    breaks: 'MQ-F2',
    description:
      "a record's CRC covers its offset, timestamp, key and value but not its tags: a flipped bit in a tag is served",
  },
  {
    name: 'tag-index-not-rebuilt',
    breaks: 'MQ-F1',
    description:
      'after a restart the tag index of the reopened segments is empty: filtered fetches miss every message from before the restart',
  },
  {
    name: 'delays-lost-on-restart',
    breaks: 'MQ-F6',
    description: 'the journal of pending delayed messages is not read at start: those pending at a kill -9 are lost',
  },
  {
    name: 'delayed-twice-after-restart',
    breaks: 'MQ-F6',
    description:
      'the notes of delayed messages already appended are ignored at start: a restart appends them all again',
  },
  {
    name: 'moving-note-after-append',
    breaks: 'MQ-F6',
    description:
      "the note of a due delayed message's offset is written after its append: a kill -9 in the middle of the append appends again, at the restart, what was already appended",
  },
  {
    name: 'delayed-again-after-retention',
    breaks: 'MQ-F6',
    description:
      'a delayed message appended and then removed by retention is taken at the restart for one never appended: delivered again',
  },
  {
    name: 'delayed-key-ignored',
    breaks: 'MQ-F6',
    description: "a keyed delayed message is kept for partition 0, not its key's (the answer names the key's)",
  },
  {
    name: 'offsets-reloaded-by-position',
    breaks: 'MQ-F1',
    description:
      "a group's stored offsets are read back at start by their place in the state file, not their partition: a group that committed only later partitions has them on the first ones after a restart",
  },
  {
    name: 'delay-ids-from-pending-count',
    breaks: 'MQ-F6',
    description:
      'after a restart the delay store numbers new delayed messages from the count of pending ones: a delayed produce then replaces a pending message, which is never appended',
  },
  {
    name: 'delay-due-in-produce-order',
    breaks: 'MQ-F6',
    description:
      'delayed messages due at once (at a restart) are appended in produce order, not deliverAt order (ties in produce order)',
  },
  {
    name: 'producer-dedup-in-memory-only',
    breaks: 'MQ-F8',
    description:
      'the producer ID and sequence are kept in memory, not written with the records: after a restart a retried batch is refused or appended again',
  },
  {
    name: 'producer-state-from-active-segment',
    breaks: 'MQ-F8',
    description:
      "at a restart the producer state is rebuilt from the active segment only: retries of the producer's batches in closed segments are refused",
  },
  {
    name: 'acks-all-before-replicated',
    breaks: 'MQ-F4',
    description: 'acks=all is answered once the leader has the batch, before the in-sync followers have it',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'unclean-leader-election',
    breaks: 'MQ-F5',
    description:
      'when a leader dies, the first live replica leads, even a follower out of sync that lacks acknowledged records',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'follower-describes-log-end',
    breaks: 'MQ-F4',
    description:
      "describeTopic on a broker that does not lead a partition answers its own log's end as endOffset, past the high watermark while a follower in the ISR lags",
    manifest: CLUSTER_MANIFEST,
  },
  // From the replication blind bugs (fixtures/blind-bugs/20-distributed-message-queue/, variant cluster): each was
  // missed before its check was strengthened.
  {
    name: 'acks-all-waits-for-min-insync',
    breaks: 'MQ-F5',
    description:
      'acks=all answers once minInsyncReplicas copies have the batch (a quorum), not every in-sync replica: a stopped follower still in the ISR is passed over',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'acks-all-until-off-by-one',
    breaks: 'MQ-F5',
    description:
      "acks=all waits for the high watermark to reach the batch's last offset, not pass it: a one-message batch is answered at once",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'fetch-reads-past-high-watermark',
    breaks: 'MQ-F4',
    description: 'fetch answers records above the high watermark (not yet on every in-sync replica)',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'tags-read-past-high-watermark',
    breaks: 'MQ-F4',
    description: 'a fetch filtered by tags answers matches above the high watermark (not yet on every in-sync replica)',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'redirect-to-preferred-leader',
    breaks: 'MQ-F5',
    description:
      "a 307 not_leader names the partition's first replica, not its current leader (wrong after a failover)",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'state-pulled-only-at-start',
    breaks: 'MQ-F5',
    description:
      'brokers pull the partition states only when they start (ISR changes are never pushed): describeTopic on them goes stale',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'position-counted-at-send',
    breaks: 'MQ-F4',
    description:
      'the leader counts a follower as having the records it sends in a fetch answer, before the follower has appended them: acks=all is answered for a follower stopped with a fetch open',
    manifest: CLUSTER_MANIFEST,
  },
  // From the replication and tag blind bugs still missed until MQ-F7 (two failovers in a row, the first node restarted).
  {
    name: 'follower-keeps-unacked-tail',
    breaks: 'MQ-F7',
    description:
      "a broker that becomes a follower keeps its log past the last high watermark it heard of: the old leader's acks=1 tail stays at offsets its new leader gave other messages",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'hw-regresses-after-failover',
    breaks: 'MQ-F7',
    description:
      "the high watermark is set to the ISR's least known position even when lower: a new leader's endOffset drops to 0 until its followers fetch",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'partition-states-not-persisted',
    breaks: 'MQ-F7',
    description:
      "the controller writes partition states only when a topic is created: after its restart leaders, epochs and ISRs are back to the topic's creation",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'tag-index-not-truncated',
    breaks: 'MQ-F7',
    description:
      "truncating a segment leaves its tag index as long as it was: records a replica appends after a truncation are filtered by the cut-off records' tags",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'tag-index-empty-on-replica',
    breaks: 'MQ-F7',
    description:
      'records a follower replicates are indexed as untagged: a new leader answers no filtered match among them',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'producer-state-kept-on-truncate',
    breaks: 'MQ-F7',
    description:
      'a replica that truncates its log keeps the producer state of the records it dropped: elected again, it answers the retry of a lost idempotent batch with offsets other messages took',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'producer-dup-acks-all-until-first',
    breaks: 'MQ-F4',
    description:
      "an idempotent batch's acks=all retry waits for the high watermark to pass the batch's first record, not its last: answered while the in-sync replicas lack the rest",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'producer-ids-reused-after-restart',
    breaks: 'MQ-F1',
    description:
      "initProducer hands out IDs from a counter that starts again at every start: after a restart a new producer gets an earlier one's ID, and its first batch is answered as that producer's repeat",
  },
  {
    name: 'segment-time-lost-on-restart',
    breaks: 'MQ-F1',
    description:
      "a reopened segment's newest-record time is left at 0: the first retention pass after a restart deletes every closed segment",
  },
  {
    name: 'producer-dup-skips-min-insync',
    breaks: 'MQ-F4',
    description:
      'an idempotent acks=all retry waits for the high watermark only, not for minInsyncReplicas: answered 200 with both followers stopped',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'producer-state-recorded-at-ack',
    breaks: 'MQ-F4',
    description:
      "an idempotent acks=all batch counts as the producer's only once answered 200: the retry of one answered 503 after its append is appended again",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'truncate-active-segment-only',
    breaks: 'MQ-F7',
    description:
      "a replica's truncation cuts its active segment only: a restarted old leader keeps the part of its unreplicated tail in closed segments, beside the new leader's records at those offsets",
    manifest: CLUSTER_MANIFEST,
  },
  // From the replication blind bugs still missed until MQ-F9 (a follower kept behind by a slow link, failovers).
  {
    name: 'new-leader-hw-from-log-end',
    breaks: 'MQ-F9',
    description:
      "a new leader's high watermark starts at its own log end: records an in-sync follower lacks are served, and lost when that follower leads next",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'failover-isr-all-live',
    breaks: 'MQ-F9',
    description:
      'at a failover the controller names every live replica in sync: a follower that was behind is electable at the next failover',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'isr-rejoin-on-fetch',
    breaks: 'MQ-F9',
    description:
      'a follower out of the ISR is named in sync again at its next fetch, caught up or not: it may be elected without the acknowledged records',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'isr-lag-from-last-fetch',
    breaks: 'MQ-F9',
    description:
      'a follower counts as caught up at every fetch it sends: one that keeps fetching but falls behind never leaves the ISR',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'isr-never-shrinks',
    breaks: 'MQ-F10',
    description:
      'the leader never drops a follower that stopped fetching from the ISR: cut off from its leader, it stays in sync, and acks=all waits for it until it times out',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'isr-shrink-unstored-applied',
    breaks: 'MQ-F10',
    description:
      "a leader whose ISR shrink the controller could not store (cut off from it) shrinks its ISR all the same: isolated from every broker and etcd, it acknowledges acks=all alone, and the new leader's log has other messages at those offsets",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'controller-never-reelected',
    breaks: 'MQ-F11',
    description:
      "brokers campaign for etcd's controller lease only until they have seen a controller: when it dies nobody takes over, and the partitions it led keep no leader",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'group-offsets-on-controller-disk',
    breaks: 'MQ-F11',
    description:
      "consumer groups and their committed offsets stay on the controller's own disk, not in etcd: after the controller's failover the new one knows no group, and a consumer starts afresh",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'group-store-own-partitions',
    breaks: 'MQ-F3',
    description:
      "a commit stores in etcd only its own partitions' offsets, not the group's: after a kill -9 of the controller the new one hands the group older offsets (or none) for the partitions committed in the other calls, whose messages were taken already",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'state-write-without-cas',
    breaks: 'MQ-F11',
    description:
      "the controller writes the partition states to etcd unconditionally, not only while it holds the controller key at the revision it read: a controller stopped past its lease, resumed with a topic creation pending, writes its stale states over its successor's leader change",
    manifest: CLUSTER_MANIFEST,
  },
] as const satisfies readonly { name: string; breaks: string; description: string; manifest?: string }[];
