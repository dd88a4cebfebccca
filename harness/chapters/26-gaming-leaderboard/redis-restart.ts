// RGL-F2: the board's Redis restarts empty while the service keeps running (the book: "in the event of a large-scale
// Redis outage, we can recreate the leaderboard" from the relational store). The target is pointed at a Redis the
// harness owns and runs without persistence (harness/faults/private-redis.ts), which is killed and started again
// three times right after acknowledged updates. Survive means: every read and update after the restart answers as
// brute force over every update acknowledged in the check (the board rebuilt from the history, on start or on
// finding the loss), whichever comes first after the restart (a read, a burst of updates racing the rebuild, six
// updates of one player at once), and each update answers its player's new total (those six: each its own, though
// some rows are in the rebuilt board and some not); and a board of 2,500 players comes back whole each time.
// Under the time tie-break (tieBreak=time) the order of ties is graded too: updates whose order matters are sent one
// after the other, and the ones sent at once give their players scores no one else has (so none ties), or (the big
// board) scores none of the others sent with them has.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { withPrivateRedis } from '../../faults/target-on-private-service.ts';
import {
  BoardModel,
  expectBoard,
  expectMonthEquals,
  freshMonth,
  type LbApi,
  type Leaderboard,
  lbApi,
  okBody,
  type ScoreUpdated,
  type TieBreak,
  tieBreakOf,
  type UserScore,
  uniqueUser,
} from './api.ts';

/** Updates sent one by one, then all at once, before each restart. */
const SEQUENTIAL = 12;
const AT_ONCE = 10;
/** The burst racing the rebuild: this many updates, one every STAGGER_MS from the first read after the restart. */
const RACING = 20;
const STAGGER_MS = 100;
/**
 * With them, from the same read on, STREAMS clients each posting STREAM_EACH updates back to back: inserts into the
 * history are under way at every moment of the rebuild's read of it (a store that hands out ids before commit, as
 * PostgreSQL's sequences do, can then have a row with a lower id than the last one the rebuild read still
 * uncommitted: a rebuild that counts it as included loses it).
 */
const STREAMS = 6;
const STREAM_EACH = 8;
/**
 * The first request after the third restart: HOT updates of one player (with points in both months), all at once.
 * They are recorded, then find the board lost: the rows of some are in the rebuild's cut (already in the rebuilt
 * board), of others not. Each must answer its own total (together: base + p, ... base + HOT x p), not the player's
 * score in the rebuilt board, which counts the others too, nor a total over both months.
 */
const HOT = 6;
/**
 * A board too big for one write of the rebuild: this many players in a month of its own, posted before the first
 * restart (BIG_AT_ONCE at a time) and read back (top 10 and total) after each, so a rebuild that writes a big board
 * in batches and loses a player at a batch's edge shows.
 */
const BIG = 2500;
const BIG_AT_ONCE = 25;

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
  const tieBreak = tieBreakOf(ctx);
  const models = new Map(months.map((m) => [m, new BoardModel(tieBreak)]));
  const big = { month: await freshMonth(ctx, api), model: new BoardModel(tieBreak) };
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
  for (const [round, firstAfter] of (
    ['a read', 'updates racing the rebuild', `${HOT} updates of one player at once`] as const
  ).entries()) {
    const when = `after Redis restart ${round + 1} (first: ${firstAfter})`;
    // Acknowledged updates: one after the other, then all at once (distinct players, so each answer is known). The
    // months alternate by round, so by the third round every player has points in both months: an update whose
    // total is taken from the history must take its own month's.
    for (const r of rounds[round]!) await post({ month: months[r.m]!, user: players[r.p]!, points: r.points }, when);
    const atOnce = Array.from({ length: AT_ONCE }, (_, i) => ({
      month: months[(i + round) % 2]!,
      user: players[i]!,
      points: 1 + (i % 3),
    }));
    // Under the time tie-break these may tie with each other: one after the other, so who came first is known.
    if (tieBreak === 'time') for (const op of atOnce) await post(op, when);
    else await Promise.all(atOnce.map((op) => post(op, when)));
    if (round === 0) await fillBigBoard(ctx, api, big.month, big.model);
    keysBefore.push(await keyCount());
    ctx.expect(keysBefore[round]! > 0, `${when}: the service keeps nothing in the check's Redis: it does not use it`);
    await restart();
    const left = await keyCount();
    ctx.expect(left === 0, `Redis still held ${left} keys after its restart: the fault did not bite`);
    if (firstAfter === 'a read') {
      // The first request after the loss is a read of one player's standing (then the top 10 and the rest below): it
      // must not answer from the empty board.
      await firstReadIsExact(ctx, api, months[0]!, models.get(months[0]!)!, when);
    } else if (firstAfter === 'updates racing the rebuild') {
      await racingUpdates(ctx, api, months, post, when, round, tieBreak);
    } else {
      // Under the time tie-break a total no one else reaches (the others stay below 400).
      const each = tieBreak === 'time' ? 100 : 1;
      // A player with points in the other month too: an included update's total must be its own month's.
      const hot = players[round]!;
      const base = models.get(months[0]!)!.scores.get(hot) ?? 0;
      await oneBurstOfOnePlayer(ctx, api, months[0]!, hot, base, each, when);
      models.get(months[0]!)!.add(hot, HOT * each);
      acknowledged += HOT;
      await post({ month: months[0]!, user: players[round]!, points: 2 }, when);
    }
    for (const m of months) await expectMonthEquals(ctx, api, m, models.get(m)!, when);
    const t = await api.top(big.month);
    expectBoard(
      ctx,
      okBody<Leaderboard>(ctx, t, 200, `${when}: the top 10 of the big board`),
      big.model.top(),
      `${when}: the top 10 of a board of ${BIG} players in ${big.month}`,
      t,
    );
  }
  ctx.evidence.acknowledged = acknowledged;
  ctx.evidence.bigBoard = big.model.scores.size;
  ctx.expect(big.model.scores.size === BIG, `the big board has ${big.model.scores.size} players, ${BIG} posted`);
  ctx.evidence.keysBeforeEachRestart = keysBefore;
  const sent = 3 * (SEQUENTIAL + AT_ONCE) + RACING + STREAMS * STREAM_EACH + HOT + 1;
  ctx.expect(acknowledged === sent, `${acknowledged} updates acknowledged, ${sent} sent`);
}

