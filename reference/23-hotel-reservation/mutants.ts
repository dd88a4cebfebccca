// Deliberately broken variants of the reference, one check each (IDs from specs/23-hotel-reservation/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.

/** Two services on one PostgreSQL schema and one Redis: a mutant that shows only across services is started so. */
const TWO_NODES_MANIFEST = new URL('./manifest.two-nodes.json', import.meta.url).pathname;

export const MUTANTS = [
  { name: 'health-plain-text', breaks: 'HR-C1', description: 'readiness answers text/plain "ok", not the Health body' },
  {
    name: 'unvalidated-input',
    breaks: 'HR-I1',
    description: "createRoomType reaches its handler without the spec's validation",
  },
  {
    name: 'room-type-inventory-dropped',
    breaks: 'HR-C2',
    description: 'a new room type is answered and stored with no rooms (totalInventory 0)',
  },
  {
    name: 'availability-ignores-rates',
    breaks: 'HR-C3',
    description: "availability answers every night at the room type's default rate, ignoring the daily rates set",
  },
  {
    name: 'replay-answers-201',
    breaks: 'HR-C4',
    description: 'a repeated reservation answers 201 (as if new) instead of 200',
  },
  {
    name: 'replay-ignores-guest',
    breaks: 'HR-C4',
    description: 'a reused reservationId with another guestId is answered as a replay (200), not 409',
  },
  {
    name: 'replay-ignores-hotel',
    breaks: 'HR-C4',
    description: 'a reused reservationId naming another hotel is answered as a replay (200), not 409 (StrykerJS)',
  },
  {
    name: 'replay-repriced',
    breaks: 'HR-C4',
    description:
      'a replay is priced again at the rates of now and refused 409 idempotency_key_reused when its total moved (a night of the stay repriced since), though the request is the same (blind bug replay-repriced-refused)',
  },
  {
    name: 'start-today-refused',
    breaks: 'HR-C4',
    description: 'a stay that starts today (UTC) is refused as 422 invalid_dates',
  },
  {
    name: 'horizon-on-last-night',
    breaks: 'HR-C3',
    description:
      "the 730-day horizon is counted to a range's last night, not its check-out day: a search or a reservation ending 731 days from today is accepted, not 422 (blind bug horizon-counts-last-night)",
  },
  {
    name: 'cache-key-without-room-type',
    breaks: 'HR-C3',
    description: 'the inventory cache is keyed by hotel and night only: two room types of a hotel share numbers',
  },
  {
    name: 'date-range-off-by-one',
    breaks: 'HR-I2',
    description: 'a reservation also takes the check-out day as a night (and a cancellation gives it back)',
  },
  {
    name: 'cancel-restores-twice',
    breaks: 'HR-I2',
    description: 'cancelling a cancelled reservation gives its rooms back again',
  },
  {
    name: 'no-overbooking-allowance',
    breaks: 'HR-I2',
    description: "the limit is 100% of the inventory, not the book's 110%",
  },
  {
    name: 'check-then-update-unlocked',
    breaks: 'HR-I3',
    description: "the inventory is checked outside the transaction, without a lock, then updated (the book's race)",
  },
  {
    name: 'overbooking-checked-on-cache',
    breaks: 'HR-I3',
    description: 'the 110% check reads the inventory cache (which lags the database), not the locked rows',
  },
  {
    name: 'optimistic-version-unchecked',
    breaks: 'HR-I3',
    description: 'optimistic locking whose UPDATE does not compare the version it read',
  },
  {
    name: 'constraint-missing',
    breaks: 'HR-I3',
    description: 'the database-constraint strategy on a table without its CHECK constraint',
  },
  {
    name: 'idempotency-key-not-unique',
    breaks: 'HR-I4',
    description:
      'reservation_id is not unique, looked up before the transaction and inserted after the rooms are taken: copies sent at once both insert',
  },
  {
    name: 'key-not-rechecked-in-transaction',
    breaks: 'HR-I4',
    description:
      'the reservationId is looked up only before the transaction and inserted after the rooms are taken (the column stays unique): copies of a reservation that takes the last rooms, waiting behind its lock, are refused 409 instead of 200 (StrykerJS store.ts:281)',
  },
  {
    name: 'refusal-not-rechecked',
    breaks: 'HR-I4',
    description:
      "the reservationId is inserted after the rooms are taken instead of claimed first (INSERT ... ON CONFLICT before the rooms): on PostgreSQL a copy waits behind the first copy's row locks, not its key, and is refused 409 when that copy took the last rooms",
  },
  {
    name: 'cancel-not-streamed',
    breaks: 'HR-I4',
    description: 'a cancellation is not fed to the change stream: availability keeps its rooms reserved',
  },
  {
    name: 'commit-not-awaited',
    breaks: 'HR-F2',
    description:
      'a reservation answers 201 once its transaction is under way, not once it committed: a transaction the database loses is acknowledged anyway',
  },
  {
    name: 'db-loss-answers-500',
    breaks: 'HR-F2',
    description: 'a lost PostgreSQL connection escapes as a 500, not as 503 unavailable',
  },
  {
    name: 'cancel-outside-transaction',
    breaks: 'HR-F2',
    description:
      'a cancellation turns the status on its own and gives the rooms back in a second step: a database lost in between keeps them taken for good (blind bug)',
  },
  {
    name: 'key-claimed-outside-transaction',
    breaks: 'HR-F5',
    description:
      'the reservationId is claimed on its own, committed before the transaction takes the rooms, and deleted if that fails: a database lost between the two leaves a reservation with no rooms, and the retry answers 200 with it (blind bug pg-key-claimed-before-rooms, PostgreSQL)',
  },
  {
    name: 'stream-fed-in-transaction',
    breaks: 'HR-F5',
    description:
      'the nights a reservation took are fed to the change stream inside its transaction, before the commit: one whose COMMIT is lost leaves the cache showing rooms nobody reserved (blind bug cache-fed-before-commit, PostgreSQL)',
  },
  {
    name: 'replay-not-refed',
    breaks: 'HR-F5',
    description:
      'a replay no longer feeds its nights to the change stream: a reservation whose COMMIT answer was lost (503) stays out of the cache after the retry answers 200 (blind bug replay-does-not-refeed-cache, PostgreSQL)',
  },
  {
    name: 'stream-stalls-after-flush',
    breaks: 'HR-F6',
    description:
      'a change pushed while the change stream writes a batch to Redis is not scheduled once the write succeeds: the last changes of a burst wait for the next change (blind bug stream-stalls-after-busy-flush, Redis)',
  },
  {
    name: 'redis-namespace-kept',
    breaks: 'HR-F7',
    description:
      'the Redis namespace is not emptied at start: changes a killed predecessor had not written yet stay missing, and those nights show their old numbers (blind bug redis-namespace-kept-at-start, Redis)',
  },
  {
    name: 'namespace-emptied-only-at-start',
    breaks: 'HR-F7',
    description:
      'the Redis namespace is emptied only if Redis answers at start: restarted while Redis is away, the service uses it once it is back with what a killed predecessor left there (its unwritten changes missing), and those nights show their old numbers',
  },
  {
    name: 'namespace-emptied-one-page',
    breaks: 'HR-F7',
    description:
      'the Redis namespace is emptied at start with one SCAN page (COUNT 1000, no cursor loop): on a Redis holding more keys, part of what a killed predecessor left stays, and those nights show their old numbers (blind bug redis-emptied-one-scan-page)',
  },
  {
    name: 'namespace-flushed',
    breaks: 'HR-F7',
    description:
      "the Redis namespace is emptied at start with FLUSHDB ASYNC: every other tenant's keys in that Redis database are deleted at each start (blind bug redis-emptied-with-flushdb, Redis)",
  },
  {
    name: 'namespace-per-start',
    breaks: 'HR-C7',
    description:
      'each start of the service caches under a Redis namespace of its own: two services on one database no longer share one cache, and a reservation or cancellation made through one never reaches what the other cached (blind bug redis-namespace-per-start; two services, PostgreSQL and Redis)',
    manifest: TWO_NODES_MANIFEST,
  },
  {
    name: 'cache-fast-path-booking',
    breaks: 'HR-F3',
    description:
      'when the inventory cache shows the rooms free they are taken without the database check: a stale cache books past 110%',
  },
  {
    name: 'stream-drops-refused',
    breaks: 'HR-F3',
    description:
      'the change stream drops a batch the cache refused (Redis paused) instead of applying it once Redis is back: the cache keeps the numbers from before the pause (blind bug)',
  },
  {
    name: 'refused-on-stale-cache',
    breaks: 'HR-F3',
    description:
      'a reservation is refused 409 when the cache shows a night full, without asking the database: a stale cache refuses free rooms (blind bug)',
  },
  {
    name: 'cache-partial-hit-trusted',
    breaks: 'HR-F1',
    description:
      'availability reads the database only when the cache has none of the nights: after a restart, a night missing from a partly cached range shows nothing reserved (blind bug)',
  },
  {
    name: 'staff-auth-skipped',
    breaks: 'HR-C5',
    description: 'the ops writes (hotels, room types, rates) are answered without the staff key',
  },
  {
    name: 'delete-with-reservations',
    breaks: 'HR-C5',
    description: "a room type (or hotel) is deleted under its guests' confirmed reservations that are not over yet",
  },
  {
    name: 'replay-checked-against-today',
    breaks: 'HR-C5',
    description:
      "a repeated reservation is checked against today's room types and dates before it is answered as a replay: a cancelled reservation sent again after ops deleted its room type answers 404, not 200 (StrykerJS store.ts:251)",
  },
  {
    name: 'deadlock-not-retried',
    breaks: 'HR-F4',
    description:
      'the PostgreSQL store does not run a transaction aborted as a deadlock again: a constraint-strategy reservation (one range UPDATE, nights locked in scan order) racing an inventory change (nights locked in date order) answers 500',
  },
  {
    name: 'inventory-below-reserved-accepted',
    breaks: 'HR-I5',
    description:
      "a room type's inventory is lowered below what a night has reserved within 110%: that night is overbooked",
  },
  {
    name: 'inventory-change-keeps-version',
    breaks: 'HR-I5',
    description:
      "an inventory change keeps the nights' versions: the cache keeps the old totals (an entry of the same version is not replaced), and an optimistic reservation that read the old total commits against it, past 110% of the new one",
  },
  {
    name: 'night-made-with-stale-inventory',
    breaks: 'HR-I5',
    description:
      "a reservation makes its missing nights with the room type's inventory as it read it before, not under a lock: an inventory change in between is lost on those nights (no night is made ahead under this mutant, so every reservation makes its own, as for a night the daily job has not made yet)",
  },
  {
    name: 'inventory-change-not-streamed',
    breaks: 'HR-C6',
    description: 'an inventory change is not fed to the change stream: cached nights keep the old inventory',
  },
  {
    name: 'staff-key-case-folded',
    breaks: 'HR-C5',
    description:
      'the staff key is compared case-insensitively: the key in other letter case changes hotels (blind bug)',
  },
  {
    name: 'staff-key-prefix-accepted',
    breaks: 'HR-C5',
    description:
      'the staff key is compared over the length of the key given: any prefix of the key changes hotels (blind bug)',
  },
  {
    name: 'inventory-limit-rounded',
    breaks: 'HR-C5',
    description:
      'lowering the inventory checks the nights against 110% rounded to the nearest: 6 reserved allow lowering to 5 rooms (blind bug)',
  },
  {
    name: 'inventory-limit-inclusive',
    breaks: 'HR-C5',
    description:
      'lowering the inventory is refused when a night is at exactly 110% of the new total, not only over it (blind bug)',
  },
  {
    name: 'inventory-change-skips-empty-nights',
    breaks: 'HR-C6',
    description:
      'an inventory change is written only to nights with rooms reserved: a night whose reservations were all cancelled keeps the old total (blind bug)',
  },
  {
    name: 'delete-ignores-stay-under-way',
    breaks: 'HR-C5',
    description:
      'a delete counts only confirmed stays starting after today: a room type or hotel with a stay starting today is deleted (blind bug)',
  },
  {
    name: 'inventory-change-from-tomorrow',
    breaks: 'HR-C5',
    description:
      "an inventory change applies from tomorrow's night: tonight is neither checked nor changed, so lowering under tonight's reservations is accepted (blind bug)",
  },
  {
    name: 'inventory-checked-before-transaction',
    breaks: 'HR-I5',
    description:
      'an inventory change checks the nights before its transaction, unlocked, a moment before it (the gap widened): a reservation committed in between is not seen and the lowered night is left over 110% (blind bug)',
  },
  {
    name: 'cancel-keeps-tonight',
    breaks: 'HR-C5',
    description:
      "a cancellation gives back only the nights from tomorrow on: a stay starting today, cancelled, keeps tonight's rooms (blind bug)",
  },
  {
    name: 'cancel-checked-before-transaction',
    breaks: 'HR-I4',
    description:
      'a cancellation reads the status before its transaction, unlocked: copies of it sent at once all give the rooms back (blind bug cancel-status-read-before-transaction)',
  },
  {
    name: 'nights-made-after-answer',
    breaks: 'HR-C6',
    description:
      "a new room type's nights after its first month are made after the answer with the inventory it was made with: an inventory change sent at once misses them (blind bug nights-made-after-answer-with-old-inventory)",
  },
  {
    name: 'stream-backoff-grows',
    breaks: 'HR-F3',
    description:
      'the change stream doubles its retry delay with each refusal in a row: after a pause of some seconds the changes made meanwhile wait on after Redis is back (blind bug stream-backoff-outlasts-outage, Redis)',
  },
  {
    name: 'read-through-unversioned',
    breaks: 'HR-F8',
    description:
      "a search's read-through writes the rows it read to Redis with a plain SET, not the versioned script: an answer read before a commit and landing after the change stream's newer entry puts the old numbers back (blind bug redis-read-through-overwrites-newer; PostgreSQL and Redis)",
  },
  {
    name: 'memory-store',
    breaks: 'HR-F1',
    description: 'the embedded store is an in-memory SQLite database: a restart forgets every reservation',
  },
] as const satisfies readonly { name: string; breaks: string; description: string; manifest?: string }[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);

