// The chapter 05 reference server: node --import tsx reference/05-rate-limiter/main.ts
// ALGORITHM selects one of the book's five algorithms (default token_bucket, the book's pick); RULES_FILE the rules.
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { ALGORITHMS, type Algorithm, type LimiterStore, MemoryStore } from './algorithms.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { BrokenMatching, RuleBook, StaleMatchCache } from './rules.ts';
import { RedisStore } from './store-redis.ts';

await runServer({
  chapter: '05-rate-limiter',
  defaultPort: 8050,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    let algorithm = (process.env['ALGORITHM']?.trim() || 'token_bucket') as Algorithm;
    if (!ALGORITHMS.includes(algorithm)) throw new ConfigError(`ALGORITHM must be one of ${ALGORITHMS.join(', ')}`);
    if (mutant === 'fixed-window-boundary') algorithm = 'fixed_window'; // MUTANT fixed-window-boundary
    // MUTANT counter-ignores-previous-window: the sliding window counter's own mistake.
    if (mutant === 'counter-ignores-previous-window') algorithm = 'sliding_window_counter';
    // MUTANT token-bucket-uncapped, denied-requests-cost-tokens, token-bucket-whole-token-refill: the token bucket's
    // own mistakes.
    if (
      mutant === 'token-bucket-uncapped' ||
      mutant === 'denied-requests-cost-tokens' ||
      mutant === 'token-bucket-whole-token-refill'
    )
      algorithm = 'token_bucket';
    const failModeEnv = process.env['FAIL_MODE']?.trim() || 'open';
    if (failModeEnv !== 'open' && failModeEnv !== 'closed') throw new ConfigError('FAIL_MODE must be open or closed');
    let failMode: 'open' | 'closed' = failModeEnv;
    if (mutant === 'fail-closed-ignored') failMode = 'open'; // MUTANT fail-closed-ignored: FAIL_MODE=closed is not read
    const rulesFile = process.env['RULES_FILE']?.trim() || new URL('./rules.yaml', import.meta.url).pathname;
    let rules: RuleBook;
    try {
      rules = RuleBook.fromFile(rulesFile);
    } catch (error) {
      throw new ConfigError(`cannot read RULES_FILE ${rulesFile}: ${(error as Error).message}`);
    }
    // MUTANT value-less-first, deepest-rule-applies, own-value-node-skipped, missing-attribute-matched,
    // value-matched-across-keys, value-node-inherits-key-limit, middleware-stops-at-value-mismatch,
    // middleware-user-before-address: the same rules, matched wrongly.
    if (
      mutant === 'value-less-first' ||
      mutant === 'deepest-rule-applies' ||
      mutant === 'own-value-node-skipped' ||
      mutant === 'missing-attribute-matched' ||
      mutant === 'value-matched-across-keys' ||
      mutant === 'value-node-inherits-key-limit' ||
      mutant === 'middleware-stops-at-value-mismatch' ||
      mutant === 'middleware-user-before-address'
    )
      rules = new BrokenMatching(rules, mutant);
    if (mutant === 'match-cache-stale-after-put') rules = new StaleMatchCache(rules); // MUTANT match-cache-stale-after-put
    if (mutant === 'racy-redis-store' && !config.redisUrl) throw new ConfigError(`MUTANT ${mutant} needs REDIS_URL`);
    let store: LimiterStore;
    // These mutants live in the in-memory store.
    const memoryMutant =
      mutant === 'fixed-window-boundary' ||
      mutant === 'token-bucket-uncapped' ||
      mutant === 'denied-requests-cost-tokens' ||
      mutant === 'token-bucket-whole-token-refill' ||
      mutant === 'sweeper-forgets-all' ||
      mutant === 'sliding-log-skips-denied' ||
      mutant === 'fixed-window-retry-whole-window' ||
      mutant === 'sliding-counter-stale-previous';
    if (config.redisUrl && !memoryMutant) {
      const redis = new RedisStore({
        url: config.redisUrl,
        algorithm,
        // Shared by every instance on this Redis: that is what makes them one limiter.
        // MUTANT instance-namespace: a per-process prefix, so nothing is shared and a restart forgets.
        namespace: `sdgrade:05-rate-limiter:${algorithm}:${mutant === 'instance-namespace' ? `${process.pid}-${Date.now()}:` : ''}`,
        racy: mutant === 'racy-redis-store',
        // MUTANT no-store-timeout: a slow Redis holds every decision as long as it takes.
        commandTimeoutMs: mutant === 'hang-on-redis-down' || mutant === 'no-store-timeout' ? 60_000 : 500,
        offlineQueue: mutant === 'hang-on-redis-down', // MUTANT hang-on-redis-down
        staleScript: mutant === 'stale-script-sha', // MUTANT stale-script-sha
        memberWithoutPid: mutant === 'log-member-without-pid', // MUTANT log-member-without-pid
        retryOnTimeout: mutant === 'redis-retry-on-timeout', // MUTANT redis-retry-on-timeout
        reconnectGivesUp: mutant === 'redis-reconnect-gives-up', // MUTANT redis-reconnect-gives-up
        // MUTANT redis-counter-prev-expires, redis-fixed-window-from-first-hit, redis-log-expiry-from-admission:
        // keys that expire too early.
        scriptMutant:
          mutant === 'redis-counter-prev-expires' ||
          mutant === 'redis-fixed-window-from-first-hit' ||
          mutant === 'redis-log-expiry-from-admission'
            ? mutant
            : undefined,
      });
      await redis.connect();
      store = redis;
    } else {
      store = new MemoryStore(algorithm, {
        roundedWindows: mutant === 'fixed-window-boundary',
        uncappedBucket: mutant === 'token-bucket-uncapped',
        deniedCostsToken: mutant === 'denied-requests-cost-tokens',
        wholeTokenRefill: mutant === 'token-bucket-whole-token-refill',
        sweepAll: mutant === 'sweeper-forgets-all',
        logAdmittedOnly: mutant === 'sliding-log-skips-denied',
        retryWholeWindow: mutant === 'fixed-window-retry-whole-window',
        stalePrevious: mutant === 'sliding-counter-stale-previous',
      });
    }
    readiness.dependencies = async () => ({ store: store.health() });
    const spec = await loadSpec(SPEC_URL);
    let app: FastifyInstance | undefined;
    app = buildApp({
      spec,
      readiness,
      rules,
      store,
      algorithm,
      failMode,
      mutant,
      logger: { level: config.logLevel },
      onStoreError: (error) => app?.log.warn({ err: error }, 'rate limiter store failed'),
    });
    app.log.info({ algorithm, store: store.kind, failMode, mutant: mutant ?? null }, 'rate limiter configured');
    return { app, close: () => store.close() };
  },
});
