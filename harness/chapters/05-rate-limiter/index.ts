// Chapter 05, the rate limiter: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown one)
// its mutants and its load test. No micro-benchmark yet (rate-limiter-flexible is not installed).
import { MUTANTS } from '../../../reference/05-rate-limiter/mutants.ts';
import { type CheckId, catalog } from '../../../specs/05-rate-limiter/generated/catalog.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { decisionConformance, protectedConformance, readinessConformance, rulesConformance } from './conformance.ts';
import { instanceKilled, instancesShareOneLimit, storeDownThenBack } from './distributed.ts';
import { loadRateLimiter } from './load.ts';
import {
  admissionsWithinDefinition,
  keysAreIsolated,
  retryAfterIsHonoured,
  ruleChangeKeepsOthers,
} from './properties.ts';

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
    'RL-I1': admissionsWithinDefinition,
    'RL-I2': retryAfterIsHonoured,
    'RL-I3': keysAreIsolated,
    'RL-I4': ruleChangeKeepsOthers,
    'RL-I5': instancesShareOneLimit,
    'RL-F1': storeDownThenBack,
    'RL-F2': instanceKilled,
  },
  // Both show only with a real Redis.
  load: loadRateLimiter,
  mutants: MUTANTS.map((m) =>
    ['racy-redis-store', 'hang-on-redis-down', 'instance-namespace'].includes(m.name)
      ? { ...m, needs: ['SDGRADE_REDIS_URL'] }
      : m,
  ),
};
