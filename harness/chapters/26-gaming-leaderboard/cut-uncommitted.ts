// RGL-F5: the board rebuilt from the history while an insert into it is uncommitted. PostgreSQL hands out ids before
// commit: an update's row can hold a lower id than a row committed after it. The target is pointed at the harness's
// PostgreSQL-protocol proxy (harness/faults/pg-wire-proxy.ts) in front of its own database and at a Redis of the
// check's own; in each of ROUNDS rounds the proxy holds the commit of the next INSERT (a held update's row is
// written, its id taken, uncommitted), a second update for another player is answered meanwhile (its row, with a
// higher id, committed), Redis restarts empty, and a read finds the board lost (the rebuild reads the history while
// the first row is still uncommitted). Then the commit goes on. Survive means: both updates answer their players'
// totals, and the board equals brute force over every acknowledged update: a rebuild that takes the last id it read
// as "everything up to here is in the board" must have waited for the rows below it (RGL-F2 races inserts with the
// rebuild too, but cannot hold one open at the instant the history is read).
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy, withPrivateRedis } from '../../faults/target-on-private-service.ts';
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

const ROUNDS = 3;
/** Bound (scaled) for the held insert to reach PostgreSQL: a hang bound, not a verdict on speed. */
const HOLD_BOUND_MS = 10_000;
/**
 * How long the commit stays held once the read that finds the board lost is sent (real time): a rebuild that does not
 * wait for the uncommitted row answers within it; one that waits is released after it. A slow machine can only let a
 * careless rebuild pass (the row committed before its read), never fail a careful one.
 */
const HELD_MS = 2_000;

export async function cutWhileInsertUncommitted(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  ctx.require('dependency:database');
  const target = ctx.target;
  if (!target.useDependency) ctx.skip('the target cannot be pointed at another database URL (needs a manifest target)');
  // Skipped before the private Redis is started when the database cannot be proxied.
  await withPrivateRedis(ctx, (redis) =>
    withPgWireProxy(ctx, 'a PostgreSQL-protocol proxy', async (proxy) => {
      const api = lbApi(ctx);
      const month = await freshMonth(ctx, api);
      // The update sent while the database is away goes to a month no read looks at.
      const scratch = await freshMonth(ctx, api);
      const model = new BoardModel(tieBreakOf(ctx));
      const players = Array.from({ length: 5 }, (_, i) => uniqueUser(`f5p${i}x`));
      const post = async (user: string, points: number, when: string): Promise<void> =>
        expectTotal(ctx, await api.update({ user_id: user, points, month }), model.add(user, points), user, when);
      let answeredWhileHeld = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const when = `round ${round + 1}`;
        for (const [i, p] of players.entries()) await post(p, 1 + ((i + round) % 3), when);
        // The held update and the one answered meanwhile get scores no one else has (no tie whose order is unknown).
        const heldUser = uniqueUser(`f5h${round}x`);
        const laterUser = uniqueUser(`f5l${round}x`);
        proxy.holdCommit(/^INSERT\b/i);
        const held = api.update({ user_id: heldUser, points: 900 + round, month });
        await waitForHold(ctx, proxy, when);
        await post(laterUser, 950 + round, `${when}: the update answered while an earlier insert is uncommitted`);
        await redis.restart();
        ctx.expect((await redis.keyCount()) === 0, `${when}: Redis still held keys after its restart`);
        const first = await readFindsLostBoard(api, month);
        if (first.answered) answeredWhileHeld++;
        proxy.releaseHolds();
        const r = await first.read;
        ctx.expect(
          r.status === 200 || r.status === 503,
          `${when}: the first read after the restart answered ${r.status ?? r.error}, not 200 (or 503 while Redis was away)`,
          r,
        );
        expectTotal(ctx, await held, model.add(heldUser, 900 + round), heldUser, `${when}: the held update`);
        await expectMonthEquals(ctx, api, month, model, `${when}: after the board was rebuilt during the held insert`);
      }
      // Then the history away (PostgreSQL unreachable, Redis and the board fine): an update cannot be recorded, so
      // it must not be acknowledged: 503 unavailable, never a 200 for a win the history the board is rebuilt from
      // does not hold (the next restart would drop it).
      proxy.takeDown();
      try {
        const away = uniqueUser('f5away');
        const x = await api.update({ user_id: away, points: 1, month: scratch });
        ctx.expect(
          x.status === 503 && (x.body as { code?: string } | undefined)?.code === 'unavailable',
          `with the match history's database away, an update for ${away} answered ${x.status ?? x.error}, not 503 unavailable: a win the history does not hold was acknowledged`,
          x,
        );
      } finally {
        proxy.up();
      }
      await expectMonthEquals(ctx, api, month, model, 'after the database came back');
      ctx.evidence.rounds = ROUNDS;
      ctx.evidence.readsAnsweredWhileHeld = answeredWhileHeld;
      ctx.evidence.proxyConnections = proxy.connections;
    }),
  );
}

function expectTotal(ctx: CheckContext, x: Exchange, want: number, user: string, when: string): void {
  const b = okBody<ScoreUpdated>(ctx, x, 200, `${when}: posting for ${user}`);
  ctx.expect(
    b.score === want,
    `${when}: ${user} answered total ${b.score}; with every acknowledged update it is ${want}`,
    x,
  );
}

/** Waits until the proxy holds the update's commit; skips when the service's inserts cannot be held. */
async function waitForHold(ctx: CheckContext, proxy: PgWireProxy, when: string) {
  const until = Date.now() + timeLimit(HOLD_BOUND_MS);
  while (proxy.held === 0) {
    if (proxy.unholdable > 0)
      ctx.skip('the service sends its inserts as one simple-query message, which commits in itself: no commit to hold');
    if (Date.now() > until) throw new Error(`${when}: no insert reached PostgreSQL within ${HOLD_BOUND_MS} ms to hold`);
    await ctx.sleep(10);
  }
}

/**
 * The first read after the restart (it finds the board lost and starts the rebuild), sent again while it answers 503
 * (Redis not reachable yet), for HELD_MS; whether it answered within them (a rebuild that did not wait for the held row).
 */
async function readFindsLostBoard(api: LbApi, month: string): Promise<{ answered: boolean; read: Promise<Exchange> }> {
  const until = Date.now() + HELD_MS;
  for (;;) {
    const read = api.top(month);
    const wait = Math.max(0, until - Date.now());
    const x = await Promise.race([read, new Promise<null>((r) => setTimeout(() => r(null), wait))]);
    if (x === null) return { answered: false, read };
    if (x.status === 503 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    return { answered: x.status === 200, read };
  }
}
