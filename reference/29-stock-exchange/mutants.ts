// Deliberately broken variants of the reference, one check each (IDs from specs/29-stock-exchange/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
import { FAULT_MUTANTS } from './mutants-faults.ts';
import { STORE_MUTANTS } from './mutants-store.ts';

export const MUTANTS = [
  { name: 'health-plain-text', breaks: 'SE-C1', description: 'readiness answers text/plain "ok", not the Health body' },
  {
    name: 'account-404-as-empty',
    breaks: 'SE-C2',
    description: 'an unknown account answers 200 with no balances, not 404',
  },
  {
    name: 'cancel-filled-accepted',
    breaks: 'SE-C3',
    description: 'a cancel of a filled (or canceled) order answers 200 and marks it canceled, not 409 order_not_open',
  },
  { name: 'executions-filter-ignored', breaks: 'SE-C4', description: 'GET /v1/execution ignores its orderId filter' },
  {
    name: 'unvalidated-input',
    breaks: 'SE-I1',
    description: "placeOrder reaches its handler without the spec's validation",
  },
  {
    name: 'fifo-broken',
    breaks: 'SE-I2',
    description: 'within a price level the newest order is matched first (LIFO), not the oldest',
  },
  {
    name: 'partial-fill-loses-quantity',
    breaks: 'SE-I2',
    description: 'a resting order partly filled leaves the book: its remaining quantity is lost',
  },
  {
    name: 'hold-not-released',
    breaks: 'SE-I3',
    description: 'a buy filled below its limit never gets the difference of its hold back: cash is lost',
  },
  {
    name: 'sequence-gap',
    breaks: 'SE-I4',
    description: 'the sequencer skips a sequence ID after every cancel',
  },
  {
    name: 'candle-close-first',
    breaks: 'SE-I4',
    description: "a candle's close is the window's first trade price, not its last",
  },
  {
    name: 'ring-wrap-off-by-one',
    breaks: 'SE-I4',
    description:
      'once a candle ring has wrapped it is read from the slot after the oldest: GET candles loses the oldest kept candle',
  },
  {
    name: 'risk-check-skipped',
    breaks: 'SE-I5',
    description: 'the order manager skips the daily risk check: a user orders past 1,000,000 shares',
  },
  // From the blind bugs (fixtures/blind-bugs/29-stock-exchange/), each a miss the checks were strengthened for.
  {
    name: 'client-order-id-global',
    breaks: 'SE-C3',
    description:
      "clientOrderIds are deduplicated across users: another user's order with the same ID gets the first one back",
  },
  {
    name: 'duplicate-after-funds-check',
    breaks: 'SE-C3',
    description:
      'the duplicate lookup runs after the funds check: the retry of an order holding all the cash is refused 422',
  },
  // The market-data WebSocket (the market data publisher).
  {
    name: 'md-bad-symbol-accepted',
    breaks: 'SE-C5',
    description: 'the upgrade does not check the symbol: a lowercase or missing symbol is subscribed, not refused 400',
  },
  {
    name: 'md-price-as-string',
    breaks: 'SE-C5',
    description: 'a trade frame carries its price as a decimal string of dollars ("150.00"), not integer cents',
  },
  {
    name: 'md-emptied-level-dropped',
    breaks: 'SE-I6',
    description:
      'a price level that became empty is left out of its l2update (an update with nothing else is not sent)',
  },
  {
    name: 'md-sequence-skips',
    breaks: 'SE-I6',
    description: "the symbol's market-data sequence number skips one after every trade",
  },
  {
    name: 'md-trade-published-twice',
    breaks: 'SE-I6',
    description: 'every trade is published twice, each copy with its own sequence number',
  },
  {
    name: 'md-maker-side-wrong',
    breaks: 'SE-I6',
    description: "the level a fill reduced is reported on the taker's side in the l2update",
  },
  {
    name: 'md-snapshot-after-deltas',
    breaks: 'SE-I7',
    description:
      'a subscriber is registered first and its snapshot taken after a 50 ms step: updates published meanwhile go out before the snapshot',
  },
  {
    name: 'md-registered-once-written',
    breaks: 'SE-I7',
    description:
      "a subscriber is registered only once its snapshot's write has completed: with a book deeper than the kernel takes at once, the updates published before the subscriber reads are lost (blind bug ws-register-after-snapshot-flush)",
  },
  // From the market-data blind bugs (fixtures/blind-bugs/29-stock-exchange/ws-*), each a miss the checks were
  // strengthened for.
  {
    name: 'md-snapshot-depth-limited',
    breaks: 'SE-C5',
    description: "a snapshot carries the best 10 levels per side (GET L2's default depth), not every level",
  },
  // Subscribers that do not read (SE-I12, blind bugs ws-slow-limit-shared, ws-slow-limit-gib, ws-publish-awaits-subscribers).
  {
    name: 'md-slow-bound-shared',
    breaks: 'SE-I12',
    description:
      'the 8 MiB unsent bound counts every subscriber together: a subscriber that reads is closed 1008 for the backlog of others that do not',
  },
  {
    name: 'md-slow-subscriber-kept',
    breaks: 'SE-I12',
    description: 'the unsent bound is 8 GiB, not 8 MiB: a subscriber that does not read is never closed',
  },
  {
    name: 'md-answers-await-subscribers',
    breaks: 'SE-I12',
    description:
      "an order's answer waits until every subscriber's socket has taken its frames: a subscriber that does not read holds up the exchange",
  },
  // L1 and candles on the market-data stream (issue 20).
  {
    name: 'md-l1-stale',
    breaks: 'SE-I6',
    description: 'an l1 frame carries the top of the book as it was before the update that changed it (a stale book)',
  },
  {
    name: 'md-l1-sides-swapped',
    breaks: 'SE-I6',
    description: "an l1 frame's best bid and best ask are swapped",
  },
  {
    name: 'md-l1-size-change-missed',
    breaks: 'SE-I6',
    description: 'an l1 frame is sent only when a best price changes: a new size at the best price is not sent',
  },
  {
    name: 'md-candle-high-lags',
    breaks: 'SE-C5',
    description: "a candle's high is lifted by the trade before the newest one, so a new high shows one trade late",
  },
  {
    name: 'md-candle-volume-both-sides',
    breaks: 'SE-I6',
    description: "a candle's volume counts both executions of a match (twice the shares)",
  },
  {
    name: 'md-candle-boundary-left',
    breaks: 'SE-I8',
    description: "windows closed on the right: a trade exactly at a window's end stays in the window it ends",
  },
  {
    name: 'md-default-all-channels',
    breaks: 'SE-C5',
    description:
      'a subscription that names no channels gets l1 and candle frames too (clients written before them break)',
  },
  {
    name: 'md-candle-resolution-ignored',
    breaks: 'SE-C5',
    description: 'the candles channel ignores resolution: always 60-second windows',
  },
  // From the L1 and candle blind bugs (fixtures/blind-bugs/29-stock-exchange/, bb29l1), each a miss the checks were
  // strengthened for.
  {
    name: 'md-l1-first-top-cached',
    breaks: 'SE-I7',
    description:
      "a new l1 subscriber's first frame is the top cached at the last update an l1 subscriber watched (empty if none did)",
  },
  {
    name: 'md-l1-before-update',
    breaks: 'SE-I6',
    description: 'an l1 frame goes out before the l2update that changed the top, not right after it',
  },
  {
    name: 'candles-end-inclusive',
    breaks: 'SE-C4',
    description: 'GET candles keeps the window that starts exactly at endTime (endTime inclusive)',
  },
  {
    name: 'candles-filter-trade-time',
    breaks: 'SE-C4',
    description:
      "GET candles' startTime and endTime filter trades by their time, not windows by their start: a window straddling startTime comes back partly",
  },
  {
    name: 'md-candles-only-while-watched',
    breaks: 'SE-I7',
    description:
      'fills go into the candles only while a candles subscriber watches the symbol: a later one gets no last candle',
  },
  {
    name: 'md-resolution-parseint',
    breaks: 'SE-C5',
    description: 'the subscription reads resolution with parseInt: 60s or 60.5 subscribe instead of being refused 400',
  },
  {
    name: 'md-unknown-channel-skipped',
    breaks: 'SE-C5',
    description: 'unknown channels beside known ones are skipped (channels=l2,l3 subscribes l2), not refused 400',
  },
  {
    name: 'md-resolution-implies-candles',
    breaks: 'SE-C5',
    description: 'a subscription that gives a resolution but no channels gets candle frames too, not l2 alone',
  },
  {
    name: 'missing-key-as-user',
    breaks: 'SE-I9',
    description: 'a request without a key acts as the user it names (any order, every execution): no 401',
  },
  {
    name: 'bad-key-accepted',
    breaks: 'SE-I9',
    description: "the key's signature is not checked: `<userId>:<any 64 hex digits>` acts as that user",
  },
  {
    name: 'other-users-order-cancellable',
    breaks: 'SE-I9',
    description: "any user's key cancels any order, not 404 order_not_found",
  },
  {
    name: 'account-of-other-user-readable',
    breaks: 'SE-I9',
    description: "any user's key reads any account (funds and holds), not 403 forbidden",
  },
  {
    name: 'executions-of-other-users',
    breaks: 'SE-I9',
    description: "GET /v1/execution lists every user's fills of the symbol, not the caller's only",
  },
  {
    name: 'rate-limit-shared',
    breaks: 'SE-I10',
    description: "one order rate window for all users: one user's burst limits everybody",
  },
  {
    name: 'rate-limit-off-by-one',
    breaks: 'SE-I10',
    description: 'the rate limit admits one order more than orderRateLimit per window',
  },
  {
    name: 'retry-after-missing',
    breaks: 'SE-I10',
    description: 'a rate-limited order answers 429 without Retry-After',
  },
  {
    name: 'rate-limit-before-auth',
    breaks: 'SE-I10',
    description: 'the order rate limiter runs before the key is checked: a 401 or 403 naming a user uses up their rate',
  },
  {
    name: 'secret-setting-ignored',
    breaks: 'SE-I9',
    description:
      "the configured secret (API_KEY_SECRET) is not read: keys are checked against the default secret, so the deployment's users are refused 401 (blind bug)",
  },
  {
    name: 'rate-limit-counts-refused',
    breaks: 'SE-I10',
    description: 'a request refused 429 is counted in the window: a client retrying through its 429s stays limited',
  },
  {
    name: 'rate-limit-per-symbol',
    breaks: 'SE-I10',
    description: 'one order rate window per user and symbol: a user orders orderRateLimit per symbol per window',
  },
  {
    name: 'duplicate-not-rate-limited',
    breaks: 'SE-I10',
    description: 'a repeated clientOrderId is answered (200) before the rate limiter and not counted',
  },
  {
    name: 'refused-order-not-counted',
    breaks: 'SE-I10',
    description: 'an order refused 422 (insufficient funds) gives its rate slot back: not counted',
  },
  {
    name: 'cancels-not-limited',
    breaks: 'SE-I10',
    description:
      "cancels pass the gateway uncounted: a user's burst of orders and cancels gets more through than the limit",
  },
  {
    name: 'cancel-counted-after-lookup',
    breaks: 'SE-I10',
    description:
      'a cancel is counted in the order window only once its order is found: a cancel answered 404 is free, and over the limit a cancel of an unknown order answers 404, not 429 (blind bug gw-cancel-rate-limited)',
  },
  {
    name: 'cancel-409-not-counted',
    breaks: 'SE-I10',
    description:
      'a cancel of an order no longer open (409 order_not_open) gives its rate slot back: not counted (blind bug cancel-409-slot-released)',
  },
  {
    name: 'cancel-counted-to-owner',
    breaks: 'SE-I10',
    description:
      "a cancel is counted in the window of the order's owner, not the caller's: cancels of another user's orders (404) use up that user's rate (blind bug)",
  },
  {
    name: 'operator-refusal-counted',
    breaks: 'SE-I11',
    description:
      "the operator's cancels are counted in its order window before it is refused: past orderRateLimit of them it gets 429, not 403 (blind bug op-cancel-counted)",
  },
  {
    name: 'operator-can-trade',
    breaks: 'SE-I11',
    description:
      "the operator's key deposits, orders and cancels like a user's (the identity that reads every event trades)",
  },
  {
    name: 'public-route-rejects-bad-key',
    breaks: 'SE-I9',
    description: 'a request with an invalid Authorization header is refused 401 everywhere, public market data too',
  },
  {
    name: 'account-404-before-403',
    breaks: 'SE-I9',
    description: "another user's account that does not exist answers 404 account_not_found, not 403 forbidden",
  },
  {
    name: 'duplicate-before-auth',
    breaks: 'SE-I9',
    description:
      'a repeated clientOrderId is answered before the key is checked: anyone naming a user reads their order',
  },
  {
    name: 'owner-case-insensitive',
    breaks: 'SE-I9',
    description: "the key's user and the named user are compared ignoring case: alice's key acts for ALICE",
  },
  {
    name: 'events-public',
    breaks: 'SE-I11',
    description: "GET /v1/events answers every event without a key (the log public, every user's orders named)",
  },
  {
    name: 'events-unscoped',
    breaks: 'SE-I11',
    description: "any valid user's key reads the whole event log, other users' deposits, orders and fills too",
  },
  {
    name: 'events-operator-case-insensitive',
    breaks: 'SE-I11',
    description:
      "the operator's user ID is matched ignoring case: a user whose ID differs from it only in case reads every event",
  },
  {
    name: 'events-last-sequence-own',
    breaks: 'SE-I11',
    description: "a user's page answers lastSequence as their own newest event's sequence ID, not the newest stamped",
  },
  {
    name: 'events-401-bare',
    breaks: 'SE-I11',
    description: "the event log's 401 has no problem body (the status and WWW-Authenticate only)",
  },
  ...STORE_MUTANTS,
  ...FAULT_MUTANTS,
] as const satisfies readonly { name: string; breaks: string; description: string; needs?: readonly string[] }[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
