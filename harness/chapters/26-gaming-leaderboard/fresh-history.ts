// RGL-F6: the board lost early in a deployment's life. The target is started on a PostgreSQL and a Redis of the
// check's own: an empty match history and an empty store, so every row of the history is this check's. Twice, after
// a short history (LOSSES: a handful of updates, then enough for a hundred), Redis restarts empty, a read finds the
// board lost (rebuilt from that short history), and AFTER more updates follow one after the other, each answered
// with its player's total and read back at once. Survive means every answer equals brute force over the
// acknowledged updates. A grading run's shared history is thousands of rows long, so its rebuilds never meet the
// history's first rows: a service that tells a rebuilt board's rows from the later ones by a textual comparison of
// ids (10 sorts before 3, 100 before 95) passes every other check and drops updates here (blind bug
// redis-marker-compared-as-text).
import type { CheckContext } from '../../core/check-context.ts';
import { withPrivatePostgres, withPrivateRedis } from '../../faults/target-on-private-service.ts';
import {
  BoardModel,
  expectMonthEquals,
  freshMonth,
  type LbApi,
  lbApi,
  okBody,
  type ScoreUpdated,
  tieBreakOf,
  type UserScore,
  uniqueUser,
} from './api.ts';

/** Updates acknowledged (from an empty history) before each loss of the board: one-digit, then two-digit counts. */
const LOSSES = [3, 95] as const;
/** Updates after each loss, one after the other, each read back: past the next power of ten of the count above. */
const AFTER = 20;
const PLAYERS = 5;

export async function freshHistoryLosses(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  ctx.require('dependency:redis');
  ctx.require('dependency:database');
  // Redis first: the service is never started on the empty history with the manifest's Redis (shared by other work).
  await withPrivateRedis(ctx, (redis) =>
    withPrivatePostgres(ctx, async () => {
      const api = lbApi(ctx);
      const month = await freshMonth(ctx, api);
      const model = new BoardModel(tieBreakOf(ctx));
      const players = Array.from({ length: PLAYERS }, (_, i) => uniqueUser(`f6p${i}x`));
      let sent = 0;
      const post = async (readBack: boolean, when: string): Promise<void> => {
        const user = players[sent % PLAYERS]!;
        const points = 1 + (sent % 3);
        sent++;
        const want = model.add(user, points);
        const x = await api.update({ user_id: user, points, month });
        const b = okBody<ScoreUpdated>(ctx, x, 200, `${when}: update ${sent}, ${points} for ${user}`);
        ctx.expect(
          b.score === want,
          `${when}: update ${sent} (${points} for ${user}) answered total ${b.score}; with every acknowledged update it is ${want}`,
          x,
        );
        if (readBack) await expectStanding(ctx, api, month, model, user, `${when}: after update ${sent}`);
      };
      for (const [i, before] of LOSSES.entries()) {
        const when = `loss ${i + 1} (after ${before} updates on an empty history)`;
        while (sent < before) await post(false, `before ${when}`);
        const keys = await redis.keyCount();
        ctx.expect(keys > 0, `before ${when}: the service keeps nothing in the check's Redis: it does not use it`);
        await redis.restart();
        ctx.expect((await redis.keyCount()) === 0, `${when}: Redis still held keys after its restart`);
        // The first request finds the board lost: the board is rebuilt from the short history.
        await expectMonthEquals(ctx, api, month, model, `${when}: the first reads`);
        for (let k = 0; k < AFTER; k++) await post(true, when);
        await expectMonthEquals(ctx, api, month, model, `${when}: after ${AFTER} more updates`);
      }
      ctx.evidence.acknowledged = sent;
      const want = LOSSES[LOSSES.length - 1]! + AFTER;
      ctx.expect(sent === want, `${sent} updates acknowledged, ${want} sent`);
    }),
  );
}

/** The player's score and rank read back at once, as brute force gives them. */
async function expectStanding(
  ctx: CheckContext,
  api: LbApi,
  month: string,
  model: BoardModel,
  user: string,
  when: string,
): Promise<void> {
  const e = model.ordered().find((o) => o.user_id === user)!;
  const u = await api.user(user, month);
  const info = okBody<UserScore>(ctx, u, 200, `${when}: reading ${user}`).user_info;
  ctx.expect(
    info.score === e.score && info.rank === e.rank,
    `${when}: ${user} read back score ${info.score} rank ${info.rank}; brute force gives score ${e.score} rank ${e.rank}`,
    u,
  );
}
