// Chapter 29, the stock exchange: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown
// one) its mutants, its load test and its micro-benchmark against nodejs-order-book. Written to CHECKLIST.md beside
// this file.
import { MUTANTS } from '../../../reference/29-stock-exchange/mutants.ts';
import { type CheckId, catalog } from '../../../specs/29-stock-exchange/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { gatewaySettings, userKey } from './api.ts';
import { balanceOverflow } from './balance-overflow.ts';
import { benchStockExchange } from './bench.ts';
import { accountConformance, marketDataReads, orderConformance, readinessConformance } from './conformance.ts';
import { duplicateSubmissions, killAndReplay } from './faults.ts';
import { gatewayAccessModel } from './gateway-access.ts';
import { eventLogAccess } from './gateway-events.ts';
import { orderRateLimit } from './gateway-rate-limit.ts';
import { loadStockExchange } from './load.ts';
import { lostAnswer } from './log-lost-answer.ts';
import { lostWrites } from './log-lost-write.ts';
import { eventLogOutage } from './log-outage.ts';
import { candleBoundaries } from './md-candle-boundaries.ts';
import { marketDataConformance } from './md-conformance.ts';
import { lateSubscribers } from './md-late-subscribers.ts';
import { marketDataReplay } from './md-replay-property.ts';
import { slowSubscribers } from './md-slow-subscriber.ts';
import { dailyRiskLimit, deterministicLog, fundsAndHolds, priceTimePriority } from './properties.ts';
import { riskDayRollover } from './risk-day.ts';

export const stockExchange: ChapterModule<CheckId> = {
  slug: '29-stock-exchange',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('29-stock-exchange'),
  referenceManifest: new URL('../../../reference/29-stock-exchange/manifest.json', import.meta.url).pathname,
  checks: {
    'SE-C1': readinessConformance,
    'SE-C2': accountConformance,
    'SE-C3': orderConformance,
    'SE-C4': marketDataReads,
    'SE-C5': marketDataConformance,
    'SE-C6': balanceOverflow,
    // With a user's key, so the 4xx graded is the input's, not the missing key's.
    'SE-I1': (ctx) =>
      badInputIs4xxEverywhere(ctx, {
        headers: { authorization: `Bearer ${userKey(gatewaySettings(ctx).secret, 'se-i1')}` },
      }),
    'SE-I2': priceTimePriority,
    'SE-I3': fundsAndHolds,
    'SE-I4': deterministicLog,
    'SE-I5': dailyRiskLimit,
    'SE-I6': marketDataReplay,
    'SE-I7': lateSubscribers,
    'SE-I8': candleBoundaries,
    'SE-I9': gatewayAccessModel,
    'SE-I10': orderRateLimit,
    'SE-I11': eventLogAccess,
    'SE-I12': slowSubscribers,
    'SE-F1': killAndReplay,
    'SE-F2': duplicateSubmissions,
    'SE-F3': eventLogOutage,
    'SE-F4': lostWrites,
    'SE-F5': lostAnswer,
    'SE-F6': riskDayRollover,
  },
  mutants: MUTANTS,
  load: loadStockExchange,
  bench: benchStockExchange,
  // Rules a slow machine cannot test in the check's time: each such skip says so with its figures.
  speedSkips: {
    'SE-I8': /^no trade fell exactly on a 1-second boundary/,
    'SE-I10': /^no burst of \d+ orders fit into the/,
    'SE-I12': /^this machine answered \d+ buys in/,
  },
};
