// The chapter 26 reference server: node --import tsx reference/26-gaming-leaderboard/main.ts
// Wires config -> match history (SQLite, or PostgreSQL with DATABASE_URL) + board (Redis sorted sets with REDIS_URL,
// else the embedded tree) -> rebuild of the board from the history -> app -> run-server (README.md lists the
// environment).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, monthOf, SPEC_URL } from './app.ts';
import { DEFAULT_GAME_SERVER_KEY } from './auth.ts';
import type { Board, TieBreak } from './board.ts';
import { MemoryBoard } from './board-memory.ts';
import { ShardedMemoryBoard } from './board-memory-sharded.ts';
import { RedisBoard } from './board-redis.ts';
import { ShardedRedisBoard } from './board-redis-sharded.ts';
import { type Db, PostgresDb, SqliteDb, schemaFor } from './db.ts';
import type { MatchHistory } from './history.ts';
import { historyFor, leaderboardFor, profilesFor, redisBoardFor } from './mutant-stores.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { shardingFromEnv } from './shards.ts';

export const CHAPTER = '26-gaming-leaderboard';

/** This instance's name, kept in its data directory: the prefix of its Redis keys, stable across restarts. */
function instanceId(dataDir: string): string {
  const file = join(dataDir, 'instance-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = randomBytes(8).toString('hex');
  writeFileSync(file, id);
  return id;
}

await runServer({
  chapter: CHAPTER,
  defaultPort: 8260,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const gameServerKey = process.env['GAME_SERVER_KEY']?.trim() || DEFAULT_GAME_SERVER_KEY;
    if (!/^\S{1,200}$/.test(gameServerKey))
      throw new ConfigError('GAME_SERVER_KEY must be 1 to 200 non-space characters');
    const tieBreak = (process.env['TIE_BREAK']?.trim() || 'shared') as TieBreak;
    if (tieBreak !== 'shared' && tieBreak !== 'time') throw new ConfigError('TIE_BREAK must be shared or time');
    // SHARDING=score-range with SHARD_BOUNDS: the board split into fixed score-range shards (shards.ts).
    const sharding = shardingFromEnv(process.env);
    if (sharding && tieBreak !== 'shared') throw new ConfigError('SHARDING=score-range needs TIE_BREAK=shared');
    const spec = await loadSpec(SPEC_URL);
    const log = (m: string) => console.error(m);
    const db: Db = config.databaseUrl
      ? await PostgresDb.connect(config.databaseUrl, schemaFor(config.dataDir), log)
      : new SqliteDb(join(config.dataDir, 'history.sqlite'));
    const history: MatchHistory = historyFor(db, mutant);
    let board: Board;
    const prefix = config.redisUrl ? `sdgrade:26:${instanceId(config.dataDir)}:` : '';
    if (config.redisUrl && sharding) {
      const redis = new ShardedRedisBoard(config.redisUrl, prefix, sharding, mutant);
      await redis.connect();
      board = redis;
    } else if (sharding) {
      board = new ShardedMemoryBoard(sharding, mutant);
    } else if (config.redisUrl) {
      const redis = redisBoardFor(config.redisUrl, prefix, mutant, tieBreak);
      await redis.connect();
      board = redis;
    } else {
      board = new MemoryBoard({ tieBreak, laterFirst: mutant === 'tie-break-later-first' });
    }
    // The book's recovery, at every start: the boards are made again from the match history, so a lost or stale
    // board (an embedded one after a crash, a Redis that restarted empty) never outlives a restart. While running, a
    // board found lost is rebuilt the same way (leaderboard.ts).
    const leaderboard = leaderboardFor(board, history, { mutant, log });
    // MUTANT start-rebuild-only-when-lost: a board that outlived the process is trusted as it is.
    if (mutant !== 'start-rebuild-only-when-lost' || (await board.lost())) await leaderboard.rebuild();
    const redisBoard = board instanceof RedisBoard || board instanceof ShardedRedisBoard ? board : undefined;
    readiness.dependencies = async () => ({
      history: await db.health(),
      board: redisBoard ? ((await redisBoard.ping()) ? ('up' as const) : ('down' as const)) : ('embedded' as const),
    });
    const app = buildApp({
      spec,
      readiness,
      leaderboard,
      profiles: profilesFor(db, mutant),
      gameServerKey,
      mutant,
      logger: { level: config.logLevel },
    });
    // MUTANT month-from-date-header: an update without a month goes to the month of its Date header (the client's
    // clock), not the service's current month. Here, not in app.ts, so the blind bugs' patches still apply there.
    if (mutant === 'month-from-date-header')
      app.addHook('preHandler', async (request) => {
        const body = request.body as { month?: string } | undefined;
        const sent = Date.parse(request.headers.date ?? '');
        if (
          request.method === 'POST' &&
          request.url.startsWith('/v1/scores') &&
          body &&
          !body.month &&
          !Number.isNaN(sent)
        )
          body.month = monthOf(new Date(sent));
      });
    app.log.info(
      {
        dataDir: config.dataDir,
        history: db.kind,
        redis: Boolean(config.redisUrl),
        tieBreak,
        shardBounds: sharding?.lower ?? null,
        mutant: mutant ?? null,
      },
      'leaderboard configured',
    );
    return {
      app,
      close: async () => {
        await board.close();
        await db.close();
      },
    };
  },
});
