// RGL-F1: kill -9 of the service right after acknowledged updates, then a restart. The board it serves after the
// restart (rebuilt from the match history, whatever keeps it) must equal brute force over every update acknowledged
// in the whole check, in every month the check used; then updates continue from it, and it is read again. Under the
// time tie-break (tieBreak=time) every update is sent after the previous one's answer, so the order ties rank in is
// known: the rebuilt board must order them as they were answered.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
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

/** kill -9, check the service is really down, start it again. */
async function crash(ctx: CheckContext, api: LbApi, month: string): Promise<void> {
  await ctx.target.kill();
  const down = await api.top(month);
  ctx.expect(down.status === null, 'the service still answered after kill -9: the fault did not bite');
  await ctx.target.start();
  ctx.changed('killed (kill -9) and restarted the service');
}

export async function killAndRebuild(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const api = lbApi(ctx);
  const months = [await freshMonth(ctx, api), await freshMonth(ctx, api)];
  const tieBreak = tieBreakOf(ctx);
  const models = new Map(months.map((m) => [m, new BoardModel(tieBreak)]));
  const players = Array.from({ length: 12 }, (_, i) => uniqueUser(`f1p${i}x`));
  const rnd = fc.sample(
    fc.array(fc.record({ m: fc.nat({ max: 1 }), p: fc.nat({ max: 11 }), points: fc.integer({ min: 1, max: 3 }) }), {
      minLength: 30,
      maxLength: 30,
    }),
    { numRuns: 3, seed: ctx.seed },
  );
  let acknowledged = 0;
  let refused = 0;
  for (let round = 0; round < 3; round++) {
    const when = `after kill -9 ${round + 1}`;
    // Half the round one after the other, half all at once (under the time tie-break one after the other too: who
    // reached a score first must be known); the kill comes right after the last answer.
    const ops = rnd[round]!;
    const post = async (op: (typeof ops)[number]) => {
      const month = months[op.m]!;
      const x = await api.update({ user_id: players[op.p]!, points: op.points, month });
      okBody<ScoreUpdated>(ctx, x, 200, `posting for ${players[op.p]} in ${month}`);
      models.get(month)!.add(players[op.p]!, op.points);
      acknowledged++;
    };
    for (const op of ops.slice(0, 15)) await post(op);
    if (tieBreak === 'time') for (const op of ops.slice(15)) await post(op);
    else await Promise.all(ops.slice(15).map(post));
    // Updates refused (401) just before the kill: they must change nothing, in the live board or in the history the
    // board is rebuilt from (a service that records a match before checking the key shows it only after a restart).
    for (const auth of [{ kind: 'none' }, { kind: 'header', value: `Bearer ${api.key}x` }] as const) {
      const x = await api.update({ user_id: players[round]!, points: 3, month: months[0]! }, auth);
      ctx.expect(
        x.status === 401 && (x.body as { code?: string } | undefined)?.code === 'unauthorized',
        `${when}: an update without the game server's key got ${x.status ?? x.error}, not 401 unauthorized`,
        x,
      );
      refused++;
    }
    await crash(ctx, api, months[0]!);
    for (const m of months) await expectMonthEquals(ctx, api, m, models.get(m)!, when);
    // Updates continue from the rebuilt board: a new update's total counts every acknowledged one before the crash.
    const p = players[round]!;
    const want = models.get(months[0]!)!.add(p, 1);
    const x = await api.update({ user_id: p, points: 1, month: months[0]! });
    const b = okBody<ScoreUpdated>(ctx, x, 200, `${when}: posting for ${p}`);
    ctx.expect(
      b.score === want,
      `${when}: a new update of ${p} answered total ${b.score}; with everything acknowledged before the crash it is ${want}`,
      x,
    );
    acknowledged++;
  }
  for (const m of months) await expectMonthEquals(ctx, api, m, models.get(m)!, 'at the end');
  ctx.evidence.acknowledged = acknowledged;
  ctx.evidence.refused = refused;
  ctx.expect(acknowledged === 3 * 31, `${acknowledged} updates acknowledged, 93 sent`);
  ctx.expect(refused === 6, `${refused} updates refused before the kills, 6 sent`);
}
