// Chapter 09, the URL shortener: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown
// one), its mutants, and its load test.

import { MUTANTS } from '../../../reference/09-url-shortener/mutants.ts';
import { type CheckId, catalog } from '../../../specs/09-url-shortener/generated/catalog.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchUrlShortener } from './bench.ts';
import { linkConformance, readinessConformance, redirectConformance, shortenConformance } from './conformance.ts';
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
  },
  // cache-required shows only with a real Redis to take away.
  mutants: MUTANTS.map((m) => (m.name === 'cache-required' ? { ...m, needs: ['SDGRADE_REDIS_URL'] } : m)),
  load: loadUrlShortener,
  bench: benchUrlShortener,
};