/**
 * Mutants that live in the PostgreSQL store, or whose check needs it: they show only on a real database (the harness
 * marks them `needs`; one in NEEDS_REDIS too needs both).
 */
export const NEEDS_POSTGRES: readonly MutantName[] = [
  'commit-not-awaited',
  'db-loss-answers-500',
  'cancel-outside-transaction',
  'deadlock-not-retried',
  'refusal-not-rechecked',
  'key-claimed-outside-transaction',
  'stream-fed-in-transaction',
  'replay-not-refed',
  'read-through-unversioned',
  'namespace-per-start',
];
/** Mutants that show only with Redis as the cache (a Redis the harness can make stale). */
export const NEEDS_REDIS: readonly MutantName[] = [
  'cache-fast-path-booking',
  'stream-drops-refused',
  'refused-on-stale-cache',
  'stream-stalls-after-flush',
  'redis-namespace-kept',
  'stream-backoff-grows',
  'read-through-unversioned',
  'namespace-emptied-one-page',
  'namespace-flushed',
  'namespace-emptied-only-at-start',
  'namespace-per-start',
];

/** The strategy a mutant needs, whatever CONCURRENCY says (each breaks one strategy). */
export const MUTANT_STRATEGY: Partial<Record<MutantName, 'pessimistic' | 'optimistic' | 'constraint'>> = {
  'check-then-update-unlocked': 'pessimistic',
  'overbooking-checked-on-cache': 'pessimistic',
  'cache-fast-path-booking': 'pessimistic',
  'optimistic-version-unchecked': 'optimistic',
  'inventory-change-keeps-version': 'optimistic',
  'constraint-missing': 'constraint',
  'deadlock-not-retried': 'constraint',
};
