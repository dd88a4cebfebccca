// Deliberately broken variants of the reference, one check each (IDs from specs/08-unique-id-generator/catalog.yaml).
// MUTANT=<name> selects one; the code that breaks sits where the broken thing lives, in an
// `if (mutant === '<name>')` marked `MUTANT <name>`. The harness self-test must catch every one of them.
export interface Mutant {
  name: string;
  /** The catalog check that must fail against this mutant. */
  breaks: string;
  description: string;
  /** A real dependency the mutant needs to show (its env variable), and the environment that selects that path. */
  needs?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Settings declared for this mutant's run (as the reference's manifest declares them). */
  settings?: Readonly<Record<string, string | number | boolean>>;
}

export const MUTANTS = [
  // Found by blind bugs (fixtures/blind-bugs/08-unique-id-generator): the checks were strengthened to catch each.
  {
    name: 'sequence-overflows-into-machine',
    breaks: 'UID-I6',
    description:
      "a batch that runs a millisecond's sequence out issues a 4,097th number, carried into the machine field",
  },
  {
    name: 'clock-file-ignored',
    breaks: 'UID-F1',
    description:
      'the nodes never read the clock offset file, though the manifest declares clockControl: a step shows nowhere',
    settings: { clockControl: true },
  },
  {
    name: 'lease-file-behind',
    breaks: 'UID-F2',
    description:
      'the high-water file holds the millisecond that took the lease, not its end: after kill -9 it is behind',
  },
  {
    name: 'restart-sequence-zero',
    breaks: 'UID-F5',
    description:
      "a fresh generator counts the last run's millisecond from 0 again: restarted onto a clock held in that " +
      'millisecond, it reissues its IDs from 1',
  },
  {
    name: 'long-step-waited-out',
    breaks: 'UID-F1',
    description:
      'a clock step back of up to 5 s (not 5 ms) is spun out, holding the answers, instead of refused with 503',
  },
  {
    name: 'decode-datacenter-four-bits',
    breaks: 'UID-C3',
    description: 'decoding masks the datacenter with 4 bits: datacenters 16..31 decode as 0..15',
  },
  {
    name: 'retry-after-in-ms',
    breaks: 'UID-F1',
    description: "a refusal's Retry-After counts milliseconds: 3000 for a clock 3 s behind",
  },
  {
    name: 'id-as-number',
    breaks: 'UID-C1',
    description: 'the ID travels as a JSON number (loses precision above 2^53)',
  },
  { name: 'batch-short', breaks: 'UID-C2', description: 'a batch answers one ID fewer than asked for' },
  {
    name: 'decode-accepts-overflow',
    breaks: 'UID-C3',
    description: 'decoding takes a 19-digit value above 2^63 - 1 and answers 200 (wrapped) instead of 400',
  },
  {
    name: 'health-plain-text',
    breaks: 'UID-C4',
    description: 'readiness answers text/plain "ok", not the Health body',
  },
  {
    name: 'random-sequence',
    breaks: 'UID-I1',
    description: 'the 12-bit sequence is random instead of a counter: IDs of one millisecond collide',
  },
  {
    name: 'batch-reversed',
    breaks: 'UID-I2',
    description: 'a batch is answered newest first (unique, not increasing)',
  },
  {
    name: 'node-clock-skew',
    breaks: 'UID-I3',
    description: 'each node reads a clock 1 s x machine ID behind: unique and monotonic, but not sortable across nodes',
  },
  {
    name: 'bits-misplaced',
    breaks: 'UID-I4',
    description: 'the datacenter and machine fields are swapped in the layout',
  },
  {
    name: 'seconds-not-millis',
    breaks: 'UID-I4',
    description: 'the 41-bit timestamp counts seconds since the epoch, not milliseconds',
  },
  {
    name: 'sign-bit-used',
    breaks: 'UID-I5',
    description: 'Unix epoch and a 42-bit timestamp field from bit 22 up: the sign bit is set',
  },
  {
    name: 'sequence-wrap',
    breaks: 'UID-I6',
    description: 'the 4,097th ID of a millisecond wraps to sequence 0 instead of waiting: a duplicate',
  },
  {
    name: 'clock-rollback-ignored',
    breaks: 'UID-F1',
    description: 'a clock behind the last ID is used as is: smaller IDs, and duplicates',
  },
  {
    name: 'rollback-checked-in-seconds',
    breaks: 'UID-F1',
    description:
      'the clock is compared with the last ID in whole seconds: a sub-second step back within the same second is ' +
      'used as is (smaller IDs, duplicates)',
  },
  {
    name: 'no-retry-after',
    breaks: 'UID-F1',
    description: 'a 503 clock_moved_backwards has no Retry-After header (the spec requires it)',
  },
  {
    name: 'high-water-not-persisted',
    breaks: 'UID-F2',
    description: 'the last millisecond used is not kept across restarts: a restart onto an earlier clock reissues IDs',
  },
  {
    name: 'fixed-machine-id',
    breaks: 'UID-F3',
    description: 'MACHINE_ID is ignored and every node is machine 0: nodes collide',
  },
  {
    name: 'unvalidated-batch',
    breaks: 'UID-I7',
    description: "generateIds reaches its handler without the spec's validation (the schema-driven bad-input check)",
  },
  // Found by a StrykerJS survivor (snowflake.ts, the wait for a clock up to 5 ms behind made `while (false)`).
  {
    name: 'small-step-not-waited',
    breaks: 'UID-F1',
    description:
      'a clock step back of up to 5 ms is neither waited out nor refused: the millisecond already used is used again',
  },
  {
    name: 'node-id-32-accepted',
    breaks: 'UID-F3',
    description:
      'DATACENTER_ID and MACHINE_ID are checked against 2^5 = 32, not 31: a node given 32 starts (its IDs carry it ' +
      'into the field above) instead of refusing with exit 2 (blind bug, round 5)',
  },
  // Found by blind bugs on the ticket server (GENERATOR=ticket, a real PostgreSQL): graded under that path.
  {
    name: 'ticket-sequence-cache',
    breaks: 'UID-I3',
    description:
      'the ticket sequence hands each database connection a block of 64 values: IDs from different nodes interleave ' +
      'out of order (a later ID from one node is smaller than an earlier one from another)',
    needs: ['SDGRADE_DATABASE_URL'],
    env: { GENERATOR: 'ticket', DATABASE_URL: '${env:SDGRADE_DATABASE_URL}' },
  },
  {
    name: 'ticket-batch-string-sort',
    breaks: 'UID-F4',
    description:
      'a ticket batch is sorted as strings: one that crosses a power of ten ("9", "10") is not increasing (shown on ' +
      "UID-F4's fresh database, whose sequence starts at 1)",
    needs: ['SDGRADE_DATABASE_URL'],
    env: { GENERATOR: 'ticket', DATABASE_URL: '${dep.database}' },
  },
  // Found by StrykerJS survivors on the ticket server (graded by UID-F4 on a private PostgreSQL the harness crashes).
  {
    name: 'ticket-unavailable-no-retry-after',
    breaks: 'UID-F4',
    description: 'with the ticket database down, the 503 unavailable has no Retry-After header (the spec requires it)',
    needs: ['SDGRADE_DATABASE_URL'],
    env: { GENERATOR: 'ticket', DATABASE_URL: '${dep.database}' },
  },
  {
    name: 'ticket-health-unchecked',
    breaks: 'UID-F4',
    description: 'readiness reports the ticket database up without asking it: still up while it is down',
    needs: ['SDGRADE_DATABASE_URL'],
    env: { GENERATOR: 'ticket', DATABASE_URL: '${dep.database}' },
  },
  {
    name: 'ticket-sequence-not-created',
    breaks: 'UID-F4',
    description:
      'the ticket server never creates its sequence (it exists on a database used before): on a fresh one no ID is issued',
    needs: ['SDGRADE_DATABASE_URL'],
    env: { GENERATOR: 'ticket', DATABASE_URL: '${dep.database}' },
  },
  // Found by blind bugs, round 5 (graded by UID-F4's crash landing on batches in flight).
  {
    name: 'ticket-only-econnrefused-503',
    breaks: 'UID-F4',
    description:
      'only a refused connection is mapped to 503 unavailable: a query the database crash cuts off mid-way answers 500',
    needs: ['SDGRADE_DATABASE_URL'],
    env: { GENERATOR: 'ticket', DATABASE_URL: '${dep.database}' },
  },
  // Found by a blind bug, round 5 (graded by UID-F5's step back inside a batch, on a held clock).
  {
    name: 'batch-partial-on-refusal',
    breaks: 'UID-F5',
    description:
      'a batch cut short by a clock step back (more than 5 ms) answers 200 with the IDs made so far, fewer than count',
  },
  // Found by blind bugs, round 7.
  {
    name: 'high-water-far-ahead-ignored',
    breaks: 'UID-F2',
    description:
      'a high-water mark more than 10 minutes ahead of the clock is taken for a corrupt file and ignored: a restart ' +
      'onto a clock set back further than that reissues IDs',
  },
  {
    name: 'batch-borrows-next-millisecond',
    breaks: 'UID-F5',
    description:
      "when a millisecond's 4,096 run out the generator takes the next millisecond at once instead of waiting for " +
      'its clock to reach it: IDs of a millisecond the clock has not reached',
  },
] as const satisfies readonly Mutant[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
