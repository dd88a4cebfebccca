// Chapter 26, the real-time gaming leaderboard: its checks keyed by the catalog's IDs (the compiler rejects a missing
// or unknown one), its mutants, its load test and its micro-benchmark against a Redis sorted set. Written to CHECKLIST.md beside this file.
import { MUTANTS } from '../../../reference/26-gaming-leaderboard/mutants.ts';
import { type CheckId, catalog } from '../../../specs/26-gaming-leaderboard/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchLeaderboard } from './bench.ts';
import { readConformance, readinessConformance, updateConformance } from './conformance.ts';
import { cutWhileInsertUncommitted } from './cut-uncommitted.ts';
import { killAndRebuild } from './faults.ts';
import { freshHistoryLosses } from './fresh-history.ts';
import { restartOnLaggingRedis } from './lagging-redis.ts';
import { loadLeaderboard } from './load.ts';
import { profileConformance, topNamesAreCurrent } from './profiles.ts';
import { boardEqualsBruteForce, concurrentUpdatesAddUp, monthsIsolated, onlyGameServersPost } from './properties.ts';
import { redisRestart } from './redis-restart.ts';
import { storeKeptAway } from './store-away.ts';
import { tiesRankByTime } from './tie-break.ts';

/**
 * These show only with a real Redis (added to what mutants.ts says each needs): the first ones need one to restart
 * (RGL-F2), the last two live in the Redis board (`redisBoardFor` in mutant-stores.ts), which the embedded board never
 * runs: without Redis they are skipped, not graded on code they do not change.
 */
const NEEDS_REDIS = new Set<string>([
  'history-after-ack',
  'rebuild-wrong-month',
  'rebuild-misses-concurrent',
  'rebuild-skips-uncommitted',
  'included-total-all-months',
  'rebuild-batch-drops',
  'redis-resends-unanswered',
  'unsent-replayed-on-reconnect',
]);

