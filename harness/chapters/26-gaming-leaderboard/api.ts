// The chapter's operations over the wire (every exchange validated against the spec by ctx.http), and the brute-force
// model the properties compare the board with: the spec's board order and shared ranks computed from the updates
// the harness itself sent, never from what the implementation says it did.
import { randomBytes } from 'node:crypto';
import type { components } from '../../../specs/26-gaming-leaderboard/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient } from '../../core/http-client.ts';

export type Entry = components['schemas']['Entry'];
export type Leaderboard = components['schemas']['Leaderboard'];
export type UserScore = components['schemas']['UserScore'];
export type ScoreUpdated = components['schemas']['ScoreUpdated'];
export type TopScores = components['schemas']['TopScores'];
export type UserProfile = components['schemas']['UserProfile'];

/** The spec's grading default for the game servers' key (setting `gameServerKey`). */
export const DEFAULT_GAME_SERVER_KEY = 'sdgrade-game-server';

const enc = encodeURIComponent;
const withMonth = (month: string | undefined) => (month === undefined ? '' : `?month=${enc(month)}`);

/** How an update authenticates: the game server's key (default), none, or an Authorization header as given. */
export type Auth = { kind: 'game-server' } | { kind: 'none' } | { kind: 'header'; value: string };

export function lbApi(ctx: CheckContext, http: HttpClient = ctx.http) {
  const key = ctx.setting<string>('gameServerKey', DEFAULT_GAME_SERVER_KEY);
  const authorized = (auth: Auth) =>
    auth.kind === 'game-server'
      ? { headers: { authorization: `Bearer ${key}` } }
      : // Requests without the game server's key break the operation's security on purpose.
        { validRequest: false, ...(auth.kind === 'header' ? { headers: { authorization: auth.value } } : {}) };
  return {
    key,
    update: (body: { user_id: string; points: number; month?: string }, auth: Auth = { kind: 'game-server' }) =>
      http.send({ method: 'POST', path: '/v1/scores', json: body, ...authorized(auth) }),
    putProfile: (user: string, displayName: string, auth: Auth = { kind: 'game-server' }) =>
      http.send({
        method: 'PUT',
        path: `/v1/users/${enc(user)}`,
        json: { display_name: displayName },
        ...authorized(auth),
      }),
    profile: (user: string) => http.send({ method: 'GET', path: `/v1/users/${enc(user)}` }),
    top: (month?: string) => http.send({ method: 'GET', path: `/v1/scores${withMonth(month)}` }),
    user: (user: string, month?: string) =>
      http.send({ method: 'GET', path: `/v1/scores/${enc(user)}${withMonth(month)}` }),
    around: (user: string, month?: string) =>
      http.send({ method: 'GET', path: `/v1/scores/${enc(user)}/around${withMonth(month)}` }),
  };
}

export type LbApi = ReturnType<typeof lbApi>;

/** The body of an answer that must have `status`; fails the check otherwise. */
export function okBody<T>(ctx: CheckContext, x: Exchange, status: number, what: string): T {
  ctx.expect(x.status === status, `${what}: expected ${status}, got ${x.status ?? x.error}`, x);
  return x.body as T;
}

/** The month current now, UTC. */
export function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

/**
 * A month nobody has posted to on this target: a random one far in the future (years 2100-9999), confirmed empty
 * (its top 10 is empty with total 0) before use, so checks and runs never share a board.
 */
export async function freshMonth(ctx: CheckContext, api: LbApi): Promise<string> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const n = randomBytes(4).readUInt32BE(0);
    const month = `${2100 + (n % 7900)}-${String(1 + ((n >>> 16) % 12)).padStart(2, '0')}`;
    const b = okBody<Leaderboard>(ctx, await api.top(month), 200, `reading the top 10 of ${month}`);
    if (b.total === 0 && b.data.length === 0) return month;
  }
  ctx.fail(
    'eight random months in 2100-9999 all had players: cannot find an empty board to check on (do all months share one board?)',
  );
}

