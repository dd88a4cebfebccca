// Deliberately broken variants of the reference, one check each (IDs from specs/20-distributed-message-queue/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
import { FAULT_MUTANTS } from './mutants-faults.ts';

/** The reference started as three brokers: the replication mutants show only there. */
const CLUSTER_MANIFEST = new URL('./manifest.cluster.json', import.meta.url).pathname;

const LISTED = [
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
    name: 'lone-surrogate-kept',
    breaks: 'MQ-C3',
    description:
      'a key or value with a lone UTF-16 surrogate is taken, not refused 400: it reads back with U+FFFD in its place',
  },
  {
    name: 'long-poll-ignored',
    breaks: 'MQ-C4',
    description: 'fetch answers an empty batch at once whatever maxWait says (no long polling)',
  },
  {
    name: 'fetch-budget-reset-per-segment',
    breaks: 'MQ-C4',
    description:
      "a fetch that reaches the next segment answers that segment's first message whatever maxBytes has left (beyond the batch's first)",
  },
  {
    name: 'retention-by-first-append',
    breaks: 'MQ-C7',
    description:
      "a segment's time for retention is its first append's: a closed segment is removed by its oldest message, with younger ones in it",
  },
  {
    name: 'retention-runs-once',
    breaks: 'MQ-C7',
    description:
      'retention is scheduled with setTimeout, not setInterval: one pass 5 s after the start, none after, so nothing written later is ever removed',
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
    name: 'delay-sweep-takes-nearly-due',
    breaks: 'MQ-C10',
    description:
      "the delay timer's sweep also appends the messages due within the next 100 ms: one due just after another is appended before its deliverAt",
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
  ...FAULT_MUTANTS,
] as const satisfies readonly { name: string; breaks: string; description: string; manifest?: string }[];

/** Every mutant; the cluster's need etcd, where a cluster keeps its state (skipped with that reason without it). */
export const MUTANTS = LISTED.map((m) => ('manifest' in m ? { ...m, needs: ['SDGRADE_ETCD_URL'] as const } : m));

export type MutantName = (typeof LISTED)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
