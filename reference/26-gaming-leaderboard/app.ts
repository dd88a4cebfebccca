// The HTTP surface of chapter 26: handlers by operationId; routes, validation and errors come from the spec (kit).
// Updates go to the match history first, then to the board (leaderboard.ts); reads come from the board only.
import type { FastifyInstance } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import { isGameServer } from './auth.ts';
import type { Entry } from './board.ts';
import type { Leaderboard } from './leaderboard.ts';
import type { MutantName } from './mutants.ts';
import type { Profiles } from './profiles.ts';

/** A top-10 entry: the board's, with the player's profile name. */
type TopEntry = Entry & { display_name: string | null };

export const SPEC_URL = new URL('../../specs/26-gaming-leaderboard/openapi.yaml', import.meta.url);

/** The book's top 10 and its "four places above and below". */
const TOP = 10;
const AROUND = 4;

export interface LeaderboardAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  leaderboard: Leaderboard;
  profiles: Profiles;
  gameServerKey: string;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
  /** The clock that decides the current month (tests only). */
  now?: () => Date;
}

/** The month current at `d`, UTC, as `YYYY-MM`. */
export function monthOf(d: Date): string {
  return d.toISOString().slice(0, 7);
}

export function buildApp(o: LeaderboardAppOptions): FastifyInstance {
  const { leaderboard: board, profiles, mutant } = o;
  const now = o.now ?? (() => new Date());
  // MUTANT month-keys-shared: one board whatever the month.
  const boardMonth = (month: string) => (mutant === 'month-keys-shared' ? 'shared' : month);
  // MUTANT rank-off-by-one-on-ties: a player's rank is their position, so tied players get different ranks.
  const ranked = (entries: Entry[], start: number): Entry[] =>
    mutant === 'rank-off-by-one-on-ties' ? entries.map((e, i) => ({ ...e, rank: start + i + 1 })) : entries;
  // MUTANT top10-stale-copy: the top 10 of each month cached for a second.
  const topCache = new Map<string, { at: number; value: { data: TopEntry[]; total: number } }>();
  /** The top 10 with each player's profile name (the book: user details for the top 10, from a cache). */
  const withNames = async (entries: Entry[]): Promise<TopEntry[]> => {
    const names = await profiles.namesOf(entries.map((e) => e.user_id));
    return entries.map((e) => ({ ...e, display_name: names.get(e.user_id) ?? null }));
  };
  const gameServerOnly = (authorization: string | undefined) => {
    if (
      !isGameServer(authorization, o.gameServerKey, mutant === 'any-bearer-accepted', mutant === 'key-any-case') &&
      // MUTANT profile-put-any-caller: anyone may set a profile.
      mutant !== 'profile-put-any-caller'
    )
      throw new ProblemError(401, 'unauthorized', 'only game servers set profiles (Authorization: Bearer <key>)');
  };

  const notRanked = (user: string, month: string) =>
    new ProblemError(404, 'user_not_ranked', `${user} has no score on the board of ${month}`);

  return createApp({
    spec: o.spec,
    readiness: o.readiness,
    logger: o.logger,
    // MUTANT unvalidated-input, MUTANT around-unvalidated: an operation reaches its handler without validation.
    unvalidated:
      mutant === 'unvalidated-input'
        ? ['getTopScores']
        : mutant === 'around-unvalidated'
          ? ['getScoresAroundUser']
          : [],
    // MUTANT no-body-limit: bodies far over the spec's 64 KiB are read and parsed.
    ...(mutant === 'no-body-limit' ? { bodyLimit: 16 * 1024 * 1024 } : {}),
    handlers: {
      // MUTANT health-plain-text: readiness is not the documented body.
      ...(mutant === 'health-plain-text'
        ? { getReadiness: async (_q, reply) => reply.type('text/plain').send('ok') }
        : {}),

      async updateScore(request, reply) {
        const b = request.body as { user_id: string; points: number; month?: string };
        const month = b.month ?? monthOf(now());
        // MUTANT history-before-auth: the match is recorded before the key is checked, so a refused update is in
        // the history (and in the board after a restart's rebuild).
        const early = mutant === 'history-before-auth' ? await board.record(month, b.user_id, b.points) : undefined;
        if (
          !isGameServer(
            request.headers.authorization,
            o.gameServerKey,
            mutant === 'any-bearer-accepted',
            mutant === 'key-any-case',
          )
        )
          throw new ProblemError(401, 'unauthorized', 'only game servers post scores (Authorization: Bearer <key>)');
        // Recorded in the history, then added to the board (leaderboard.ts).
        let score = await board.update(boardMonth(month), b.user_id, b.points, early);
        // MUTANT update-answers-old-score: the total before the update.
        if (mutant === 'update-answers-old-score') score -= b.points;
        return reply.code(200).send({ user_id: b.user_id, month, score });
      },

      async getTopScores(request, reply) {
        const { month = monthOf(now()) } = request.query as { month?: string };
        if (mutant === 'top10-stale-copy') {
          const hit = topCache.get(month);
          if (hit && Date.now() - hit.at < 1000) return reply.code(200).send(hit.value);
        }
        const { entries, total } = await board.range(boardMonth(month), 0, TOP - 1);
        const value = { data: await withNames(ranked(entries, 0)), total };
        if (mutant === 'top10-stale-copy') topCache.set(month, { at: Date.now(), value });
        return reply.code(200).send(value);
      },

      async getUserScore(request, reply) {
        const { user_id } = request.params as { user_id: string };
        const { month = monthOf(now()) } = request.query as { month?: string };
        const s = await board.standing(boardMonth(month), user_id);
        if (!s) {
          if (mutant === 'unknown-player-zero') {
            // MUTANT unknown-player-zero: an unknown player is shown at the bottom with 0.
            const { total } = await board.range(boardMonth(month), 0, -1);
            return reply.code(200).send({ user_info: { user_id, score: 0, rank: total + 1 } });
          }
          throw notRanked(user_id, month);
        }
        const rank = mutant === 'rank-off-by-one-on-ties' ? s.position + 1 : s.rank;
        return reply.code(200).send({ user_info: { user_id, score: s.score, rank } });
      },

      async getScoresAroundUser(request, reply) {
        const { user_id } = request.params as { user_id: string };
        const { month = monthOf(now()) } = request.query as { month?: string };
        const s = await board.standing(boardMonth(month), user_id);
        if (!s) throw notRanked(user_id, month);
        let start = Math.max(0, s.position - AROUND);
        let stop = s.position + AROUND;
        // MUTANT around-clipped-wrong: at the top the window slides down to keep nine players.
        if (mutant === 'around-clipped-wrong') {
          start = Math.max(0, s.position - AROUND);
          stop = start + 2 * AROUND;
        }
        const { entries, total } = await board.range(boardMonth(month), start, stop);
        return reply.code(200).send({ data: ranked(entries, start), total });
      },

      async putUserProfile(request, reply) {
        const { user_id } = request.params as { user_id: string };
        const { display_name } = request.body as { display_name: string };
        gameServerOnly(request.headers.authorization);
        await profiles.set(user_id, display_name);
        return reply.code(200).send({ user_id, display_name });
      },

      async getUserProfile(request, reply) {
        const { user_id } = request.params as { user_id: string };
        const display_name = await profiles.get(user_id);
        if (display_name === null) throw new ProblemError(404, 'user_not_found', `${user_id} has no profile`);
        return reply.code(200).send({ user_id, display_name });
      },
    },
  });
}
