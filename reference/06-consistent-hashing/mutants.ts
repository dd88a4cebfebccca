// Deliberately broken variants of the reference, one check each (IDs from specs/06-consistent-hashing/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
// The harness self-test (`node bin/sdgrade.js mutants 06`) must catch every one with the check named for it.
export interface Mutant {
  name: string;
  /** The catalog check that must fail against this mutant. */
  breaks: string;
  description: string;
  /** Deployment settings the mutant needs (the algorithm whose code it breaks). */
  env?: Readonly<Record<string, string>>;
  /** Settings the mutant's deployment declares (the configuration that goes with its env). */
  settings?: Readonly<Record<string, string | number | boolean>>;
}

export const MUTANTS = [
  {
    name: 'unstable-hash',
    breaks: 'CH-I1',
    description: 'the hash is salted with a random value per process: another instance, or a restart, moves keys',
  },
  {
    name: 'modulo-hashing',
    breaks: 'CH-I2',
    description: "the book's rehashing problem: owner = servers[hash(key) % N], so a change moves most keys",
  },
  {
    name: 'replicas-same-server',
    breaks: 'CH-I3',
    description: 'replicas are the next virtual nodes clockwise, without skipping those of a server already chosen',
  },
  {
    name: 'weights-ignored',
    breaks: 'CH-I4',
    description: 'every server gets the same number of virtual nodes whatever its weight',
  },
  {
    name: 'wraparound-bug',
    breaks: 'CH-I5',
    description: 'a key past the last virtual node is not sent round to the first one: index out of range, a 500',
  },
  {
    name: 'stale-owner-cache',
    breaks: 'CH-F1',
    description: 'owners are memoised per key and the memo is not cleared when the membership changes',
  },
  {
    name: 'memory-only-membership',
    breaks: 'CH-F2',
    description: 'membership is kept in memory only (DATA_DIR is ignored): a restart forgets every server',
  },
  { name: 'add-answers-200', breaks: 'CH-C1', description: 'adding a new server answers 200 instead of 201' },
  {
    name: 'weight-change-keeps-version',
    breaks: 'CH-C1',
    description: "re-adding a server with a new weight changes its weight but not the membership's version",
  },
  {
    name: 'version-is-timestamp',
    breaks: 'CH-C1',
    description: 'the version is the time of the change in ms: it increases with every change, but not by one',
  },
  {
    name: 'over-limit-stored',
    breaks: 'CH-C1',
    description:
      'the 257th server is stored before the limit is checked: the 409 too_many_servers leaves it in the ring',
  },
  {
    name: 'empty-ring-404',
    breaks: 'CH-C2',
    description: 'a lookup on an empty ring answers 404 not_found instead of 409 no_servers',
  },
  {
    name: 'ids-case-folded',
    breaks: 'CH-C1',
    description: 'server IDs are folded to lower case: "CACHE-A" is taken for the known "cache-a" (200, not 201)',
  },
  {
    name: 'key-limit-in-bytes',
    breaks: 'CH-C2',
    description: "a key's 256-character limit is counted in UTF-8 bytes: 256 characters of é are refused with 400",
  },
  {
    name: 'batch-sorted',
    breaks: 'CH-C3',
    description: 'batch results come back sorted by key, not in the order of the request',
  },
  {
    name: 'stats-in-percent',
    breaks: 'CH-C4',
    description: 'statistics give shares in percent (0-100), not fractions of 1',
  },
  {
    name: 'health-plain-text',
    breaks: 'CH-C5',
    description: 'readiness answers text/plain "ok", not the Health body',
  },
  {
    name: 'unvalidated-batch',
    breaks: 'CH-I6',
    description: "batchLookup reaches its handler without the spec's validation (the schema-driven bad-input check)",
  },
  // Blind bugs (fixtures/blind-bugs/06-consistent-hashing/) that the checks missed, kept caught from here on.
  {
    name: 'hash-space-missing-wrap',
    breaks: 'CH-C4',
    description: "hash-space shares leave out the arc past the ring's last point: they sum to less than 1",
  },
  {
    name: 'stats-stddev-unweighted',
    breaks: 'CH-C4',
    description: "the standard deviations compare each server's load with the unweighted mean, not its weight's share",
  },
  {
    name: 'stats-sample-from-one',
    breaks: 'CH-C4',
    description: 'the statistics sample is sample-1 .. sample-N instead of sample-0 .. sample-(N-1)',
  },
  {
    name: 'virtual-nodes-per-unit',
    breaks: 'CH-C4',
    description: 'every server reports the per-unit number of virtual nodes (200), whatever its weight',
  },
  {
    name: 'batch-dedups-keys',
    breaks: 'CH-C3',
    description: 'a batch answers a repeated key once: fewer results than keys',
  },
  {
    name: 'owner-key-trimmed',
    breaks: 'CH-C2',
    description: "getOwner trims the key's surrounding whitespace: ' a' is placed and echoed as 'a'",
  },
  {
    name: 'removal-in-memory',
    breaks: 'CH-F2',
    description: 'a removal is acknowledged unwritten (the next change writes it): a kill -9 right after it loses it',
  },
  {
    name: 'version-not-restored',
    breaks: 'CH-F2',
    description: 'a restart restores the servers but starts the version again from 0',
  },
  {
    name: 'write-behind-membership',
    breaks: 'CH-F2',
    description:
      'membership writes are deferred 1 s (coalesced): a change is acknowledged before it is stored (1 s, not less: ' +
      "CH-F2's kill follows the answer at once, but a loaded CI runner was seen to take over 100 ms to deliver it)",
  },
  {
    name: 'ring-ids-join-order',
    breaks: 'CH-I1',
    description:
      'ring servers are indexed in join order, not ID order: two virtual nodes at one point go to the first to join',
  },
  {
    name: 'jump-order-not-kept',
    breaks: 'CH-F3',
    description:
      "jump hash's bucket order is rebuilt in join order on every change and restart, never restored: a restart moves keys",
    env: { ALGORITHM: 'jump' },
  },
  {
    name: 'virtual-nodes-setting-ignored',
    breaks: 'CH-C4',
    description:
      'VIRTUAL_NODES never reaches the ring: a deployment configured (and declared) with 100 per unit of weight has 200',
    env: { VIRTUAL_NODES: '100' },
    settings: { virtualNodesPerUnit: 100 },
  },
  // Round 5 of the blind bugs (fixtures/blind-bugs/06-consistent-hashing/), one mutant each; their code is in
  // mutants-round5.ts (hooks and wrappers installed by main.ts), so the blind patches of app.ts, membership.ts and
  // maglev.ts keep applying.
  {
    name: 'put-keeps-weight',
    breaks: 'CH-C1',
    description: "a PUT without a weight keeps a known server's weight (a partial update) instead of the default 1",
  },
  {
    name: 'reweight-rejoins-last',
    breaks: 'CH-C1',
    description: 'a weight change deletes and re-inserts the server, which moves it to the end of the joining order',
  },
  {
    name: 'maglev-points-stale',
    breaks: 'CH-C1',
    description:
      "(ALGORITHM=maglev) a server's table entries are read without rebuilding the table after a change: stale counts",
    env: { ALGORITHM: 'maglev', MAGLEV_TABLE_SIZE: '4099' },
  },
  {
    name: 'stats-sample-capped',
    breaks: 'CH-C4',
    description: 'at most 10,000 sample keys are placed whatever `sample` asks (sampleKeys add up to 10,000)',
  },
  {
    name: 'batch-torn-chunks',
    breaks: 'CH-F1',
    description: 'a batch yields every 100 keys and reads the ring afresh per chunk: one batch spans two memberships',
  },
  {
    name: 'membership-as-object',
    breaks: 'CH-F3',
    description:
      'membership.json keeps weights as an object by ID: a restart lists all-digit IDs first, out of join order',
  },
  // Round 7 of the blind bugs: mutants-round7.ts (hooks and prototype wrappers installed by main.ts).
  {
    name: 'replicas-all-members-id-order',
    breaks: 'CH-I3',
    description: 'when n covers every member, replicas are the owner and then the others in ID order, not clockwise',
  },
  {
    name: 'vnode-label-no-separator',
    breaks: 'CH-I4',
    description:
      'virtual nodes hashed at id + i without a separator: `x1` shares half its points with `x`, and loses them',
  },
  {
    name: 'weight-capped-at-8',
    breaks: 'CH-C4',
    description: 'weights above 8 put only 8 units of virtual nodes on the ring (weight 16: 1,600 points, not 3,200)',
  },
  {
    name: 'stats-nominal-space-share',
    breaks: 'CH-C4',
    description: "the hash-space share reported is the weight's nominal share, not the ring's measured arcs",
  },
  {
    name: 'owner-key-nfc',
    breaks: 'CH-C2',
    description: 'getOwner normalizes the key to Unicode NFC (placed and echoed); batch lookups take it as sent',
  },
  {
    name: 'sample-share-three-decimals',
    breaks: 'CH-C4',
    description: 'sampleShare rounded to 3 decimals: no longer sampleKeys / sampleSize',
  },
  {
    name: 'emptied-ring-restart-version-zero',
    breaks: 'CH-F3',
    description: 'a restart with every server removed starts the version again from 0',
  },
] as const satisfies readonly Mutant[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
