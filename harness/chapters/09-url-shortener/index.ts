// Chapter 09, the URL shortener: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown
// one), its mutants, and its load test.

import { MUTANTS } from '../../../reference/09-url-shortener/mutants.ts';
import { type CheckId, catalog } from '../../../specs/09-url-shortener/generated/catalog.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchUrlShortener } from './bench.ts';
import { linkConformance, readinessConformance, redirectConformance, shortenConformance } from './conformance.ts';
import { databaseOutage } from './database-outage.ts';
import { databaseReplaced } from './database-replaced.ts';
import { cacheDown, gracefulRestart, killAfterAck, retriesUnderResets } from './faults.ts';
import { loadUrlShortener } from './load.ts';
import {
  badInputIs4xx,
  clicksAreCounted,
  codesAreShortBase62,
  distinctUrlsDistinctCodes,
  locationIsExact,
  oneCodePerUrl,
  unknownCodesAre404,
} from './properties.ts';

export const urlShortener: ChapterModule<CheckId> = {
  slug: '09-url-shortener',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('09-url-shortener'),
  referenceManifest: new URL('../../../reference/09-url-shortener/manifest.json', import.meta.url).pathname,
  checks: {
    'URL-C1': shortenConformance,
    'URL-C2': redirectConformance,
    'URL-C3': linkConformance,
    'URL-C4': readinessConformance,
    'URL-I1': locationIsExact,
    'URL-I2': oneCodePerUrl,
    'URL-I3': distinctUrlsDistinctCodes,
    'URL-I4': codesAreShortBase62,
    'URL-I5': unknownCodesAre404,
    'URL-I6': (ctx) =>
      badInputIs4xx(ctx, ctx.validator.schemaAt('#/components/schemas/ShortenRequest'), (n) =>
        ctx.validator.resolve(n),
      ),
    'URL-I7': clicksAreCounted,
    'URL-F1': killAfterAck,
    'URL-F2': retriesUnderResets,
    'URL-F3': cacheDown,
    'URL-F4': gracefulRestart,
    'URL-F5': databaseOutage,
    'URL-F6': databaseReplaced,
  },
  // cache-required shows only with a real Redis to take away, the database-outage mutants only with a real
  // PostgreSQL.
  mutants: MUTANTS.map((m) =>
    m.name === 'cache-required'
      ? { ...m, needs: ['SDGRADE_REDIS_URL'] }
      : m.name === 'cache-keys-without-instance'
        ? { ...m, needs: ['SDGRADE_DATABASE_URL', 'SDGRADE_REDIS_URL'] }
        : m.name === 'db-errors-500' ||
            m.name === 'unavailable-without-retry-after' ||
            m.name === 'clicks-dropped-on-db-error' ||
            m.name === 'clicks-read-during-flush' ||
            m.name === 'click-batch-readded' ||
            m.name === 'click-retry-carries-newer' ||
            m.name === 'db-terminated-500' ||
            m.name === 'click-batch-split'
          ? { ...m, needs: ['SDGRADE_DATABASE_URL'] }
          : m,
  ),
  // The reference's deployment options besides its default (PostgreSQL and Redis when configured, else embedded):
  // `sdgrade test 09 --variant NAME`. With real services configured (`mutate --real-deps`), `embedded` grades the
  // SQLite store and in-process cache the default then leaves unrun.
  variants: [
    {
      name: 'embedded',
      description: 'no DATABASE_URL or REDIS_URL: the embedded SQLite store and the in-process cache',
      env: { DATABASE_URL: '', REDIS_URL: '' },
      notApplicable: {
        'URL-F3': 'no Redis: the cache is inside the process, there is no cache service to stop',
        'URL-F5': 'no PostgreSQL: the store is a SQLite file inside the process, there is no database service to stop',
        'URL-F6': 'no Redis: the cache is inside the process and does not outlive it, so no database meets its entries',
      },
    },
    {
      name: 'no-cache',
      description: 'CACHE=none: every redirect read from the store',
      env: { CACHE: 'none' },
      notApplicable: {
        'URL-F3': 'no cache at all (CACHE=none): there is no cache service to stop',
        'URL-F6': 'no cache at all (CACHE=none): no cache outlives a database',
      },
    },
  ],
  load: loadUrlShortener,
  bench: benchUrlShortener,
};
