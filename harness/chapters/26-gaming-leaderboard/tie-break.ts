// RGL-I7: the book's optional tie-break by time. On a target that declares tieBreak=time, equal scores rank by who
// reached the score first and ranks are positions; the expectations come from a brute-force model fed the updates in
// the order they were answered (one after the other). A target with the shared rule (the default) is skipped.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import {
  BoardModel,
  expectBoard,
  expectMonthEquals,
  freshMonth,
  type Leaderboard,
  lbApi,
  okBody,
  type ScoreUpdated,
  tieBreakOf,
} from './api.ts';

/** IDs whose byte order disagrees with the order they post in below: the shared rule's order is no answer here. */
const PLAYERS = ['a', 'z', 'B', 'm_1', '0', '-y'] as const;

/**
 * Every run starts with ties the shared rule would order the other way: `a` reaches 2 before `z` (z lists first by
 * ID), then `z` reaches 3 before `a`.
 */
const OPENING = [
  { user: 'a', points: 2, readTop: true },
  { user: 'z', points: 2, readTop: true },
  { user: 'z', points: 1, readTop: true },
  { user: 'a', points: 1, readTop: true },
] as const;

const opArb = fc.record({
  user: fc.constantFrom(...PLAYERS),
  // Small points: players catch up with each other often.
  points: fc.integer({ min: 1, max: 2 }),
  readTop: fc.boolean(),
});

export async function tiesRankByTime(ctx: CheckContext): Promise<void> {
  if (tieBreakOf(ctx) !== 'time')
    ctx.skip(
      'the target declares the shared rule (setting tieBreak, default shared): equal scores share a rank, graded by RGL-I2; this check applies to a deployment that declares tieBreak=time (the reference: TIE_BREAK=time, variant tie-break-time)',
    );
  const api = lbApi(ctx);
  let reads = 0;
  await ctx.property(fc.array(opArb, { maxLength: 30 }), async (ops) => {
    const month = await freshMonth(ctx, api);
    const model = new BoardModel('time');
    for (const [i, op] of [...OPENING, ...ops].entries()) {
      const want = model.add(op.user, op.points);
      const x = await api.update({ user_id: op.user, points: op.points, month });
      const b = okBody<ScoreUpdated>(ctx, x, 200, `posting ${op.points} for ${op.user}`);
      ctx.expect(b.score === want, `posting ${op.points} for ${op.user} answered total ${b.score}, not ${want}`, x);
      if (op.readTop) {
        const t = await api.top(month);
        expectBoard(
          ctx,
          okBody<Leaderboard>(ctx, t, 200, 'top 10'),
          model.top(),
          `top 10 just after update ${i + 1} (ties: who reached the score first ranks first)`,
          t,
        );
        reads++;
      }
    }
    reads += await expectMonthEquals(ctx, api, month, model, 'after the updates (ties by time)');
  });
  ctx.evidence.reads = reads;
  ctx.expect(reads > 0, 'the property made no reads');
}
