// Chapter 10, the web crawler: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown one)
// and its mutants. The web under test (web.ts) is what the checks read. Written to CHECKLIST.md beside this file.
import { MUTANTS, NEEDS_POSTGRES } from '../../../reference/10-web-crawler/mutants.ts';
import { type CheckId, catalog } from '../../../specs/10-web-crawler/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchWebCrawler } from './bench.ts';
import { pageBudget } from './budget.ts';
import { commitAnswerLost } from './commit-answer-lost.ts';
import { crawlConformance, readinessConformance } from './conformance.ts';
import { contentsServed } from './contents.ts';
import { databaseRestart } from './db-restart.ts';
import { killAndResume } from './faults.ts';
import { loadWebCrawler } from './load.ts';
import {
  completeness,
  contentStoredOnce,
  fetchedAtMostOnce,
  politeness,
  robotsObeyed,
  trapsBounded,
} from './properties.ts';
import { readWhileCrawling } from './read-while-crawling.ts';
import { stopResumeAcrossRestart } from './restart-stopped.ts';
import { stopResumeConformance, stopThenResume } from './stop-resume.ts';

export const webCrawler: ChapterModule<CheckId> = {
  slug: '10-web-crawler',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('10-web-crawler'),
  referenceManifest: new URL('../../../reference/10-web-crawler/manifest.json', import.meta.url).pathname,
  checks: {
    'WC-C1': readinessConformance,
    'WC-C2': crawlConformance,
    'WC-C3': stopResumeConformance,
    'WC-I1': (ctx) => badInputIs4xxEverywhere(ctx),
    'WC-I2': robotsObeyed,
    'WC-I3': politeness,
    'WC-I4': fetchedAtMostOnce,
    'WC-I5': contentStoredOnce,
    'WC-I6': trapsBounded,
    'WC-I7': completeness,
    'WC-I8': stopThenResume,
    'WC-I9': pageBudget,
    'WC-I10': contentsServed,
    'WC-F1': killAndResume,
    'WC-F2': databaseRestart,
    'WC-F3': stopResumeAcrossRestart,
    'WC-F4': readWhileCrawling,
    'WC-F5': commitAnswerLost,
  },
  // These live where the store is PostgreSQL: they show only with a real one to take away.
  mutants: MUTANTS.map((m) =>
    (NEEDS_POSTGRES as readonly string[]).includes(m.name) ? { ...m, needs: ['SDGRADE_DATABASE_URL'] } : m,
  ),
  // The crawl of the seeded web these read (crawl.ts sharedCrawl) runs in whichever of them comes first.
  sharedFixtures: [['WC-C2', 'WC-I2', 'WC-I3', 'WC-I4', 'WC-I5', 'WC-I6', 'WC-I7', 'WC-I10']],
  load: loadWebCrawler,
  bench: benchWebCrawler,
};
