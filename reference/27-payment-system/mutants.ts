// Deliberately broken variants of the reference, one check each (IDs from specs/27-payment-system/catalog.yaml).
// MUTANT=<name> selects one; the code that breaks sits where the broken thing lives, in an `if (mutant === ...)`
// marked `MUTANT <name>`. The harness self-test must catch every one of them with the check named here.
export interface Mutant {
  name: string;
  /** The catalog check that must fail against this mutant. */
  breaks: string;
  description: string;
}

export const MUTANTS = [
  {
    name: 'first-answer-marked-replayed',
    breaks: 'PAY-C2',
    description:
      'the first answer to an Idempotency-Key carries Idempotent-Replayed: true, as a replay does (StrykerJS survivor)',
  },
  {
    name: 'poll-decline-ignored',
    breaks: 'PAY-F3',
    description:
      'the poller ignores a registration the PSP reports declined: with the webhook lost, the orders stay NOT_STARTED (StrykerJS survivor)',
  },
  {
    name: 'signature-timestamp-optional',
    breaks: 'PAY-C4',
    description:
      'a PSP-Signature without a timestamp is checked as if signed at "NaN" instead of refused: a signature with no time is valid forever (StrykerJS survivor)',
  },
  {
    name: 'malformed-json-unanswered',
    breaks: 'PAY-C2',
    description: 'a request body that is not JSON is never answered (the body parser never calls back): no 400',
  },
  {
    name: 'settlement-header-detail-empty',
    breaks: 'PAY-C6',
    description: 'a settlement file with a wrong header is 400 invalid_settlement with an empty detail, not its line',
  },
  {
    name: 'settlement-currency-detail-empty',
    breaks: 'PAY-C6',
    description:
      'a settlement line with an unknown currency is 400 invalid_settlement with an empty detail, not its line',
  },
  {
    name: 'attempts-nine',
    breaks: 'PAY-F1',
    description: 'a charge the PSP keeps failing is attempted 9 times before the PSP record decides, not the spec 8',
  },
  {
    name: 'backoff-jitter-below',
    breaks: 'PAY-F1',
    description:
      'the back-off jitter is subtracted from half the delay (0 to exp/2, not exp/2 to exp): retries come sooner than the spec back-off allows',
  },
  {
    name: 'backoff-step-doubled',
    breaks: 'PAY-F1',
    description:
      "the back-off's exponent is one too high: each retry waits between its step and twice it, not between half its step and its step (blind bug r8-backoff-step-doubled)",
  },
  {
    name: 'decline-retried',
    breaks: 'PAY-F1',
    description:
      'a charge the PSP declines (402) is retried like a 5xx, 8 times under the same key, before the PSP record fails it (StrykerJS survivor)',
  },
  {
    name: 'decline-recorded-success',
    breaks: 'PAY-F1',
    description:
      'a charge the PSP declines (402) is recorded as a success: the order ends SUCCESS with nothing charged',
  },
  {
    name: 'order-retry-at-lease',
    breaks: 'PAY-F1',
    description:
      "a failed charge's retry time is never written, so each retry waits for the 3 s lease instead of the back-off (StrykerJS survivor)",
  },
  {
    name: 'payout-retry-at-lease',
    breaks: 'PAY-I9',
    description:
      "a failed transfer's retry time is never written, so each retry waits for the 3 s lease instead of the back-off (StrykerJS survivor)",
  },
  {
    name: 'fingerprint-key-order',
    breaks: 'PAY-C2',
    description:
      'the Idempotency-Key fingerprint is the body as sent, not canonical JSON: a retry whose keys come in another order is 409 idempotency_key_reused',
  },
  {
    name: 'signature-unanchored',
    breaks: 'PAY-I7',
    description:
      'a PSP-Signature v1 value with anything before its last 64 hex digits is accepted (the pattern not anchored)',
  },
  {
    name: 'health-plain-text',
    breaks: 'PAY-C1',
    description: 'readiness answers text/plain "ok", not the Health body',
  },
  { name: 'create-answers-200', breaks: 'PAY-C2', description: 'a new payment event is answered 200, not 201' },
  {
    name: 'register-before-store',
    breaks: 'PAY-C2',
    description:
      'the PSP registration is made before the event is stored: a payment event refused 409 already_exists is registered at the PSP anyway',
  },
  {
    name: 'order-without-flags',
    breaks: 'PAY-C3',
    description: 'the payment order omits the required ledger_updated and wallet_updated fields',
  },
  {
    name: 'bad-signature-400',
    breaks: 'PAY-C4',
    description: 'a webhook with a bad signature is refused with 400 invalid_request instead of 401 invalid_signature',
  },
  { name: 'unknown-wallet-200', breaks: 'PAY-C5', description: 'an unknown seller gets 200 with no balances, not 404' },
  {
    name: 'bad-settlement-500',
    breaks: 'PAY-C6',
    description: 'a malformed settlement file is a 500, not 400 invalid_settlement',
  },
  {
    name: 'retry-without-idempotency-key',
    breaks: 'PAY-I1',
    description: 'the executor sends the Idempotency-Key on the first charge attempt only, not on retries',
  },
  {
    name: 'webhook-double-credit',
    breaks: 'PAY-I2',
    description: 'every charge.succeeded notice writes the ledger and the wallet, not only the first transition',
  },
  { name: 'single-entry-ledger', breaks: 'PAY-I3', description: "only the seller's credit is written to the ledger" },
  {
    name: 'float-amounts',
    breaks: 'PAY-I4',
    description: 'amounts are parseFloat(amount) * 100, floored: 0.29 becomes 28 cents; 1.005 USD is accepted',
  },
  {
    name: 'psp-amount-in-cents',
    breaks: 'PAY-I4',
    description:
      "the charge sent to the PSP is in hundredths whatever the currency: 500 JPY is charged 50000, 1.234 KWD 123 (the service's own records stay right)",
  },
  {
    name: 'status-regresses',
    breaks: 'PAY-I5',
    description: 'a replayed registration.authorized webhook moves SUCCESS orders back to EXECUTING',
  },
  {
    name: 'idempotency-key-ignored',
    breaks: 'PAY-I6',
    description: 'the Idempotency-Key header is required but never looked at',
  },
  {
    name: 'webhook-signature-unchecked',
    breaks: 'PAY-I7',
    description: 'webhooks are applied without checking their signature',
  },
  {
    name: 'reconcile-status-only',
    breaks: 'PAY-I8',
    description: 'reconciliation compares statuses only: amount differences go unreported',
  },
  {
    name: 'no-retry-on-5xx',
    breaks: 'PAY-F1',
    description: 'a PSP 5xx or timeout fails the payment order for good instead of retrying it',
  },
  {
    name: 'claim-stuck-while-db-away',
    breaks: 'PAY-F5',
    description:
      'a request that fails while PostgreSQL is away cannot release its Idempotency-Key, and nothing remembers that: once the database is back, the retry the 503 asked for is 409 idempotency_key_in_use for 30 s',
  },
  {
    name: 'key-locked-after-failure',
    breaks: 'PAY-F1',
    description:
      'a request that fails (503: the PSP registration failed) leaves its Idempotency-Key claimed for 30 s, so the retry the 503 asks for is 409 idempotency_key_in_use',
  },
  {
    name: 'key-per-attempt',
    breaks: 'PAY-F2',
    description: 'each charge attempt gets a fresh Idempotency-Key (a new UUID), so a retry is a new charge',
  },
  {
    name: 'no-polling',
    breaks: 'PAY-F3',
    description: 'no poller: a registration whose webhook never comes stays NOT_STARTED',
  },
  {
    name: 'no-crash-recovery',
    breaks: 'PAY-F4',
    description: 'the executor only works on orders this process started; after kill -9 they stay EXECUTING',
  },
  { name: 'payout-answers-200', breaks: 'PAY-C7', description: 'a new payout is answered 200, not 201' },
  {
    name: 'refused-payout-recorded',
    breaks: 'PAY-C7',
    description:
      'a payout refused 409 insufficient_funds is recorded as FAILED anyway: the refused request left a payout behind, and its payout_id is spent',
  },
  {
    name: 'payout-overdraft',
    breaks: 'PAY-I9',
    description: 'the wallet balance is checked outside the transaction that debits it: concurrent payouts overdraw it',
  },
  {
    name: 'declined-webhook-ignored',
    breaks: 'PAY-C4',
    description:
      'a signed registration.declined is answered 200 but not applied: the orders stay NOT_STARTED until the poller asks the PSP (StrykerJS survivor)',
  },
  // From the blind bugs (fixtures/blind-bugs/27-payment-system/): each reproduces one the checks missed at first.
  {
    name: 'fraction-padded-left',
    breaks: 'PAY-I4',
    description:
      'a fraction shorter than the currency has is padded on the left: "3.1" USD is stored and charged as 3.01',
  },
  {
    name: 'late-failure-overrides-success',
    breaks: 'PAY-I5',
    description: 'a charge.failed notice moves an order to FAILED from any status but FAILED, a SUCCESS included',
  },
  {
    name: 'authorized-any-token',
    breaks: 'PAY-I7',
    description:
      "a signed registration.authorized naming another registration's token starts the checkout's charges (on that other buyer's registration)",
  },
  {
    name: 'reconcile-executing-manual',
    breaks: 'PAY-I8',
    description: 'an EXECUTING order the PSP settled is classified classifiable_manual, not classifiable_automatic',
  },
  {
    name: 'reconcile-since-seconds',
    breaks: 'PAY-C6',
    description:
      "reconciliation's since is taken in seconds against millisecond timestamps: every older order counts as ours",
  },
  {
    name: 'settlement-crlf-refused',
    breaks: 'PAY-C6',
    description: 'a settlement file with CRLF line ends is refused 400 invalid_settlement',
  },
  {
    name: 'payout-exact-balance-refused',
    breaks: 'PAY-C7',
    description: 'the wallet guard is balance > amount: paying out the whole balance is refused insufficient_funds',
  },
  {
    name: 'payout-debits-every-currency',
    breaks: 'PAY-C7',
    description: "a payout's wallet debit forgets the currency: the seller's other currencies are debited too",
  },
  {
    name: 'long-lease',
    breaks: 'PAY-F4',
    description:
      'a charge attempt leases its order for 5 minutes ("longer than any PSP call"): after kill -9 the orders in flight stay EXECUTING',
  },
  {
    name: 'poll-window-units',
    breaks: 'PAY-F3',
    description:
      "the poller's one-hour window is 3,600 ms: a buyer who pays on the hosted page after 4 s, with the webhook lost, is never settled",
  },
  {
    name: 'db-outage-500',
    breaks: 'PAY-F5',
    description: 'with PostgreSQL unreachable, requests fail with 500 internal instead of 503 unavailable',
  },
  {
    name: 'db-never-reconnects',
    breaks: 'PAY-F6',
    description:
      'after the first lost PostgreSQL connection the pool is written off: 503 forever once the server is back',
  },
  {
    name: 'tx-client-leaked-on-error',
    breaks: 'PAY-F7',
    description:
      'a pooled client whose connection broke inside a transaction is never given back (nor destroyed): after a pool of such breaks every call is 503 for good (the blind bug pg-client-leak-on-error)',
  },
  {
    name: 'wallet-credit-own-transaction',
    breaks: 'PAY-F7',
    description:
      "the seller's wallet is credited in a transaction of its own after the SUCCESS and its ledger entries commit: a connection reset after that COMMIT loses the credit for good (the blind bug of that name)",
  },
  {
    name: 'broken-attempt-fails-order',
    breaks: 'PAY-F7',
    description:
      'a charge attempt that breaks off on a database error fails its order to the dead-letter queue: a charge whose recording transaction was cut ends FAILED, charged and never recorded (the blind bug of that name)',
  },
  {
    name: 'refused-answer-stored',
    breaks: 'PAY-C2',
    description:
      'a request refused 4xx is stored under its Idempotency-Key and replayed: the corrected request with the key is 409 idempotency_key_reused, a refused payout retried once the wallet holds enough stays 409 (the blind bug of that name)',
  },
  {
    name: 'webhook-acked-before-applied',
    breaks: 'PAY-F5',
    description:
      'the PSP webhook is answered 200 before its event is applied (a failure only logged): delivered while PostgreSQL is unreachable, it is acknowledged and lost (the blind bug of that name)',
  },
  {
    name: 'registration-nonce-per-call',
    breaks: 'PAY-F5',
    description:
      'each PSP registration request gets a fresh UUID as its idempotency key: the retry of a createPayment whose token was never stored (the database away mid-request) registers the checkout a second time (the blind bug of that name)',
  },
  {
    name: 'in-flight-key-body-unchecked',
    breaks: 'PAY-F5',
    description:
      "the body is compared with the key's first request only once that request is done: a claim left behind by an outage is taken over by another body, whose answer the first body's retry then replays (the blind bug of that name)",
  },
  {
    name: 'left-behind-takeover-race',
    breaks: 'PAY-F5',
    description:
      'a claim left behind by an outage is forgotten only once its takeover is written: simultaneous retries once the database is back both take it over and are both executed (the blind bug of that name)',
  },
  {
    name: 'takeover-answer-replayed',
    breaks: 'PAY-F5',
    description:
      'the answer of a request that took a claim over (left behind by an outage) carries Idempotent-Replayed: true, though it is the first answer to the key (the blind bug of that name)',
  },
  {
    name: 'reconcile-currency-ignored',
    breaks: 'PAY-I8',
    description:
      'reconciliation compares minor units without their currencies: 5.00 USD settled as 500 JPY is counted matched (the blind bug of that name)',
  },
  {
    name: 'reconcile-status-before-amount',
    breaks: 'PAY-I8',
    description:
      'reconciliation compares statuses before amounts: an order still in flight that the PSP settled for another amount is reported status_differs classifiable_automatic, its amount difference never (the blind bug of that name)',
  },
  {
    name: 'registration-keyed-by-request-key',
    breaks: 'PAY-F5',
    description:
      "the PSP registration's idempotency key is the client's Idempotency-Key: after the database went away mid-createPayment (its token never stored), the same event under a new key registers the checkout a second time (the blind bug of that name)",
  },
  {
    name: 'answer-store-failure-keeps-claim',
    breaks: 'PAY-F5',
    description:
      'an executed request whose answer cannot be stored under its key (the database gone after the work) keeps its claim, neither released nor remembered as left behind: the retry after the 503 is 409 idempotency_key_in_use for 30 s (the blind bug of that name)',
  },
  {
    name: 'event-fingerprint-without-buyer',
    breaks: 'PAY-C2',
    description:
      "the payment event's fingerprint leaves buyer_info out: the same checkout and orders for another buyer are 201 with the first event, not 409 already_exists (b27's blind bug r6-event-fingerprint-ignores-buyer)",
  },
  {
    name: 'signature-over-reserialized-body',
    breaks: 'PAY-C4',
    description:
      "the webhook's HMAC is checked over JSON.stringify of the parsed body, not the bytes received: a correctly signed webhook whose bytes are not compact JSON is refused 401 (b27's blind bug r6-signature-over-reserialized-body)",
  },
  {
    name: 'reconcile-key-without-since',
    breaks: 'PAY-C6',
    description:
      "a reconciliation's idempotency fingerprint leaves ?since out: the same file with another window under the same key replays the first report instead of 409 idempotency_key_reused (b27's blind bug r6-reconcile-key-ignores-since)",
  },
  {
    name: 'trial-balance-counts-entries',
    breaks: 'PAY-I3',
    description:
      "the trial balance's transactions counts ledger entries, two per transaction (b27's blind bug r6-trial-balance-counts-entries)",
  },
  {
    name: 'payout-entry-sides-swapped',
    breaks: 'PAY-C7',
    description:
      "a payout's double entry debits bank:payouts and credits the seller, the other way round; the ledger still balances (b27's blind bug r6-payout-entry-sides-swapped)",
  },
  {
    name: 'poll-error-declines',
    breaks: 'PAY-F1',
    description:
      "the poller takes a registration lookup that fails (PSP 503, no answer, 404) for a decline and fails the paid checkout's orders (s14's mutant for the blind bug r6-poll-error-declines)",
  },
  {
    name: 'decline-fails-executing',
    breaks: 'PAY-I5',
    description:
      "a registration.declined fails every order of the checkout not SUCCESS, EXECUTING ones included: an order being charged ends FAILED, its charge made (s14's mutant for the blind bug r6-decline-fails-executing)",
  },
  {
    name: 'event-fingerprint-orders-partial',
    breaks: 'PAY-C2',
    description:
      "the payment event's fingerprint leaves the orders' sellers and currencies out: the same checkout with another seller or currency under a new key is 201 with the first event, not 409 already_exists (b27r8's blind bug r8-event-fingerprint-partial)",
  },
  {
    name: 'idempotency-key-max-64',
    breaks: 'PAY-C2',
    description:
      "an Idempotency-Key longer than 64 characters is refused 400, where the spec allows 255 (b27r8's blind bug r8-idempotency-key-max-64)",
  },
  {
    name: 'settlement-fingerprint-prefix',
    breaks: 'PAY-C6',
    description:
      "a settlement file's idempotency fingerprint covers its first 64 KiB only: a longer file under the same key that differs past them is replayed the first report, not 409 (b27r8's blind bug r8-settlement-fingerprint-prefix)",
  },
  {
    name: 'reconcile-failed-automatic',
    breaks: 'PAY-I8',
    description:
      "reconciliation takes an order FAILED here and SUCCESS at the PSP for one in flight: classifiable_automatic, not classifiable_manual (b27r8's blind bug r8-reconcile-failed-automatic)",
  },
  {
    name: 'charge-4xx-declined',
    breaks: 'PAY-F1',
    description:
      "every 4xx the PSP answers a charge with is taken for a decline: a charge rate-limited (429) fails the order the buyer paid for (b27r8's blind bug r8-psp-4xx-is-decline)",
  },
] as const satisfies readonly Mutant[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