/** The first request after the loss: a player's score and rank, as brute force gives them. */
async function firstReadIsExact(
  ctx: CheckContext,
  api: LbApi,
  month: string,
  model: BoardModel,
  when: string,
): Promise<void> {
  const all = model.ordered();
  const e = all[Math.floor(all.length / 2)];
  if (!e) throw new Error(`${when}: no player in ${month} to read`);
  const u = await api.user(e.user_id, month);
  const info = okBody<UserScore>(ctx, u, 200, `${when}: the first read, ${e.user_id} in ${month}`).user_info;
  ctx.expect(
    info.score === e.score && info.rank === e.rank,
    `${when}: the first read, ${e.user_id} in ${month}, answered score ${info.score} rank ${info.rank}; brute force gives score ${e.score} rank ${e.rank}`,
    u,
  );
}

/**
 * Posts BIG players (1 to 50 points each) to `month`, BIG_AT_ONCE at a time, each answer its points. The points of
 * BIG_AT_ONCE consecutive players differ (37 and 50 are coprime), so under the time tie-break players tie only with
 * players of earlier batches, whose order is known.
 */
async function fillBigBoard(ctx: CheckContext, api: LbApi, month: string, model: BoardModel): Promise<void> {
  for (let from = 0; from < BIG; from += BIG_AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(BIG_AT_ONCE, BIG - from) }, async (_, i) => {
        const user = `f2big${String(from + i).padStart(5, '0')}`;
        const points = 1 + (((from + i) * 37) % 50);
        const x = await api.update({ user_id: user, points, month });
        const b = okBody<ScoreUpdated>(ctx, x, 200, `posting ${points} for ${user} in ${month}`);
        ctx.expect(b.score === points, `posting ${points} for the new player ${user} answered total ${b.score}`, x);
        model.add(user, points);
      }),
    );
  }
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
  tieBreak: TieBreak,
): Promise<void> {
  // Under the time tie-break no racing player may tie with another (their order is not known): each gets points no
  // one else has (the others' totals stay below 200).
  const points = (shared: number, unique: number) => (tieBreak === 'time' ? unique : shared);
  const read = api.top(months[0]!);
  const racing: Promise<unknown>[] = [read];
  for (let s = 0; s < STREAMS; s++) {
    const stream = (async () => {
      for (let i = 0; i < STREAM_EACH; i++)
        await post(
          {
            month: months[(s + i) % 2]!,
            user: uniqueUser(`f2s${round}x${s}x${i}x`),
            points: points(1 + (i % 3), 300 + s * STREAM_EACH + i),
          },
          when,
        );
    })();
    stream.catch(() => undefined);
    racing.push(stream);
  }
  for (let i = 0; i < RACING; i++) {
    if (i > 0) await ctx.sleep(STAGGER_MS);
    const update = post(
      { month: months[i % 2]!, user: uniqueUser(`f2r${round}x${i}x`), points: points(1 + (i % 3), 200 + i) },
      when,
    );
    // A failure is reported by the Promise.all below, not as an unhandled rejection while the burst goes on.
    update.catch(() => undefined);
    racing.push(update);
  }
  read.catch(() => undefined);
  const first = await read;
  okBody(ctx, first, 200, `${when}: the first read of the top 10`);
  await Promise.all(racing);
  ctx.evidence.racingUpdates = RACING + STREAMS * STREAM_EACH;
}

/**
 * HOT updates of `each` points for one player whose score is `base`, all at once: their answers are base + p,
 * base + 2p, ... base + HOT x p, in some order.
 */
async function oneBurstOfOnePlayer(
  ctx: CheckContext,
  api: LbApi,
  month: string,
  user: string,
  base: number,
  each: number,
  when: string,
): Promise<void> {
  const answers = await Promise.all(
    Array.from({ length: HOT }, () => api.update({ user_id: user, points: each, month })),
  );
  const totals = answers
    .map((x) => okBody<ScoreUpdated>(ctx, x, 200, `${when}: posting ${each} for ${user} (${HOT} at once)`).score)
    .sort((a, b) => a - b);
  const want = Array.from({ length: HOT }, (_, i) => base + (i + 1) * each);
  ctx.expect(
    totals.every((t, i) => t === want[i]),
    `${when}: ${HOT} updates of ${each} for ${user} at once (the board found lost, rebuilt) answered totals ${totals.join(', ')}; each answers its own total: ${want.join(', ')}`,
    answers[0],
  );
}
