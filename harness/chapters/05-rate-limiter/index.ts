// Chapter 05, the rate limiter: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown one)
// its mutants, its load test and its micro-benchmark against rate-limiter-flexible.
import { MUTANTS } from '../../../reference/05-rate-limiter/mutants.ts';
import { type CheckId, catalog } from '../../../specs/05-rate-limiter/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { admissionsWithinDefinition } from './admissions-within-definition.ts';
import { benchRateLimiter } from './bench.ts';
import {
  decisionConformance,
  descriptorMatching,
  protectedConformance,
  readinessConformance,
  rulesConformance,
} from './conformance.ts';
import { instanceKilled, instancesShareOneLimit, storeDownThenBack, storeSlowed } from './distributed.ts';
import { keysAreIsolated } from './keys-isolated.ts';
import { loadRateLimiter } from './load.ts';
import { retryAfterIsHonoured } from './retry-after-honoured.ts';
import { ruleChangeKeepsOthers } from './rule-change-keeps-others.ts';

export const rateLimiter: ChapterModule<CheckId> = {
  slug: '05-rate-limiter',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('05-rate-limiter'),
  referenceManifest: new URL('../../../reference/05-rate-limiter/manifest.json', import.meta.url).pathname,
  checks: {
    'RL-C1': readinessConformance,
    'RL-C2': decisionConformance,
    'RL-C3': protectedConformance,
    'RL-C4': rulesConformance,
    'RL-C5': descriptorMatching,
    'RL-I1': admissionsWithinDefinition,
    'RL-I2': retryAfterIsHonoured,
    'RL-I3': keysAreIsolated,
    'RL-I4': ruleChangeKeepsOthers,
    'RL-I5': instancesShareOneLimit,
    'RL-I6': (ctx) => badInputIs4xxEverywhere(ctx),
    'RL-F1': storeDownThenBack,
    'RL-F2': instanceKilled,
    'RL-F3': storeSlowed,
  },
  // Both show only with a real Redis.
  load: loadRateLimiter,
  bench: benchRateLimiter,
  // Rules a slow machine cannot test in the check's time: each such skip says so with its figures.
  speedSkips: { 'RL-I1': /^the edge bursts never fell wholly within one window/ },
  mutants: MUTANTS.map((m) =>
    [
      'racy-redis-store',
      'hang-on-redis-down',
      'no-store-timeout',
      'instance-namespace',
      'fails-closed-by-default',
      'fail-closed-ignored',
      'stalled-store-fails-closed',
      'stale-script-sha',
      'redis-counter-prev-expires',
      'redis-fixed-window-from-first-hit',
      'redis-retry-on-timeout',
      'redis-log-expiry-from-admission',
      'redis-reconnect-gives-up',
    ].includes(m.name)
      ? { ...m, needs: ['SDGRADE_REDIS_URL'] }
      : m,
  ),
  // The reference's deployment options, graded like the default (token bucket, fail open): every check applies to
  // each algorithm (RL-I1/RL-I2 grade each against its own definition). `sdgrade test 05 --variant NAME`.
  variants: [
    ...(['leaking_bucket', 'fixed_window', 'sliding_window_log', 'sliding_window_counter'] as const).map((a) => ({
      name: a,
      description: `ALGORITHM=${a} instead of the token bucket`,
      env: { ALGORITHM: a },
    })),
    {
      name: 'fail-closed',
      description: 'FAIL_MODE=closed, declared as the failMode setting: 503 while the store is down or stalled',
      env: { FAIL_MODE: 'closed' },
      settings: { failMode: 'closed' },
      needs: ['redis'],
    },
  ],
};
