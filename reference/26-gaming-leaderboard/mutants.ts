// Deliberately broken variants of the reference, one check each (IDs from specs/26-gaming-leaderboard/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.

/** The score-range sharded deployment (SHARDING=score-range): the sharding's own mutants start from it. */
const SHARDED_MANIFEST = new URL('./manifest.sharded.json', import.meta.url).pathname;
export const MUTANTS = [
  {
    name: 'health-plain-text',
    breaks: 'RGL-C1',
    description: 'readiness answers text/plain "ok", not the Health body',
  },
  {
    name: 'update-answers-old-score',
    breaks: 'RGL-C2',
    description: "an update answers the player's total from before its points were added",
  },
  {
    name: 'month-from-date-header',
    breaks: 'RGL-C2',
    description:
      "an update without a month goes to the month of its Date header (the game server's clock), not the month current at the service (blind bug current-month-from-date-header)",
  },
  {
    name: 'no-body-limit',
    breaks: 'RGL-C2',
    description: "a body over the spec's 64 KiB is read and parsed instead of refused with 413 payload_too_large",
  },
  {
    name: 'unknown-player-zero',
    breaks: 'RGL-C3',
    description: 'a player never posted answers 200 with score 0 at the bottom of the board, not 404 user_not_ranked',
  },
  {
    name: 'around-unvalidated',
    breaks: 'RGL-C3',
    description:
      'the window reaches its handler without validation: a bad month or user_id is 404 user_not_ranked, not 400 (blind bug around-unvalidated)',
  },
  {
    name: 'unvalidated-input',
    breaks: 'RGL-I1',
    description: "the top 10 reaches its handler without the spec's validation (any month string is a board)",
  },
  {
    name: 'rank-off-by-one-on-ties',
    breaks: 'RGL-I2',
    description: 'ranks are positions: the second of two tied players is ranked one below the first',
  },
  {
    name: 'around-clipped-wrong',
    breaks: 'RGL-I2',
    description: "near the board's top the window is shifted down to keep nine players, instead of clipped",
  },
  {
    name: 'top10-stale-copy',
    breaks: 'RGL-I2',
    description: 'the top 10 is served from a copy refreshed once a second, not from the live board',
  },
  {
    name: 'read-modify-write',
    breaks: 'RGL-I3',
    description: 'an update reads the score, waits, and writes score + points: concurrent updates are lost',
  },
  {
    name: 'month-keys-shared',
    breaks: 'RGL-I4',
    description: 'every month updates and reads one board',
  },
  {
    name: 'any-bearer-accepted',
    breaks: 'RGL-I5',
    description: 'any bearer token is taken for a game server (only its presence is checked)',
  },
  {
    name: 'key-any-case',
    breaks: 'RGL-I5',
    description: "the game servers' key is compared without regard to case (blind bug auth-key-case-insensitive)",
  },
  {
    name: 'history-deferred',
    breaks: 'RGL-F1',
    description:
      'the match history is written 3 s after the answer: a crash in between loses acknowledged points from the rebuilt board',
  },
  {
    name: 'history-before-auth',
    breaks: 'RGL-F1',
    description:
      'a match is recorded in the history before the key is checked: a refused update is in the board after a restart (blind bug auth-checked-after-history)',
  },
  {
    name: 'rank-read-apart',
    breaks: 'RGL-I3',
    description:
      'on Redis, a top 10 (or a standing) reads the stretch and the count of higher scores in two commands: an update in between ranks it by a later board',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'history-after-ack',
    breaks: 'RGL-F2',
    description:
      'the board first, then the answer, then the match history in a write-behind (5 s later, failures dropped): a Redis restart before it lands loses acknowledged points',
  },
  {
    name: 'rebuild-wrong-month',
    breaks: 'RGL-F2',
    description:
      'the rebuild files each win under the month it was posted in, not the month the update named: the boards of other months come back empty',
  },
  {
    name: 'rebuild-misses-concurrent',
    breaks: 'RGL-F2',
    description:
      'the rebuild reads the totals, then (1 s later) the last history id: updates recorded in between count as in the rebuilt board but are not',
  },
  {
    name: 'profile-put-any-caller',
    breaks: 'RGL-C4',
    description: "anyone may set a player's profile: the game servers' key is not checked on putUserProfile",
  },
  {
    name: 'profile-names-by-position',
    breaks: 'RGL-C4',
    description:
      "the top 10's names are matched to players by the position of the store's rows, not by user_id: with an unnamed player listed before a named one, names land on the wrong players (blind bug profile-names-by-position)",
  },
  {
    name: 'profile-id-any-case',
    breaks: 'RGL-C4',
    description:
      'profiles are stored and read under the player ID in lower case: two players whose IDs differ only by case share one profile (blind bug profile-id-nocase)',
  },
  {
    name: 'profile-cache-dropped-early',
    breaks: 'RGL-I6',
    description:
      'a profile set drops the cached name before its write (which lands 50 ms later): a top 10 read in between caches the old name after the set was answered (blind bug profile-cache-dropped-before-write)',
  },
  {
    name: 'included-total-all-months',
    breaks: 'RGL-F2',
    description:
      "an update whose row a rebuild already counted answers the player's history total over every month, not its month's (blind bug included-total-all-months)",
  },
  {
    name: 'included-answers-current-total',
    breaks: 'RGL-F2',
    description:
      "an update whose row a rebuild already counted answers the player's total as it is now (the rebuilt board's score), not as of its own row: updates of one player at once, found the board lost, answer the same total (blind bug included-answers-board-score)",
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'rebuild-skips-uncommitted',
    breaks: 'RGL-F2',
    description:
      "the rebuild's totals leave out the rows recorded in the 100 ms before its cut, but its last id counts them, as a snapshot read on PostgreSQL without the SHARE lock leaves out rows not yet committed: updates racing the rebuild are lost (blind bug pg-cut-snapshot-no-lock)",
  },
  {
    name: 'history-failure-acknowledged',
    breaks: 'RGL-F5',
    description:
      'a win the match history could not record (its database away) is added to the board only and answered 200: the next rebuild drops an acknowledged update (blind bug history-failure-swallowed)',
    needs: ['SDGRADE_REDIS_URL', 'SDGRADE_DATABASE_URL'],
  },
  {
    name: 'row-forgotten-on-503',
    breaks: 'RGL-F3',
    description:
      'an update whose board operation failed (503) takes its row out of the history again: a win Redis ran before its answer was lost stays on the board until the next rebuild drops it (blind bug update-503-forgets-history-row)',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'top-cached-until-update',
    breaks: 'RGL-F3',
    description:
      'the top 10 of each month is cached until an update of that month succeeds: a win answered 503 that counts is missing from it, and from its total (blind bug top-cache-kept-after-503)',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'top-cache-dropped-early',
    breaks: 'RGL-I3',
    description:
      "the top 10 of each month is cached for 2 s and dropped by an update before the update's write: a top-10 read while the update is being recorded in the history caches the board without it, served after the update's answer (blind bug top-cache-dropped-before-update)",
    // The window is the history's write: on SQLite it never yields to a read (no window), on PostgreSQL it does.
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'start-rebuild-in-background',
    breaks: 'RGL-F4',
    description:
      'at start a board its Redis kept is served at once and rebuilt from the history in the background: reads just after the start answer from a Redis behind the history (blind bug start-serves-kept-redis)',
    needs: ['SDGRADE_REDIS_URL', 'SDGRADE_DATABASE_URL'],
  },
  {
    name: 'start-rebuild-deadline',
    breaks: 'RGL-F4',
    description:
      'the rebuild at start is given 1 s, then the service serves and lets it finish in the background: with a slow history the first reads after readiness answer from a Redis behind the history (blind bug start-rebuild-deadline)',
    needs: ['SDGRADE_REDIS_URL', 'SDGRADE_DATABASE_URL'],
  },
  {
    name: 'marker-compared-as-text',
    breaks: 'RGL-F6',
    description:
      "Redis's update script compares an update's history id with the rebuild's marker as text: after a rebuild at a short history (marker 3), rows 10-29 read as already in the board and their points are never added (blind bug redis-marker-compared-as-text)",
    needs: ['SDGRADE_REDIS_URL', 'SDGRADE_DATABASE_URL'],
  },
  {
    name: 'cut-snapshot-without-lock',
    breaks: 'RGL-F5',
    description:
      "on PostgreSQL the rebuild's cut is a REPEATABLE READ snapshot instead of the SHARE lock: a row whose id was handed out before the snapshot but committed after it is counted as in the rebuilt board, and is not (blind bug pg-cut-snapshot-no-lock)",
    needs: ['SDGRADE_REDIS_URL', 'SDGRADE_DATABASE_URL'],
  },
  {
    name: 'rebuild-batch-drops',
    breaks: 'RGL-F2',
    description:
      'the Redis rebuild writes a month in batches of 1,000 players but slices 999: a board of 1,000 players or more loses one player a batch (blind bug redis-rebuild-batch-drops)',
  },
  {
    name: 'rebuilds-for-ever',
    breaks: 'RGL-F3',
    description:
      'a board found lost again after every rebuild is rebuilt until it stays: while Redis keeps losing it the request never answers, instead of 503 unavailable after three rebuilds (StrykerJS leaderboard.ts:61)',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'unavailable-without-retry-after',
    breaks: 'RGL-F3',
    description:
      'the 503 unavailable answered while the board cannot be reached has no Retry-After (StrykerJS leaderboard.ts:115)',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'rebuild-forgets-arrival',
    breaks: 'RGL-F1',
    description:
      'under TIE_BREAK=time on Redis, the rebuild writes every player as having reached their score at the start of time: after a restart, ties are listed by user ID, not by who reached the score first',
    settings: { tieBreak: 'time' },
    env: { TIE_BREAK: 'time' },
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'lost-board-read-unranked',
    breaks: 'RGL-F2',
    description:
      "under TIE_BREAK=time on Redis, a player's standing on a lost board is read from the emptied store (404 user_not_ranked) instead of rebuilding first (StrykerJS board-redis.ts:188 reads it as NaN)",
    settings: { tieBreak: 'time' },
    env: { TIE_BREAK: 'time' },
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'rebuild-failure-sticks',
    breaks: 'RGL-F3',
    description:
      'a rebuild that failed (Redis refusing writes) is kept and handed to every later caller: once Redis takes writes again every board found lost still answers 503 (blind bug recover-failure-sticks)',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'redis-resends-unanswered',
    breaks: 'RGL-F3',
    description:
      "an update whose answer was on the wire when the link to Redis dropped is sent again on the new connection (ioredis's autoResendUnfulfilledCommands): it runs twice, and the player posted 1 point has 2",
  },
  {
    name: 'unsent-replayed-on-reconnect',
    breaks: 'RGL-F3',
    description:
      'an update whose Redis script failed (the link dropped, its command timed out; answered 503) is kept and added when the connection is ready again: one Redis had run before its answer was lost counts twice (blind bug unsent-updates-added-on-reconnect)',
  },
  {
    name: 'redis-reconnect-gives-up',
    breaks: 'RGL-F3',
    description:
      'the Redis client stops reconnecting after 10 quick attempts (under 3 s): a Redis away longer leaves every operation 503 after it is back (blind bug redis-reconnect-gives-up)',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'redis-reconnect-backoff-unbounded',
    breaks: 'RGL-F3',
    description:
      "the Redis client's reconnection backs off without a cap (100 ms, 200 ms, 400 ms, ... doubling): after an outage of t seconds the next attempt may come about t seconds after Redis is back, 503 all that while; within a 6 s cut its attempts are 3.2 s apart (blind bug redis-reconnect-backoff-unbounded)",
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'redis-command-unbounded',
    breaks: 'RGL-F3',
    description:
      'the Redis client has no command timeout: a Redis that stops answering (the connection open) holds every request instead of 503 within 10 s (blind bug redis-no-command-timeout)',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'timeout-retried',
    breaks: 'RGL-F3',
    description:
      "an update whose Redis script timed out is sent again (three tries) before the 503: with Redis's answers held back, the script runs once a try and its player's 1 point counts three times (blind bug board-timeout-retried)",
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'start-rebuild-only-when-lost',
    breaks: 'RGL-F4',
    description:
      'at start the boards are rebuilt only when the store lost them: a Redis that outlived the process but lacks acknowledged wins (it lagged) keeps serving them as they are',
    needs: ['SDGRADE_REDIS_URL'],
  },
  {
    name: 'profile-cache-stale',
    breaks: 'RGL-I6',
    description: "the top 10's cached profile names are kept after a profile is set: the top 10 shows the old name",
  },
  {
    name: 'tie-break-later-first',
    breaks: 'RGL-I7',
    description:
      'with TIE_BREAK=time (declared tieBreak=time), among equal scores the player who reached the score later ranks first',
    settings: { tieBreak: 'time' },
    // The mistake is in the embedded board: no Redis, even where one is configured (CI).
    env: { TIE_BREAK: 'time', REDIS_URL: '' },
  },
  // Score-range sharding's own bugs, in the embedded sharded board (board-memory-sharded.ts): no Redis, even where
  // one is configured (CI). The manifest's shard bounds put the checks' scores in several shards.
  {
    name: 'shard-rank-skips-higher',
    breaks: 'RGL-I2',
    description:
      "under score-range sharding, a player's rank leaves out the players of the higher shards: it is their rank inside their own shard",
    env: { REDIS_URL: '' },
    manifest: SHARDED_MANIFEST,
  },
  {
    name: 'shard-move-keeps-old',
    breaks: 'RGL-I2',
    description:
      'under score-range sharding, an update that moves a player to another shard leaves their old entry in the old shard: they are listed twice',
    env: { REDIS_URL: '' },
    manifest: SHARDED_MANIFEST,
  },
  {
    name: 'shard-window-stops-at-edge',
    breaks: 'RGL-I2',
    description:
      'under score-range sharding, the window around a player (a stretch not from the top) ends at the edge of the shard it starts in instead of going on into the next',
    env: { REDIS_URL: '' },
    manifest: SHARDED_MANIFEST,
  },
  // Their twins in the Redis shards' Lua scripts (board-redis-sharded.ts), on the Redis the manifest names.
  {
    name: 'redis-shard-rank-skips-higher',
    breaks: 'RGL-I2',
    description:
      "under score-range sharding on Redis, a player's rank leaves out the players of the higher shards (the standing script's ZCARDs not added)",
    needs: ['SDGRADE_REDIS_URL'],
    manifest: SHARDED_MANIFEST,
  },
  {
    // Only RGL-I3's hot player reaches the top shard (scores of 100 and up) in nearly every run (blind bug
    // shard-redis-standing-skips-top-shard).
    name: 'redis-shard-rank-skips-top-shard',
    breaks: 'RGL-I3',
    description:
      "under score-range sharding on Redis, a player's rank and position leave out the players of the top shard (the standing script sums the higher shards up to the next-to-last key)",
    needs: ['SDGRADE_REDIS_URL'],
    manifest: SHARDED_MANIFEST,
  },
  {
    name: 'redis-shard-move-keeps-old',
    breaks: 'RGL-I2',
    description:
      'under score-range sharding on Redis, the update script moves a player to another shard without the ZREM from the old one: they are listed twice',
    needs: ['SDGRADE_REDIS_URL'],
    manifest: SHARDED_MANIFEST,
  },
  {
    name: 'redis-shard-window-stops-at-edge',
    breaks: 'RGL-I2',
    description:
      'under score-range sharding on Redis, the range script ends a window (a stretch not from the top) at the edge of the shard it starts in',
    needs: ['SDGRADE_REDIS_URL'],
    manifest: SHARDED_MANIFEST,
  },
] as const satisfies readonly {
  name: string;
  breaks: string;
  description: string;
  needs?: readonly string[];
  settings?: Record<string, string>;
  env?: Record<string, string>;
  manifest?: string;
}[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
