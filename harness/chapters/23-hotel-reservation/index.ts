// Chapter 23, Hotel reservation: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown
// one), its mutants, its load test and its benchmark (the book's three concurrency strategies side by side). Written
// to CHECKLIST.md beside this file.
import { MUTANTS, NEEDS_POSTGRES, NEEDS_REDIS } from '../../../reference/23-hotel-reservation/mutants.ts';
import { type CheckId, catalog } from '../../../specs/23-hotel-reservation/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { staffHeaders } from './api.ts';
import { benchHotelReservation } from './bench.ts';
import { cacheAfterKill } from './cache-after-kill.ts';
import { hotelConformance, readinessConformance } from './conformance.ts';
import { databaseRestartMidTransaction } from './db-restart.ts';
import { nightsLockedInTwoOrders } from './deadlock.ts';
import { killService } from './faults.ts';
import { searchReadAnsweredLate } from './late-read.ts';
import { loadHotelReservation } from './load.ts';
import { opsConformance } from './ops.ts';
import { cacheAfterInventoryChange } from './ops-cache.ts';
import { inventoryChangesInterleaved } from './ops-interleaved.ts';
import { duplicatesAtOnce, modelSequence, raceForLastRooms } from './properties.ts';
import { reservationConformance } from './reservation-conformance.ts';
import { availabilityConformance } from './search-conformance.ts';
import { slowCacheBursts } from './slow-cache.ts';
import { staleCache } from './stale-cache.ts';
import { twoServicesShareTheCache } from './two-services-cache.ts';
import { reservationsCutMidTransaction } from './tx-cuts.ts';

export const hotelReservation: ChapterModule<CheckId> = {
  slug: '23-hotel-reservation',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('23-hotel-reservation'),
  referenceManifest: new URL('../../../reference/23-hotel-reservation/manifest.json', import.meta.url).pathname,
  checks: {
    'HR-C1': readinessConformance,
    'HR-C2': hotelConformance,
    'HR-C3': availabilityConformance,
    'HR-C4': reservationConformance,
    'HR-C5': opsConformance,
    'HR-C6': cacheAfterInventoryChange,
    'HR-C7': twoServicesShareTheCache,
    // With the staff key, so the ops writes' 4xx is the input's, not the missing key's.
    'HR-I1': (ctx) => badInputIs4xxEverywhere(ctx, { headers: staffHeaders(ctx) }),
    'HR-I2': modelSequence,
    'HR-I3': raceForLastRooms,
    'HR-I4': duplicatesAtOnce,
    'HR-I5': inventoryChangesInterleaved,
    'HR-F1': killService,
    'HR-F2': databaseRestartMidTransaction,
    'HR-F3': staleCache,
    'HR-F4': nightsLockedInTwoOrders,
    'HR-F5': reservationsCutMidTransaction,
    'HR-F6': slowCacheBursts,
    'HR-F7': cacheAfterKill,
    'HR-F8': searchReadAnsweredLate,
  },
  // These live in the PostgreSQL store or the Redis cache (or need both): they show only with the real ones.
  mutants: MUTANTS.map((m) => {
    const needs = [
      ...((NEEDS_POSTGRES as readonly string[]).includes(m.name) ? ['SDGRADE_DATABASE_URL'] : []),
      ...((NEEDS_REDIS as readonly string[]).includes(m.name) ? ['SDGRADE_REDIS_URL'] : []),
    ];
    return needs.length ? { ...m, needs } : m;
  }),
  // `sdgrade test 23 --variant memory-cache`: the in-process cache where Redis is configured (the default then uses
  // Redis; without it, the embedded default already is this). `optimistic` and `constraint`: the book's other two
  // concurrency strategies (the default is pessimistic), so `sdgrade mutate` runs their code too (their modules'
  // mutants were "no coverage" under the default alone). Every check applies to each strategy.
  variants: [
    ...(['optimistic', 'constraint'] as const).map((s) => ({
      name: s,
      description: `CONCURRENCY=${s} instead of pessimistic locking`,
      env: { CONCURRENCY: s },
    })),
    {
      name: 'memory-cache',
      description: 'CACHE=memory: the inventory cache in process even where REDIS_URL is given',
      env: { CACHE: 'memory' },
      notApplicable: {
        'HR-F3': 'the cache is inside the process: there is no Redis to make stale',
        'HR-F6': 'the cache is inside the process: there is no Redis to slow',
        'HR-F7': 'the cache is inside the process: it is emptied with the process',
      },
    },
    // Two services on one PostgreSQL schema (SHARED_DIR keeps its name) and one Redis: they share one cache, which only
    // two services can show, so the one-service default skips HR-C7 and the main job grades it here.
    {
      name: 'two-nodes',
      description: 'two services on one PostgreSQL schema and one Redis (manifest.two-nodes.json): one shared cache',
      env: {},
      needs: ['postgres', 'redis'],
      manifest: 'manifest.two-nodes.json',
      completes: ['HR-C7'],
    },
    // With real services configured (`mutate --real-deps`), the embedded SQLite store the default then leaves unrun.
    {
      name: 'embedded',
      description: 'no DATABASE_URL or REDIS_URL: the embedded SQLite store and the in-process cache',
      env: { DATABASE_URL: '', REDIS_URL: '' },
      notApplicable: {
        'HR-F2': 'no PostgreSQL: the embedded SQLite store has no database server to restart',
        'HR-F5': 'no PostgreSQL: the embedded SQLite store has no database connection to cut',
        'HR-F4':
          'no PostgreSQL: the embedded SQLite store takes its one write lock per transaction, so nothing deadlocks',
        'HR-F8': 'no PostgreSQL: the embedded SQLite store has no database connection to hold answers on',
        'HR-F3': 'the cache is inside the process: there is no Redis to make stale',
        'HR-F6': 'the cache is inside the process: there is no Redis to slow',
        'HR-F7': 'the cache is inside the process: it is emptied with the process',
      },
    },
  ],
  // No sharedFixtures: every check makes its own hotel and room types (freshRoomType, uniqueId) and reads only those,
  // so what `mutate`'s baseline credits to a check is what that check reaches.
  load: loadHotelReservation,
  bench: benchHotelReservation,
};
