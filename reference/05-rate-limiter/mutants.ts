// Deliberately broken variants of the reference, one check each (IDs from specs/05-rate-limiter/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
export const MUTANTS = [
  { name: 'health-plain-text', breaks: 'RL-C1', description: 'readiness answers text/plain "ok", not the Health body' },
  { name: 'decision-without-unit', breaks: 'RL-C2', description: 'a decision omits the required unit field' },
  {
    name: 'limited-without-retry-after',
    breaks: 'RL-C3',
    description: 'the 429 of the protected endpoint has no Retry-After header',
  },
  {
    name: 'put-rules-201',
    breaks: 'RL-C4',
    description: 'replacing a domain answers 201 instead of the documented 200',
  },
  { name: 'off-by-one', breaks: 'RL-I1', description: 'every algorithm admits requests_per_unit + 1' },
  {
    name: 'fixed-window-boundary',
    breaks: 'RL-I1',
    description: 'fixed window with windows centred on multiples of the unit (Math.round), not starting at them',
  },
  {
    name: 'wrong-retry-after',
    breaks: 'RL-I2',
    description: 'Retry-After is half the real wait (computed from the wrong timestamp), rounded down',
  },
  {
    name: 'shared-bucket',
    breaks: 'RL-I3',
    description: 'the bucket key is the domain and descriptor keys without their values: all users share one bucket',
  },
  {
    name: 'rule-change-resets',
    breaks: 'RL-I4',
    description: 'replacing a domain clears every counter, so unrelated limited keys are let through again',
  },
  {
    name: 'racy-redis-store',
    breaks: 'RL-I5',
    description: 'the Redis store reads the counter, decides in the process and writes it back: no Lua script, a race',
  },
  {
    name: 'hang-on-redis-down',
    breaks: 'RL-F1',
    description: 'with Redis unreachable, commands queue until it is back (60 s timeout): requests hang',
  },
  {
    name: 'no-store-timeout',
    breaks: 'RL-F3',
    description:
      'Redis commands wait up to 60 s instead of 200 ms: a slow store holds every decision as long as it is slow',
  },
  {
    name: 'instance-namespace',
    breaks: 'RL-F2',
    description:
      'each process prefixes its Redis keys with its own ID: instances do not share counters, a restart forgets',
  },
  {
    name: 'fails-closed-by-default',
    breaks: 'RL-F1',
    description:
      'with the store unreachable every decision is 503, although FAIL_MODE is the default open (and declared so)',
  },
  {
    name: 'fail-closed-ignored',
    breaks: 'RL-F1',
    description: 'FAIL_MODE=closed is not read: the target declares failMode=closed and still fails open',
    settings: { failMode: 'closed' },
    env: { FAIL_MODE: 'closed' },
  },
  {
    name: 'stalled-store-fails-closed',
    breaks: 'RL-F3',
    description: 'a store that times out (slow, not down) is answered 503 although the mode is open',
  },
  {
    name: 'stale-script-sha',
    breaks: 'RL-F2',
    description:
      'decisions call EVALSHA with a SHA Redis never loaded: every one fails with NOSCRIPT and fail-open lets it through',
  },
  {
    name: 'unvalidated-decision',
    breaks: 'RL-I6',
    description:
      "shouldRateLimit reaches its handler without the spec's validation (the schema-driven bad-input check)",
  },
  // Found by blind bugs (fixtures/blind-bugs/05-rate-limiter): the checks were strengthened to catch each.
  {
    name: 'token-bucket-uncapped',
    breaks: 'RL-I1',
    description: 'the token bucket refills past its capacity while idle: a burst after a pause admits more than L',
  },
  {
    name: 'sweeper-forgets-all',
    breaks: 'RL-I1',
    description:
      "the in-memory store's sweeper (every 10 s) forgets every key: an idle limited key is let through again",
  },
  {
    name: 'denied-requests-cost-tokens',
    breaks: 'RL-I2',
    description: 'every request takes a token, a denied one too: the bucket goes into debt and the wait grows',
  },
  {
    name: 'retry-after-until-full',
    breaks: 'RL-C3',
    description:
      "the 429's Retry-After is the wait until the whole quota is back, not until one request is let through",
  },
  {
    name: 'trusts-forwarded-for',
    breaks: 'RL-C3',
    description: 'remote_address is taken from the client-written X-Forwarded-For: a client escapes its per-IP limit',
  },
  {
    name: 'value-less-first',
    breaks: 'RL-C5',
    description:
      'descriptor matching takes the first node with the key, so a value-less node listed first beats the value',
  },
  {
    name: 'deepest-rule-applies',
    breaks: 'RL-C5',
    description: 'entries deeper than the rule tree get the deepest rule on their way instead of no rule',
  },
  // Found by StrykerJS survivors and no-coverage mutants (specs/05-rate-limiter/README.md, "Automated mutants").
  {
    name: 'retry-after-one-ms-short',
    breaks: 'RL-I2',
    description:
      "a denial's retryAfterMs is the wait rounded up minus 1 ms (not plus 1): at the end of a wait it says 0 ms",
  },
  {
    name: 'ambiguous-bucket-key',
    breaks: 'RL-I3',
    description:
      'the bucket key joins the descriptor entries with no separator: [a=1, b=2] and [a="1b=2"] share one bucket',
  },
  {
    name: 'own-value-node-skipped',
    breaks: 'RL-C3',
    description:
      "the middleware skips a top-level node whose value is the request's (the test inverted): user_id: vip never limits vip",
  },
  {
    name: 'missing-attribute-matched',
    breaks: 'RL-C3',
    description:
      'a request without X-User-Id meets the user_id rule (the skip test `||` became `&&`): all anonymous requests share one bucket',
  },
  {
    name: 'ratelimit-reset-zero',
    breaks: 'RL-C3',
    description: "the RateLimit header's t is 0 (the quota whole now), also on a 429 that says to wait",
  },
  {
    name: 'ratelimit-reset-as-time',
    breaks: 'RL-C3',
    description: "the RateLimit header's t is the epoch second the quota is whole again, not the seconds until then",
  },
  {
    name: 'counter-ignores-previous-window',
    breaks: 'RL-I1',
    description:
      "the sliding window counter's estimate leaves out the previous window: a fixed window, L more at each boundary",
    env: { ALGORITHM: 'sliding_window_counter' },
  },
  {
    name: 'value-matched-across-keys',
    breaks: 'RL-C5',
    description:
      'the value-specific node is looked up by value alone (its key test became `true`): plan=vip meets the user: vip rule',
  },
  // Found by a blind bug (fixtures/blind-bugs/05-rate-limiter/redis-log-member-collision.patch).
  {
    name: 'log-member-without-pid',
    breaks: 'RL-F2',
    description:
      "the sliding log's member leaves out the process id: after both instances restart, requests decided in one " +
      'millisecond with the same per-process number overwrite one entry, so the shared log under-counts',
    env: { ALGORITHM: 'sliding_window_log' },
  },
  // Found by blind bugs of round 5 (fixtures/blind-bugs/05-rate-limiter/<name>.patch, the same names).
  {
    name: 'bucket-key-includes-rule',
    breaks: 'RL-I4',
    description:
      "the bucket key includes the rule's limit and unit, so a PUT that changes a limit gives every key it covers a fresh bucket",
  },
  {
    name: 'match-cache-stale-after-put',
    breaks: 'RL-I4',
    description:
      'rule matching is memoised per descriptor list and PUT does not clear it: a changed rule never applies to a list seen before',
  },
  {
    name: 'user-id-lowercased',
    breaks: 'RL-C3',
    description: 'the middleware case-folds X-User-Id, so users Alice and alice share one bucket',
  },
  {
    name: 'retry-after-rounded',
    breaks: 'RL-C3',
    description:
      'Retry-After is the wait rounded to the nearest second, not up: a client that waits that long is refused',
  },
  // Found by blind bugs of round 5 that admit what the definition refuses or refuse what it admits, which no upper
  // bound sees (fixtures/blind-bugs/05-rate-limiter/<name>.patch, the same names).
  {
    name: 'sliding-log-skips-denied',
    breaks: 'RL-I1',
    description:
      'the sliding window log records admitted requests only: a client refused all along is let in once its last admissions age out',
    env: { ALGORITHM: 'sliding_window_log' },
  },
  {
    name: 'redis-counter-prev-expires',
    breaks: 'RL-I1',
    description:
      "the Redis sliding window counter's window key expires one window after its first request: the previous window stops weighing early",
    env: { ALGORITHM: 'sliding_window_counter' },
  },
  {
    name: 'redis-fixed-window-from-first-hit',
    breaks: 'RL-I1',
    description:
      "the Redis fixed window starts at a key's first request (INCR + PEXPIRE W), not on the epoch-aligned boundary: it refuses what the next window admits",
    env: { ALGORITHM: 'fixed_window' },
  },
  {
    name: 'redis-retry-on-timeout',
    breaks: 'RL-F3',
    description:
      'a Redis decision that timed out is sent once more: Redis runs both, so a request decided while the store is slow counts twice',
  },
  // Found by blind bugs of round 7 (fixtures/blind-bugs/05-rate-limiter/<name>.patch, the same names).
  {
    name: 'middleware-stops-at-value-mismatch',
    breaks: 'RL-C3',
    description:
      "the middleware stops at a node of the request's key with another value, so the later descriptors never limit that request",
  },
  {
    name: 'middleware-user-before-address',
    breaks: 'RL-C3',
    description: 'the middleware tries user_id before remote_address whatever the order of the rules',
  },
  {
    name: 'value-node-inherits-key-limit',
    breaks: 'RL-C5',
    description: "a value node without a rate_limit (an exemption) takes its value-less sibling's limit",
  },
  {
    name: 'fixed-window-retry-whole-window',
    breaks: 'RL-I1',
    description: 'a fixed window denial says to wait a whole window, not until the window ends',
    env: { ALGORITHM: 'fixed_window' },
  },
  {
    name: 'sliding-counter-stale-previous',
    breaks: 'RL-I1',
    description:
      "the sliding window counter weighs the key's last window however old it is: a key idle for a window is still held back",
    env: { ALGORITHM: 'sliding_window_counter' },
  },
  // Found by blind bugs of round 7 that the checks missed after strengthening (the same names).
  {
    name: 'token-bucket-whole-token-refill',
    breaks: 'RL-I1',
    description:
      'the token bucket refills whole tokens only yet moves its clock on: requests closer together than W/L never earn a token back',
  },
  {
    name: 'redis-log-expiry-from-admission',
    breaks: 'RL-I1',
    description:
      "the Redis sliding log's key expiry is renewed on admission only: a client refused for longer loses its logged refusals",
    env: { ALGORITHM: 'sliding_window_log' },
  },
  {
    name: 'redis-reconnect-gives-up',
    breaks: 'RL-F1',
    description:
      'the Redis client stops reconnecting after five attempts: after a longer outage the limiter fails open for good',
  },
] as const satisfies readonly {
  name: string;
  breaks: string;
  description: string;
  /** Settings the mutant's target declares (and the environment that would configure them). */
  settings?: Record<string, string>;
  env?: Record<string, string>;
}[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
