// RGL-F4: the service killed (kill -9) while its Redis is behind the match history, then started again. The board's
// Redis outlives the process but may lack acknowledged wins (a Redis that failed over to a replica that lagged, or
// lost its last writes): here the check's own Redis is put back to a copy taken before the last updates while the
// service is down. The board is derived data, so after the restart it must equal brute force over every acknowledged
// update anyway: no player missing, none listed twice, and (tieBreak=time) ties in the order the updates were
// answered, so stale entries of the old copy must not survive the rebuild beside the new ones. Updates are sent one
// after the other: who reached a score first is known. Where the target has a database, the restart is made a
// second time with every reply of that database held HISTORY_DELAY_MS (a proxy in front of it): a rebuild from the
// history then takes seconds, and a service that answers before it is done (serving the Redis it found, rebuilding
// in the background) answers from the stale copy; one that rebuilds first is only slower to start. Once it is ready
// the replies are held longer still while the first reads go, so a rebuild left running past readiness (a start that
// gives the rebuild a deadline) is still under way when they are answered (blind bug start-rebuild-deadline).
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { type DelayProxy, startDelayProxy } from '../../faults/delay-proxy.ts';
import type { PrivateRedis } from '../../faults/private-redis.ts';
import { withDependencyThrough, withPrivateRedis } from '../../faults/target-on-private-service.ts';
import {
  BoardModel,
  expectMonthEquals,
  freshMonth,
  type LbApi,
  lbApi,
  okBody,
  type ScoreUpdated,
  tieBreakOf,
  uniqueUser,
} from './api.ts';

/** Updates before the copy, and after it (the ones the copy lacks). */
const BEFORE = 12;
const AFTER = 12;
const PLAYERS = 6;
/** How long each reply of the target's database is held during the second restart (real time: slower only delays). */
const HISTORY_DELAY_MS = 500;
/** And from readiness until the first reads are answered (real time). */
const AFTER_READY_DELAY_MS = 1_000;

export async function restartOnLaggingRedis(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  await withPrivateRedis(ctx, (redis) =>
    restartBehind(ctx, redis, 'after the restart onto a Redis behind the history'),
  );
  if (!ctx.target.dependencies['database']) {
    ctx.evidence.slowHistory = 'not run: the target has no database dependency to slow down';
    return;
  }
  // Again with the history slow to read while the service starts (its replies held at a proxy).
  await withPrivateRedis(ctx, (redis) =>
    withDependencyThrough(
      ctx,
      {
        dependency: 'database',
        noun: 'database',
        proxy: (url) => startDelayProxy(url, 0),
        what: "a proxy that can hold the database's replies",
        settle: (proxy) => {
          proxy.delayMs = 0;
        },
      },
      (proxy) => restartBehind(ctx, redis, 'after a restart onto a Redis behind the history, the history slow', proxy),
    ),
  );
}

/** Updates, a copy of Redis, more updates; kill -9, Redis put back to the copy, start; the board must be exact. */
async function restartBehind(ctx: CheckContext, redis: PrivateRedis, when: string, slow?: DelayProxy): Promise<void> {
  const api = lbApi(ctx);
  const month = await freshMonth(ctx, api);
  const model = new BoardModel(tieBreakOf(ctx));
  const players = Array.from({ length: PLAYERS }, (_, i) => uniqueUser(`f4p${i}x`));
  const [ops] = fc.sample(
    fc.array(fc.record({ p: fc.nat({ max: PLAYERS - 1 }), points: fc.integer({ min: 1, max: 2 }) }), {
      minLength: BEFORE + AFTER,
      maxLength: BEFORE + AFTER,
    }),
    { numRuns: 1, seed: ctx.seed },
  );
  const post = (op: { p: number; points: number }) => postOne(ctx, api, month, model, players[op.p]!, op.points);
  for (const op of ops!.slice(0, BEFORE)) await post(op);
  const copied = await redis.snapshot();
  ctx.expect(copied > 0, "the service keeps nothing in the check's Redis: it does not use it");
  for (const op of ops!.slice(BEFORE)) await post(op);
  const changed = await redis.changedSinceSnapshot();
  ctx.expect(changed > 0, 'no key changed after the copy was taken: the fault would not bite');
  await ctx.target.kill();
  await redis.rollback();
  if (slow) slow.delayMs = HISTORY_DELAY_MS;
  await ctx.target.start();
  // Ready: the history gets slower still while the first reads go. A service that serves before its rebuild is done
  // (one that gives the rebuild a deadline, then finishes it in the background) has it still under way now, and it
  // lands after those reads; one that rebuilt before it was ready only waits longer for the top 10's names.
  if (slow) slow.delayMs = AFTER_READY_DELAY_MS;
  ctx.changed(`killed (kill -9) the service, put its Redis back to a copy ${AFTER} updates old, started it again`);
  ctx.evidence.keysCopied = copied;
  ctx.evidence.keysChangedSinceCopy = changed;
  // The first read right after readiness, before the history is fast again: it must already be the rebuilt board.
  await expectMonthEquals(ctx, api, month, model, when);
  if (slow) slow.delayMs = 0;
  // And updates continue from it.
  await post({ p: 0, points: 1 });
  await expectMonthEquals(ctx, api, month, model, `${when}: after one more update`);
}

async function postOne(
  ctx: CheckContext,
  api: LbApi,
  month: string,
  model: BoardModel,
  user: string,
  points: number,
): Promise<void> {
  const want = model.add(user, points);
  const x = await api.update({ user_id: user, points, month });
  const b = okBody<ScoreUpdated>(ctx, x, 200, `posting ${points} for ${user}`);
  ctx.expect(b.score === want, `posting ${points} for ${user} answered total ${b.score}, not ${want}`, x);
}
