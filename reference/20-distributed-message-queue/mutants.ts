// Deliberately broken variants of the reference, one check each (IDs from specs/20-distributed-message-queue/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
/** The reference started as three brokers: the replication mutants show only there. */
const CLUSTER_MANIFEST = new URL('./manifest.cluster.json', import.meta.url).pathname;

export const MUTANTS = [
  { name: 'health-plain-text', breaks: 'MQ-C1', description: 'readiness answers text/plain "ok", not the Health body' },
  {
    name: 'min-insync-unchecked',
    breaks: 'MQ-C2',
    description:
      'a topic whose minInsyncReplicas exceeds its replicationFactor is created (acks=all could never succeed)',
  },
  {
    name: 'topic-recreated',
    breaks: 'MQ-C2',
    description: 'creating a topic whose name is taken answers 201 and starts it again, instead of 409 topic_exists',
  },
  {
    name: 'partial-batch',
    breaks: 'MQ-C3',
    description: 'a batch with an unknown partition appends the messages before it, then answers 422',
  },
  {
    name: 'long-poll-ignored',
    breaks: 'MQ-C4',
    description: 'fetch answers an empty batch at once whatever maxWait says (no long polling)',
  },
  {
    name: 'leave-without-rebalance',
    breaks: 'MQ-C5',
    description: 'a member leaves and nobody gets its partitions (no rebalance until the next join)',
  },
  {
    name: 'no-generation-fence',
    breaks: 'MQ-C6',
    description: 'commits are not fenced: a stale generation, or a partition the member does not own, is committed',
  },
  {
    name: 'unvalidated-input',
    breaks: 'MQ-I1',
    description: "produce reaches its handler without the spec's validation",
  },
  {
    name: 'batch-reversed',
    breaks: 'MQ-I2',
    description: 'the messages of a batch are appended to a partition last first: the order acknowledged is not kept',
  },
  {
    name: 'unstable-key-hash',
    breaks: 'MQ-I3',
    description: "the key's hash is salted with a value chosen at start: not the documented crc32(key) mod partitions",
  },
  {
    name: 'commit-ahead',
    breaks: 'MQ-I4',
    description: 'a commit records the partition end offset, not the offset committed (committed ahead of delivery)',
  },
  {
    name: 'two-owners-after-rebalance',
    breaks: 'MQ-I5',
    description: 'on a join only the newcomer is assigned; the others keep their partitions, so one has two owners',
  },
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
  // From the blind bugs (fixtures/blind-bugs/20-distributed-message-queue/): each was missed before its check was
  // strengthened.
  {
    name: 'timestamp-seconds',
    breaks: 'MQ-C3',
    description: 'messages are stamped with Unix seconds, not milliseconds since the epoch',
  },
  {
    name: 'create-topic-race',
    breaks: 'MQ-C2',
    description:
      'the name is checked, then the metadata written asynchronously: concurrent creates of one name all get 201',
  },
  {
    name: 'long-poll-woken-only-by-fsync',
    breaks: 'MQ-C4',
    description: 'long polls are woken only by fsynced (acks all) appends; an acks 1 message waits for maxWait',
  },
  {
    name: 'session-default-3s',
    breaks: 'MQ-C5',
    description: "a join without sessionTimeoutMs gets 3 s (Kafka's heartbeat interval), not the spec's 10 s",
  },
  {
    name: 'retention-in-seconds',
    breaks: 'MQ-C7',
    description: 'retention reads retentionMs as seconds: closed segments are deleted 1000 times too early',
  },
  {
    name: 'roll-drops-pending-batch',
    breaks: 'MQ-I2',
    description:
      'when a batch crosses segmentBytes, the part meant for the full segment is acknowledged but never written',
  },
  {
    name: 'fetch-skips-segment-rest',
    breaks: 'MQ-I2',
    description:
      "a fetch whose maxBytes ends inside a segment goes on to the next segment, skipping the rest of this one (found by the k6 full profile's body checks)",
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
  // Tag filtering (the book's message filtering).
  {
    name: 'tags-limit-before-filter',
    breaks: 'MQ-C9',
    description:
      'a filtered fetch reads maxBytes of the log and filters those: a batch whose maxBytes is reached among skipped messages answers none though a match follows',
  },
  {
    name: 'tags-next-offset-at-last-match',
    breaks: 'MQ-C9',
    description:
      'a filtered fetch answers nextOffset after its last match (its offset when none), not past the messages it skipped: consumers re-read them',
  },
  {
    name: 'tags-match-all',
    breaks: 'MQ-C9',
    description: 'a filtered fetch answers the messages carrying every tag named, not any of them',
  },
  {
    name: 'tags-not-in-record',
    breaks: 'MQ-C9',
    description: 'tags are kept in the in-memory index only, never written with the record: fetched messages have none',
  },
  {
    name: 'tags-match-ignores-case',
    breaks: 'MQ-C9',
    description: 'a filtered fetch matches tags case-insensitively: `red` also answers messages tagged `RED`',
  },
  {
    name: 'roll-keeps-batch-tags',
    breaks: 'MQ-C9',
    description:
      "a batch that crosses a segment roll keeps the full segment's tags for the new one: its tag index is shifted until a restart",
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
  // Delayed messages (delay-store.ts).
  {
    name: 'delay-ignored',
    breaks: 'MQ-C10',
    description: 'a message produced with delayMs is appended at once (readable before its time)',
  },
  {
    name: 'delay-in-seconds',
    breaks: 'MQ-C10',
    description: 'delayMs is read as seconds: a delayed message comes 1,000 times too late',
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
  // From the delayed-message blind bugs (fixtures/blind-bugs/20-distributed-message-queue/): each was missed before
  // its check was strengthened.
  {
    name: 'delay-cap-in-seconds',
    breaks: 'MQ-C10',
    description: 'a hand-written seven-day cap on delayMs is in seconds: a delay above 604,800 ms is refused with 400',
  },
  {
    name: 'delay-timer-not-rearmed',
    breaks: 'MQ-C10',
    description:
      'an armed timer is never moved earlier: a shorter delay produced after a longer one waits for the longer one',
  },
  {
    name: 'delayed-key-ignored',
    breaks: 'MQ-F6',
    description: "a keyed delayed message is kept for partition 0, not its key's (the answer names the key's)",
  },
  {
    name: 'delay-due-in-produce-order',
    breaks: 'MQ-F6',
    description:
      'delayed messages due at once (at a restart) are appended in produce order, not deliverAt order (ties in produce order)',
  },
  {
    name: 'delay-kept-on-refused-batch',
    breaks: 'MQ-C10',
    description:
      'a batch refused for an unknown partition still keeps its delayed messages, appended when they are due',
  },
  {
    name: 'delay-unsupported-appended-at-once',
    breaks: 'MQ-C8',
    description:
      'a cluster broker, which cannot keep delayed messages, appends them at once instead of refusing them (422 delay_not_supported)',
    manifest: CLUSTER_MANIFEST,
  },
  // The idempotent producer.
  {
    name: 'producer-sequence-gap-accepted',
    breaks: 'MQ-C11',
    description: "an idempotent batch past its producer's next sequence is appended (a lost batch goes unnoticed)",
  },
  {
    name: 'producer-dedup-ignores-partition',
    breaks: 'MQ-C11',
    description:
      "one producer state for every partition: a producer's first batch to a second partition is taken for a retry of its first batch to the first",
  },
  {
    name: 'producer-dedup-ignores-producer',
    breaks: 'MQ-C11',
    description:
      "one producer state for every producer of a partition: a second producer's first batch is refused (or taken for the first's retry)",
  },
  {
    name: 'producer-dedup-in-memory-only',
    breaks: 'MQ-F8',
    description:
      'the producer ID and sequence are kept in memory, not written with the records: after a restart a retried batch is refused or appended again',
  },
  {
    name: 'producer-acks0-retry-appended',
    breaks: 'MQ-C11',
    description: 'a retried idempotent batch sent with acks 0 skips the sequence check and is appended a second time',
  },
  {
    name: 'producer-repeat-ignores-length',
    breaks: 'MQ-C11',
    description:
      "a batch with one of the producer's remembered sequences but another number of messages is answered as that batch's repeat, not 409",
  },
  {
    name: 'producer-remembers-every-batch',
    breaks: 'MQ-C11',
    description:
      "a producer's batches older than its last 5 on a partition are still remembered: their retry is answered as a repeat, not 409",
  },
  {
    name: 'producer-shape-explicit-partitions-only',
    breaks: 'MQ-C11',
    description:
      'the one-partition rule of an idempotent batch looks at explicit partitions only: a batch whose keys hash to two partitions is appended to both',
  },
  {
    name: 'producer-state-per-partition-number',
    breaks: 'MQ-C11',
    description:
      "the producer state is shared by the partitions of one number across topics: a producer's first batch to a second topic is taken for a retry of one to the first",
  },
  {
    name: 'producer-state-from-active-segment',
    breaks: 'MQ-F8',
    description:
      "at a restart the producer state is rebuilt from the active segment only: retries of the producer's batches in closed segments are refused",
  },
  {
    name: 'producer-409-expected-swapped',
    breaks: 'MQ-C11',
    description:
      'the 409 out_of_order_sequence names the sequence sent as the one expected (expectedSequence) and the other way round',
  },
  // Replication (the cluster manifest, manifest.cluster.json: three brokers).
  {
    name: 'follower-serves-produce',
    breaks: 'MQ-C8',
    description:
      'a broker that does not lead a partition appends a produce to its own copy instead of sending it to the leader',
    manifest: CLUSTER_MANIFEST,
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
    name: 'acks-all-until-across-partitions',
    breaks: 'MQ-C8',
    description:
      "acks=all waits on every partition of the batch for the batch's highest offset on any: a batch to two partitions of one leader whose ends differ times out 503",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'min-insync-not-pushed',
    breaks: 'MQ-C8',
    description:
      'the topic configs the controller sends the other brokers leave minInsyncReplicas out: they describe (and apply) the default',
    manifest: CLUSTER_MANIFEST,
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
] as const satisfies readonly { name: string; breaks: string; description: string; manifest?: string }[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