/** A player ID no check used before (ASCII letters and digits, as the spec allows). */
export function uniqueUser(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/**
 * How the target ranks equal scores (setting `tieBreak`): `shared` (the default, the book's rule) or `time` (the
 * book's wrap-up: who reached the score first ranks first, and ranks are positions).
 */
export type TieBreak = 'shared' | 'time';

export function tieBreakOf(ctx: CheckContext): TieBreak {
  return ctx.setting<TieBreak>('tieBreak', 'shared', ['shared', 'time']);
}

/**
 * Brute force over one month's updates: the spec's board order and ranks. Under the time tie-break the updates must
 * be added in the order they were answered (sent one after the other), since that is the order players reached
 * their scores in.
 */
export class BoardModel {
  readonly scores = new Map<string, number>();
  /** The step at which each player reached their score (the time tie-break). */
  private readonly reached = new Map<string, number>();
  private step = 0;

  constructor(readonly tieBreak: TieBreak = 'shared') {}

  add(user: string, points: number): number {
    const s = (this.scores.get(user) ?? 0) + points;
    this.scores.set(user, s);
    this.reached.set(user, ++this.step);
    return s;
  }

  /**
   * Every player in board order (score descending, then user_id descending in byte order), with shared ranks; under
   * the time tie-break (score descending, then who reached it first), ranked by position.
   */
  ordered(): Entry[] {
    const all = [...this.scores].map(([user_id, score]) => ({ user_id, score }));
    if (this.tieBreak === 'time') {
      all.sort((a, b) => b.score - a.score || this.reached.get(a.user_id)! - this.reached.get(b.user_id)!);
      return all.map((e, i) => ({ ...e, rank: i + 1 }));
    }
    all.sort((a, b) => b.score - a.score || (a.user_id < b.user_id ? 1 : a.user_id > b.user_id ? -1 : 0));
    return all.map((e) => ({ ...e, rank: 1 + all.filter((o) => o.score > e.score).length }));
  }

  top(): Leaderboard {
    return { data: this.ordered().slice(0, 10), total: this.scores.size };
  }

  around(user: string): Leaderboard {
    const all = this.ordered();
    const p = all.findIndex((e) => e.user_id === user);
    return { data: all.slice(Math.max(0, p - 4), p + 5), total: all.length };
  }
}

const show = (l: Leaderboard) =>
  `${l.data.map((e) => `${e.user_id}:${e.score}#${e.rank}`).join(' ')} (total ${l.total})`;

/** Fails unless the answer equals the model's, entry for entry, in order. */
export function expectBoard(ctx: CheckContext, got: Leaderboard, want: Leaderboard, what: string, x?: Exchange): void {
  ctx.expect(show(got) === show(want), `${what}: got ${show(got)}, brute force gives ${show(want)}`, x);
}

/**
 * Reads the whole month through the API and compares it with the model: the top 10, and for every player their
 * score and rank and their window of four above and below. Returns the number of reads made.
 */
export async function expectMonthEquals(
  ctx: CheckContext,
  api: LbApi,
  month: string,
  model: BoardModel,
  when: string,
): Promise<number> {
  const t = await api.top(month);
  expectBoard(
    ctx,
    okBody<Leaderboard>(ctx, t, 200, `${when}: top 10 of ${month}`),
    model.top(),
    `${when}: top 10 of ${month}`,
    t,
  );
  const all = model.ordered();
  for (const e of all) {
    const u = await api.user(e.user_id, month);
    const info = okBody<UserScore>(ctx, u, 200, `${when}: ${e.user_id} in ${month}`).user_info;
    ctx.expect(
      info.user_id === e.user_id && info.score === e.score && info.rank === e.rank,
      `${when}: ${e.user_id} in ${month} answered score ${info.score} rank ${info.rank}; brute force gives score ${e.score} rank ${e.rank}`,
      u,
    );
    const a = await api.around(e.user_id, month);
    expectBoard(
      ctx,
      okBody<Leaderboard>(ctx, a, 200, `${when}: window of ${e.user_id} in ${month}`),
      model.around(e.user_id),
      `${when}: four above and below ${e.user_id} (position ${all.indexOf(e)}) in ${month}`,
      a,
    );
  }
  return 1 + 2 * all.length;
}