export const gamingLeaderboard: ChapterModule<CheckId> = {
  slug: '26-gaming-leaderboard',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('26-gaming-leaderboard'),
  referenceManifest: new URL('../../../reference/26-gaming-leaderboard/manifest.json', import.meta.url).pathname,
  checks: {
    'RGL-C1': readinessConformance,
    'RGL-C2': updateConformance,
    'RGL-C3': readConformance,
    'RGL-C4': profileConformance,
    'RGL-I1': (ctx) => badInputIs4xxEverywhere(ctx),
    'RGL-I2': boardEqualsBruteForce,
    'RGL-I3': concurrentUpdatesAddUp,
    'RGL-I4': monthsIsolated,
    'RGL-I5': onlyGameServersPost,
    'RGL-I6': topNamesAreCurrent,
    'RGL-I7': tiesRankByTime,
    'RGL-F1': killAndRebuild,
    'RGL-F2': redisRestart,
    'RGL-F3': storeKeptAway,
    'RGL-F4': restartOnLaggingRedis,
    'RGL-F5': cutWhileInsertUncommitted,
    'RGL-F6': freshHistoryLosses,
  },
  mutants: MUTANTS.map((m) =>
    NEEDS_REDIS.has(m.name)
      ? { ...m, needs: [...new Set([...((m as { needs?: readonly string[] }).needs ?? []), 'SDGRADE_REDIS_URL'])] }
      : m,
  ),
  // TIE_BREAK=time, the book's tie-break by time: the default deployment skips RGL-I7 (it ranks ties shared), so the
  // main job grades it here. `sdgrade test 26 --variant tie-break-time` grades the variant whole: the sequential
  // properties and the faults (RGL-F1, RGL-F2: updates one after the other where their order matters) follow the
  // declared rule through the model; RGL-I3's updates are sent at once and cannot know who reached a score first.
  variants: [
    {
      name: 'tie-break-time',
      description: 'TIE_BREAK=time: equal scores rank by who reached the score first (ranks are positions)',
      env: { TIE_BREAK: 'time' },
      settings: { tieBreak: 'time' },
      completes: ['RGL-I7'],
      notApplicable: {
        'RGL-I3':
          'its updates are sent at once, so which player reached a score first is not known to the check (and it reads tops as one board with shared ranks); graded on the default deployment',
      },
    },
    // The embedded board under the time tie-break (its own order of ties, and its rebuild at start after RGL-F1's
    // kills): the variant above puts the board on Redis wherever Redis is configured (CI, `mutate --real-deps`).
    {
      name: 'embedded-tie-break-time',
      description: 'TIE_BREAK=time on the in-process board and the SQLite history (no REDIS_URL or DATABASE_URL)',
      env: { TIE_BREAK: 'time', REDIS_URL: '', DATABASE_URL: '' },
      settings: { tieBreak: 'time' },
      notApplicable: {
        'RGL-I3':
          'its updates are sent at once, so which player reached a score first is not known to the check; graded on the default deployment',
        'RGL-F2':
          'no Redis: the board is inside the process, there is no Redis to restart (tie-break-time grades it on Redis)',
        'RGL-F3': 'no Redis: the board is inside the process, there is no store to keep away (the default grades it)',
        'RGL-F4': 'no Redis: the board is inside the process and dies with it (RGL-F1 grades its rebuild)',
        'RGL-F5':
          'no PostgreSQL: the SQLite history has one writer, so its ids commit in order (no Redis to lose either)',
        'RGL-F6':
          'no Redis and no PostgreSQL: the board is inside the process and rebuilt only at start (RGL-F1 grades it)',
      },
    },
    // With real services configured (`mutate --real-deps`), `embedded` grades the in-process board and the SQLite
    // history the default then leaves unrun.
    {
      name: 'embedded',
      description: 'no REDIS_URL or DATABASE_URL: the board in the process (rebuilt from SQLite on start)',
      env: { REDIS_URL: '', DATABASE_URL: '' },
      notApplicable: {
        'RGL-F2': 'no Redis: the board is inside the process, there is no Redis to restart (the default grades it)',
        'RGL-F3': 'no Redis: the board is inside the process, there is no store to keep away (the default grades it)',
        'RGL-F4': 'no Redis: the board is inside the process and dies with it (RGL-F1 grades its rebuild)',
        'RGL-F5':
          'no PostgreSQL: the SQLite history has one writer, so its ids commit in order (no Redis to lose either)',
        'RGL-F6':
          'no Redis and no PostgreSQL: the board is inside the process and rebuilt only at start (RGL-F1 grades it)',
        'RGL-I7': 'equal scores share a rank here, as in the default (the tie-break-time variant grades the tie-break)',
      },
    },
    // SHARDING=score-range (manifest.sharded.json): the board in fixed score-range shards, graded by every check.
    // Its bounds (2, 3, 4, 5, 6, 8, 10, 13, 17, 25, 50, 100: thirteen shards, narrow where the properties' scores
    // are, 1-3 points an update and a few updates a player) put the players of one month in several shards, and
    // RGL-I3's bursts (up to 200) and RGL-F2's big board (1-50 points) too: ranks count higher shards, updates move
    // players between shards, windows cross shard edges (the spec README gives the count of shards each month used).
    // On Redis (one sorted set per shard and month) where SDGRADE_REDIS_URL is set, else embedded.
    {
      name: 'sharded',
      description:
        'SHARDING=score-range (manifest.sharded.json): thirteen fixed score-range shards, on Redis sorted sets where Redis is configured',
      env: {},
      manifest: 'manifest.sharded.json',
      notApplicable: {
        'RGL-I7':
          'equal scores share a rank (SHARDING=score-range needs TIE_BREAK=shared; tie-break-time grades the tie-break)',
      },
    },
    {
      name: 'embedded-sharded',
      description:
        'SHARDING=score-range (manifest.sharded.json) on the in-process board, one tree per shard, and the SQLite history',
      env: { REDIS_URL: '', DATABASE_URL: '' },
      manifest: 'manifest.sharded.json',
      notApplicable: {
        'RGL-F2':
          'no Redis: the board is inside the process, there is no Redis to restart (sharded grades it on Redis)',
        'RGL-F3': 'no Redis: the board is inside the process, there is no store to keep away (sharded grades it)',
        'RGL-F4': 'no Redis: the board is inside the process and dies with it (RGL-F1 grades its rebuild)',
        'RGL-F5':
          'no PostgreSQL: the SQLite history has one writer, so its ids commit in order (no Redis to lose either)',
        'RGL-F6':
          'no Redis and no PostgreSQL: the board is inside the process and rebuilt only at start (RGL-F1 grades it)',
        'RGL-I7':
          'equal scores share a rank (SHARDING=score-range needs TIE_BREAK=shared; tie-break-time grades the tie-break)',
      },
    },
  ],
  load: loadLeaderboard,
  bench: benchLeaderboard,
};
