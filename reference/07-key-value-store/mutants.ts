// Deliberately broken variants of the reference, one check each (IDs from specs/07-key-value-store/catalog.yaml).
// MUTANT=<name> selects one; the code that breaks sits where the broken thing lives, in an
// `if (mutant === '<name>')` (or an option set from it) marked `MUTANT <name>`. The self-test must catch them all.
import type { Mutant } from '../../harness/chapters/chapter-module.ts';

/** Four nodes with N=3: the deployment of the `four-nodes` variant, where some node is outside each key's replicas. */
const FOUR_NODES_MANIFEST = new URL('./manifest.four-nodes.json', import.meta.url).pathname;

export const MUTANTS = [
  { name: 'oversize-accepted', breaks: 'KV-C1', description: 'values over 10 KB are stored instead of 413' },
  {
    name: 'oversize-stored-then-refused',
    breaks: 'KV-C1',
    description: 'a value over 10 KB is written before it is refused with 413: a rejected request changes the key',
  },
  { name: 'delete-ignored', breaks: 'KV-C2', description: 'a delete is acknowledged but no tombstone is written' },
  { name: 'gossip-off', breaks: 'KV-C3', description: 'no gossip: a node never hears of the others (all down)' },
  {
    name: 'replica-hides-tombstones',
    breaks: 'KV-C4',
    description: "a node's own replica leaves deletions out, so a deleted key looks never written",
  },
  { name: 'health-plain-text', breaks: 'KV-C5', description: 'readiness answers text/plain "ok", not the Health body' },
  {
    name: 'no-sibling-cap',
    breaks: 'KV-C6',
    description: 'a write past 100 versions of a key is stored instead of refused with 409 too_many_siblings',
  },
  {
    name: 'plain-version-vectors',
    breaks: 'KV-I1',
    description:
      'versions compared as plain vector clocks: two writes through one node with the same context look ordered, ' +
      'and the first is silently dropped',
  },
  {
    name: 'no-repair',
    breaks: 'KV-I1',
    description:
      'neither anti-entropy nor hinted handoff: replicas that missed writes during a fault never catch up (nothing ' +
      'is lost to an R=N read, but they never converge)',
  },
  {
    name: 'read-local-only',
    breaks: 'KV-I2',
    description: "R is ignored: a read answers from the coordinator's own replica, which may be behind",
  },
  {
    name: 'last-writer-wins',
    breaks: 'KV-I3',
    description: 'concurrent versions are resolved by wall clock instead of kept as siblings',
  },
  {
    name: 'unvalidated-put',
    breaks: 'KV-I6',
    description: "putValue reaches its handler without the spec's validation (the schema-driven bad-input check)",
  },
  {
    name: 'anti-entropy-off',
    breaks: 'KV-I4',
    description: 'no Merkle-tree anti-entropy: an empty replacement node stays empty',
  },
  {
    name: 'actor-without-incarnation',
    breaks: 'KV-I4',
    description:
      "the actor ID is the node's name alone: a node replaced by an empty one reuses its predecessor's dots, and " +
      'its new writes take the place of acknowledged ones',
  },
  {
    name: 'ack-before-commit-log',
    breaks: 'KV-I5',
    description: 'writes are acknowledged from the memtable; the commit log is written every 5 s',
  },
  {
    name: 'replicas-on-one-node',
    breaks: 'KV-I5',
    description: "replicas are the next virtual nodes even when they are one physical node (chapter 06's ring mutant)",
  },
  {
    name: 'no-failure-detection',
    breaks: 'KV-F1',
    description: 'gossip never marks a member down, however long it has been silent',
  },
  {
    name: 'heartbeat-restarts-at-zero',
    breaks: 'KV-F1',
    description:
      'no gossip generation: a restarted node counts its heartbeat from 0 again and the others, who remember a ' +
      'higher one, see it down about as long as it had been up',
  },
  {
    name: 'dot-from-context-only',
    breaks: 'KV-F1',
    description:
      "the next dot ignores the versions the coordinator holds: a blind write reuses an acknowledged version's dot " +
      'and takes its place',
  },
  {
    name: 'no-rpc-timeout',
    breaks: 'KV-F2',
    description: 'calls to other nodes have no deadline: a paused replica holds a request up',
  },
  {
    name: 'hint-counted-as-ack',
    breaks: 'KV-F2',
    description:
      'a hint the coordinator keeps for an unreachable replica counts toward W: a W=3 write with a replica paused ' +
      'says acks: 3 while two nodes hold it',
  },
  {
    name: 'hints-never-delivered',
    breaks: 'KV-F3',
    description: 'hints are stored for an unreachable replica but never handed over',
  },
  {
    name: 'quorum-failure-acknowledged',
    breaks: 'KV-F3',
    description:
      'a write stored on fewer than W replicas is acknowledged instead of 503: a cut-off minority accepts writes',
  },
  {
    name: 'short-rpc-timeout',
    breaks: 'KV-F4',
    description: 'calls to other nodes give up after 60 ms: slow links look like dead nodes',
  },
  // From the blind bugs (fixtures/blind-bugs/07-key-value-store/): each one the checks missed before they were
  // strengthened.
  {
    name: 'context-repeated-actor-last-wins',
    breaks: 'KV-C1',
    description: 'a context naming an actor twice keeps the later counter, not the union (a:5,a:0 covers nothing)',
  },
  {
    name: 'delete-ignores-w',
    breaks: 'KV-C2',
    description: "a delete's ?w= is validated but the tombstone is coordinated with the cluster's W",
  },
  {
    name: 'read-counts-failed-replies',
    breaks: 'KV-F1',
    description: 'a remote read that failed counts toward R: an r=N read answers 200 with a node down',
  },
  {
    name: 'last-heard-in-seconds',
    breaks: 'KV-F1',
    description: "the cluster view's lastHeardMsAgo is in seconds",
  },
  {
    name: 'siblings-lost-on-replay',
    breaks: 'KV-I5',
    description: 'commit-log replay keeps the last logged version of a key: concurrent siblings are lost on restart',
  },
  {
    name: 'sstables-oldest-first',
    breaks: 'KV-I5',
    description: 'the read path searches SSTables oldest first: after two restarts a superseded version reads',
  },
  {
    name: 'hints-forgotten-on-restart',
    breaks: 'KV-F3',
    description:
      'the hints log is emptied at start: a node killed and restarted while it holds hints for a cut-off replica ' +
      'never hands them over (anti-entropy repairs the replica later)',
  },
  {
    name: 'merkle-counts-versions',
    breaks: 'KV-I4',
    description:
      'a Merkle leaf hashes how many versions each key has, not their dots: a replica that missed an update (its ' +
      'hint lost) is never repaired',
  },
  // From the StrykerJS sample (specs/07-key-value-store/README.md, Grading power): survivors that were real gaps.
  {
    name: 'sstables-forgotten-on-start',
    breaks: 'KV-I5',
    description:
      'a restart loads no SSTable: what the first restart flushed from the commit log is gone after a second one',
  },
  {
    name: 'index-misses-block-start',
    breaks: 'KV-I5',
    description:
      "an SSTable's index search takes the first key of each block (every 16th key) for the block before, so a " +
      "node no longer finds those keys once its commit log is flushed; reads through the cluster merge the others'",
  },
  {
    name: 'flush-generation-counts-down',
    breaks: 'KV-I5',
    description:
      'flush() numbers new SSTables downwards, so the second flush of a life overwrites an SSTable written before ' +
      'the last restart (only a memtable that fills twice in one life shows it: MEMTABLE_BYTES=1024)',
    env: { MEMTABLE_BYTES: '1024' },
  },
  // Code only a cluster larger than N runs (the forwarding by a node that is not a replica of the key): graded on the
  // four-nodes variant's manifest.
  {
    name: 'forwarded-with-cluster-quorum',
    breaks: 'KV-C1',
    description:
      "a request reaching a node that holds no replica of its key is forwarded with the cluster's W and R, not the " +
      "request's w and r",
    manifest: FOUR_NODES_MANIFEST,
  },
  {
    name: 'forward-deadline-equals-rpc-timeout',
    breaks: 'KV-F2',
    description:
      'a non-replica forwards with the bare node-to-node deadline, so a coordinator that spends it on a paused ' +
      "replica is abandoned before its stand-in acks: a w=N write answers 503 (b07's blind bug of the same name)",
    manifest: FOUR_NODES_MANIFEST,
  },
  {
    name: 'anti-entropy-beyond-replicas',
    breaks: 'KV-C4',
    description:
      "anti-entropy exchanges the keys either node replicates, not those both do: a node outside a key's N " +
      'replicas is sent copies of it (only a cluster larger than N shows it)',
    manifest: FOUR_NODES_MANIFEST,
  },
  // Blind bugs of round 6 (fixtures/blind-bugs/07-key-value-store/, helper b07) that no check caught before.
  {
    name: 'empty-value-reads-as-deleted',
    breaks: 'KV-C1',
    description: 'the read tells tombstones apart by truthiness, so a stored empty-string value reads as 404',
  },
  {
    name: 'quorum-bound-is-cluster-size',
    breaks: 'KV-C1',
    description:
      'w and r are bounded by the number of nodes, not N: on 4 nodes with N=3, w=4 is coordinated (503) instead ' +
      'of refused with 400',
    manifest: FOUR_NODES_MANIFEST,
  },
  {
    name: 'w1-write-skips-replication',
    breaks: 'KV-C4',
    description:
      "a write acknowledged by the coordinator's own copy (w=1) is never sent to the other replicas; only " +
      'anti-entropy spreads it, seconds later',
  },
  {
    name: 'sibling-cap-off-by-one',
    breaks: 'KV-C6',
    description: 'the sibling cap refuses the write that would make the 100th version (>= instead of >)',
  },
  {
    name: 'absent-key-short-quorum-404',
    breaks: 'KV-F1',
    description:
      'a read of a key no answering replica holds is 404 even with fewer than R replies (503 quorum_not_reached)',
  },
  {
    name: 'anti-entropy-skips-deleted-keys',
    breaks: 'KV-I4',
    description:
      'anti-entropy leaves keys holding only tombstones out of the Merkle tree, so a replacement node never gets ' +
      'the deletions',
  },
  {
    name: 'deletion-hides-concurrent-write',
    breaks: 'KV-I3',
    description:
      'a read finding a tombstone among the siblings answers 404, hiding a write concurrent with the delete ' +
      '(blind bug deletion-hides-concurrent-write, round 8)',
  },
  {
    name: 'clock-folds-dots-past-gaps',
    breaks: 'KV-I3',
    description:
      "a context's single dot above a gap folds into the vector (a:1,a@3 reads as a:3), so a write covers a " +
      'sibling it never saw (blind bug clock-folds-dots-past-gaps, round 8)',
  },
  {
    name: 'hint-id-per-key',
    breaks: 'KV-F3',
    description:
      'a hint is identified by replica and key only: a second version of a key its replica missed is not hinted ' +
      '(blind bug hint-id-per-key, round 8)',
  },
  {
    name: 'hints-pending-counts-replicas',
    breaks: 'KV-F3',
    description:
      'stats.hintsPending counts the replicas hints are held for, not the hinted writes (blind bug ' +
      'hints-pending-counts-replicas, round 8)',
  },
  {
    name: 'ring-share-by-token-count',
    breaks: 'KV-C3',
    description:
      "the cluster view's ringShare is the member's share of virtual nodes, not of the hash space its tokens own " +
      '(blind bug ring-share-by-token-count, round 8)',
  },
  {
    name: 'sstable-sorted-by-locale',
    breaks: 'KV-I5',
    description:
      'an SSTable is sorted by localeCompare but searched by code unit: after a restart (its start-up flush) keys ' +
      "with mixed case, '_' or ':' are not found (blind bug sstable-sorted-by-locale, round 8)",
  },
  {
    name: 'retry-after-in-milliseconds',
    breaks: 'KV-F2',
    description:
      "a 503 quorum_not_reached says Retry-After: 1000, the node-to-node deadline in milliseconds, where the spec's " +
      'header is whole seconds from 1 to 10 (blind bug retry-after-in-milliseconds, round 8)',
  },
  {
    name: 'local-replica-list-sorted',
    breaks: 'KV-C4',
    description:
      "getLocalReplica's replicas sorted by name, not in ring order from the key's position (blind bug " +
      'local-replica-list-sorted, round 8)',
  },
  {
    name: 'batched-read-misaligned',
    breaks: 'KV-I2',
    description:
      'a batched remote read answers each waiter by its position, not its key: a key read twice in one turn shifts ' +
      "the reads after it onto another key's versions (blind bug batched-read-misaligned, round 8)",
  },
] as const satisfies readonly Mutant[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
