// Part of RGL-I3: a top 10 read while an update is certainly under way, then read again after its answer. A top-10
// cache that an update drops before its write lets a read running between the drop and the write cache the board
// without the update, and serve that copy after the update's answer (blind bug top-cache-dropped-before-update).
// Reads sent beside an update meet that window only when the timing lines up (one PostgreSQL round trip), so here
// the check makes the window itself: the target's history is reached through the PostgreSQL-protocol proxy
// (harness/faults/pg-wire-proxy.ts), which holds the commit of the update's insert. While it is held the update has
// begun (whatever it does before recording the win is done) and has not reached the board; the top 10 is read then.
// The commit goes on, the update answers, and the top 10 read after that answer must show its total.
//
// Where the database cannot be proxied (a URL target, no PostgreSQL configured) this part is not run and the evidence
// says why; the rest of RGL-I3 runs as before.
import type { CheckContext } from '../../core/check-context.ts';
import { CheckSkipped } from '../../core/check-outcome.ts';
import type { Exchange } from '../../core/http-client.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import {
  BoardModel,
  expectBoard,
  freshMonth,
  type LbApi,
  type Leaderboard,
  lbApi,
  okBody,
  type ScoreUpdated,
  uniqueUser,
} from './api.ts';

/** Updates held: one that brings a player onto the board, one that moves them past another. */
const HELD_POINTS = [3, 4] as const;
/** Bound (scaled) for the held update's insert to reach PostgreSQL: a hang bound, not a verdict on speed. */
const HOLD_BOUND_MS = 10_000;
/**
 * How long (scaled) the read sent during the hold may take before the commit goes on anyway. The reference answers it
 * in milliseconds; a service whose reads wait for the held write (one database connection) is not wrong, and its read
 * is then not one made during the update (the evidence counts the reads answered while held).
 */
const READ_WHILE_HELD_MS = 2_000;

export async function topReadDuringHeldUpdate(ctx: CheckContext): Promise<void> {
  try {
    await withPgWireProxy(ctx, "a PostgreSQL-protocol proxy that holds an update's history insert", (proxy) =>
      heldRounds(ctx, lbApi(ctx), proxy),
    );
  } catch (e) {
    if (!(e instanceof CheckSkipped)) throw e;
    // This part only, not RGL-I3: the reads beside updates still grade the same invariant, and a deployment with no
    // database to proxy (embedded, by URL) has no commit to hold; the evidence names the part left out and why.
    ctx.evidence.heldUpdates = `not run: ${e.message}`;
  }
}

async function heldRounds(ctx: CheckContext, api: LbApi, proxy: PgWireProxy): Promise<void> {
  const month = await freshMonth(ctx, api);
  const model = new BoardModel();
  const [ahead, mover] = [uniqueUser('i3h0x'), uniqueUser('i3h1x')];
  const first = await api.update({ user_id: ahead, points: 5, month });
  const total = okBody<ScoreUpdated>(ctx, first, 200, `posting 5 for ${ahead}`).score;
  ctx.expect(total === model.add(ahead, 5), `posting 5 for ${ahead} in an empty month answered total ${total}`, first);
  let readsWhileHeld = 0;
  for (const [round, points] of HELD_POINTS.entries()) {
    const when = `held update ${round + 1} of ${HELD_POINTS.length}`;
    // A top 10 read before the update: a cache of it, if the service keeps one, is there to be dropped.
    okBody<Leaderboard>(ctx, await api.top(month), 200, `${when}: the top 10 before it`);
    proxy.holdCommit(/^INSERT\b/i);
    let answered = false;
    const held = api.update({ user_id: mover, points, month }).finally(() => {
      answered = true;
    });
    // Awaited below; a stopped check must not leave its rejection unhandled meanwhile.
    held.catch(() => undefined);
    if (!(await waitForHold(ctx, proxy, () => answered, when))) {
      okBody<ScoreUpdated>(ctx, await held, 200, `${when}: posting ${points} for ${mover}`);
      ctx.skip('an update answered without an INSERT whose commit the proxy could hold (a history written otherwise)');
    }
    const during = api.top(month);
    during.catch(() => undefined);
    if (await answersWithin(during, timeLimit(READ_WHILE_HELD_MS))) readsWhileHeld++;
    proxy.releaseHolds();
    const x = await held;
    const want = model.add(mover, points);
    const score = okBody<ScoreUpdated>(ctx, x, 200, `${when}: posting ${points} for ${mover}`).score;
    ctx.expect(score === want, `${when}: posting ${points} for ${mover} answered total ${score}, not ${want}`, x);
    okBody<Leaderboard>(ctx, await during, 200, `${when}: a top 10 read while the update's history insert was held`);
    const t = await api.top(month);
    expectShows(ctx, t, mover, score, when);
    expectBoard(ctx, okBody<Leaderboard>(ctx, t, 200, `${when}: the top 10`), model.top(), `${when}: the top 10`, t);
  }
  ctx.evidence.heldUpdates = {
    rounds: HELD_POINTS.length,
    readsWhileHeld,
    // Not a failure (reads may wait for the database), but then this part met no read inside an update: said so.
    ...(readsWhileHeld === 0 ? { note: 'no top 10 answered while an insert was held: the reads wait for it' } : {}),
  };
}

function expectShows(ctx: CheckContext, t: Exchange, user: string, score: number, when: string): void {
  const shown = okBody<Leaderboard>(ctx, t, 200, `${when}: the top 10 after the update's answer`).data;
  const got = shown.find((e) => e.user_id === user)?.score;
  ctx.expect(
    got === score,
    `${when}: ${user} was answered total ${score}; the top 10 read after that answer (another was read while the ` +
      `update's history insert was held) shows ${got ?? 'no entry'}: a copy of the top 10 from before the update was served`,
    t,
  );
}

/** Whether the exchange answers within `ms` (real time). */
async function answersWithin(x: Promise<Exchange>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([x.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until the proxy holds the update's insert: true, or false when the update answered first (it had no insert
 * to hold). This part is not run when the service's inserts cannot be held.
 */
async function waitForHold(
  ctx: CheckContext,
  proxy: PgWireProxy,
  answered: () => boolean,
  when: string,
): Promise<boolean> {
  const until = Date.now() + timeLimit(HOLD_BOUND_MS);
  while (proxy.held === 0) {
    if (proxy.unholdable > 0)
      ctx.skip('the service sends its inserts as one simple-query message, which commits in itself: no commit to hold');
    if (answered()) return false;
    if (Date.now() > until) throw new Error(`${when}: no insert reached PostgreSQL within ${HOLD_BOUND_MS} ms to hold`);
    await ctx.sleep(5);
  }
  return true;
}
