// Part of RGL-F3: the top 10 of a month in which every player has 1 point must agree with the players' own standings
// (a copy of it kept from before, which a win answered 503 but counted does not reach, does not).
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { type Leaderboard, okBody, tieBreakOf } from './api.ts';

/**
 * The top 10 of a month where every player has 1 point agrees with the players' own standings: `counted` are the
 * players on the board. Shared ranks: by user_id descending, all ranked 1. By time (who reached 1 first is not known
 * to the check: the updates went at once): ten of them, ranked by position.
 */
export function expectTopOfCounted(ctx: CheckContext, top: Exchange, counted: readonly string[], when: string): void {
  const t = okBody<Leaderboard>(ctx, top, 200, `${when}: the top 10`);
  const got = t.data.map((e) => `${e.user_id}:${e.score}#${e.rank}`).join(' ');
  const byId = [...counted].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)).slice(0, 10);
  const want =
    tieBreakOf(ctx) === 'time'
      ? t.data.every((e, i) => counted.includes(e.user_id) && e.score === 1 && e.rank === i + 1) &&
        t.data.length === byId.length &&
        new Set(t.data.map((e) => e.user_id)).size === t.data.length
      : got === byId.map((u) => `${u}:1#1`).join(' ');
  ctx.expect(
    t.total === counted.length && want,
    `${when}: the top 10 is ${got || '(empty)'} (total ${t.total}); the players' own standings put ` +
      `${counted.length} players on the board, each with 1 point${tieBreakOf(ctx) === 'time' ? '' : `: ${byId.map((u) => `${u}:1#1`).join(' ')}`}`,
    top,
  );
}
