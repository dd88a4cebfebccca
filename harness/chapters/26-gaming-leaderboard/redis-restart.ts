// RGL-F2: the board's Redis restarts empty while the service keeps running (the book: "in the event of a large-scale
// Redis outage, we can recreate the leaderboard" from the relational store). The target is pointed at a Redis the
// harness owns and runs without persistence (harness/faults/private-redis.ts), which is killed and started again
// three times right after acknowledged updates. Survive means: every read and update after the restart answers as
// brute force over every update acknowledged in the check (the board rebuilt from the history, on start or on
// finding the loss), whichever comes first after the restart (a read, a burst of updates racing the rebuild, an
// update), and each update answers its player's new total.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { withPrivateRedis } from '../../faults/target-on-private-service.ts';
import {
  BoardModel,
  expectMonthEquals,
  freshMonth,
  type LbApi,
  lbApi,
  okBody,
  type ScoreUpdated,
  uniqueUser,
} from './api.ts';

/** Updates sent one by one, then all at once, before each restart. */
const SEQUENTIAL = 12;
const AT_ONCE = 10;
/** The burst racing the rebuild: this many updates, one every STAGGER_MS from the first read after the restart. */
const RACING = 20;
const STAGGER_MS = 100;

interface Op {
  month: string;
  user: string;
  points: number;
}

export async function redisRestart(ctx: CheckContext): Promise<void> {
  await withPrivateRedis(ctx, (redis) =>
    restartsLoseNothing(
      ctx,
      lbApi(ctx),
      () => redis.restart(),
      () => redis.keyCount(),
    ),
  );
}

async function restartsLoseNothing(
  ctx: CheckContext,
  api: LbApi,
  restart: () => Promise<void>,
  keyCount: () => Promise<number>,
): Promise<void> {
  const months = [await freshMonth(ctx, api), await freshMonth(ctx, api)];
  const models = new Map(months.map((m) => [m, new BoardModel()]));
  const players = Array.from({ length: 10 }, (_, i) => uniqueUser(`f2p${i}x`));
  let acknowledged = 0;

  /** Posts one update and expects its answer to be the model's new total (the caller keeps players distinct). */
  const post = async (op: Op, when: string): Promise<Exchange> => {
    const want = models.get(op.month)!.add(op.user, op.points);
    const x = await api.update({ user_id: op.user, points: op.points, month: op.month });
    const b = okBody<ScoreUpdated>(ctx, x, 200, `${when}: posting ${op.points} for ${op.user} in ${op.month}`);
    ctx.expect(
      b.score === want,
      `${when}: posting ${op.points} for ${op.user} in ${op.month} answered total ${b.score}; with every acknowledged update it is ${want}`,
      x,
    );
    acknowledged++;
    return x;
  };

  const rounds = fc.sample(
    fc.array(fc.record({ m: fc.nat({ max: 1 }), p: fc.nat({ max: 9 }), points: fc.integer({ min: 1, max: 3 }) }), {
      minLength: SEQUENTIAL,
      maxLength: SEQUENTIAL,
    }),
    { numRuns: 3, seed: ctx.seed },
  );
  const keysBefore: number[] = [];
  for (const [round, firstAfter] of (['a read', 'updates racing the rebuild', 'an update'] as const).entries()) {
    const when = `after Redis restart ${round + 1} (first: ${firstAfter})`;
    // Acknowledged updates: one after the other, then all at once (distinct players, so each answer is known).
    for (const r of rounds[round]!) await post({ month: months[r.m]!, user: players[r.p]!, points: r.points }, when);
    await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) =>
        post({ month: months[i % 2]!, user: players[i]!, points: 1 + (i % 3) }, when),
      ),
    );
    keysBefore.push(await keyCount());
    ctx.expect(keysBefore[round]! > 0, `${when}: the service keeps nothing in the check's Redis: it does not use it`);
    await restart();
    const left = await keyCount();
    ctx.expect(left === 0, `Redis still held ${left} keys after its restart: the fault did not bite`);
    if (firstAfter === 'a read') {
      // The first request after the loss is a read: it must not answer from the empty board.
    } else if (firstAfter === 'an update') {
      await post({ month: months[0]!, user: players[round]!, points: 2 }, when);
    } else {
      await racingUpdates(ctx, api, months, post, when, round);
    }
    for (const m of months) await expectMonthEquals(ctx, api, m, models.get(m)!, when);
  }
  ctx.evidence.acknowledged = acknowledged;
  ctx.evidence.keysBeforeEachRestart = keysBefore;
  const sent = 3 * (SEQUENTIAL + AT_ONCE) + RACING + 1;
  ctx.expect(acknowledged === sent, `${acknowledged} updates acknowledged, ${sent} sent`);
}

/**
 * A read (the first request after the restart: it finds the board lost) and, from then on, one update every
 * STAGGER_MS for new players, so updates arrive while the board is being rebuilt. Each answer must be the new
 * player's points; the read must answer 200 (its content depends on which racing updates it saw).
 */
async function racingUpdates(
  ctx: CheckContext,
  api: LbApi,
  months: readonly string[],
  post: (op: Op, when: string) => Promise<Exchange>,
  when: string,
  round: number,
): Promise<void> {
  const read = api.top(months[0]!);
  const racing: Promise<unknown>[] = [read];
  for (let i = 0; i < RACING; i++) {
    if (i > 0) await ctx.sleep(STAGGER_MS);
    const update = post({ month: months[i % 2]!, user: uniqueUser(`f2r${round}x${i}x`), points: 1 + (i % 3) }, when);
    // A failure is reported by the Promise.all below, not as an unhandled rejection while the burst goes on.
    update.catch(() => undefined);
    racing.push(update);
  }
  read.catch(() => undefined);
  const first = await read;
  okBody(ctx, first, 200, `${when}: the first read of the top 10`);
  await Promise.all(racing);
  ctx.evidence.racingUpdates = RACING;
}
