// RGL-F3: the board's store kept away. The spec: while a store the service needs cannot be reached, or loses the board
// as fast as it is rebuilt, operations answer 503 `unavailable` with Retry-After, promptly, never a hang or a 500; and
// once the store is back, the board is exact again. The target is pointed at a Redis the harness owns (it is flushed
// here: never the manifest's, which other work may share) through a fault proxy, and the check
//   1. cuts the link (a read, a player's standing, an update: each 503 with Retry-After within ANSWER_MS), and keeps
//      it cut at least LINK_CUT_MS, longer than a client that gives up reconnecting after a few seconds would try;
//      meanwhile the service must keep trying to reach Redis, its attempts never further apart than the spec's bound
//      (reconnect-watch.ts: a relay of the check's own sees each one);
//   2. stalls the link (Redis's answers held back longer than ANSWER_MS, the connection open: a Redis that hangs, a
//      black-holed network): the same three must still answer 503 in time, so a command wait must be bounded;
//   3. gives the link latency (LINK_MS on every answer to the service) while the check's own connection empties
//      Redis every FLUSH_EVERY_MS: every board the service rebuilds is lost again before its next command lands, so
//      an operation that rebuilds and retries must give up (503) instead of rebuilding for ever;
//   4. empties Redis while it refuses writes (out of memory, rebuild-refused.ts): the rebuild fails (503), and once
//      Redis takes writes again a failed rebuild must not stick: the board is rebuilt;
//   5. drops the link for an instant while updates' answers are on the wire (link-blip.ts): none may run twice;
// and after each, the board answers as brute force over the updates acknowledged before the fault; an update answered
// 503 counts at most once, and once it counts it keeps counting (later rebuilds from the history count it too).
import { Redis } from 'ioredis';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { throughProxy, withToxic } from '../../core/network-faults.ts';
import { timeLimit } from '../../core/time-scale.ts';
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
  tieBreakOf,
  type UserScore,
  uniqueUser,
} from './api.ts';
import { blipWithAnswersInFlight } from './link-blip.ts';
import { withRebuildRefused } from './rebuild-refused.ts';
import { expectAttemptsSpaced, reconnectSlack, startAttemptRelay } from './reconnect-watch.ts';

/** An answer within this while the store is away (scaled by SDGRADE_TIME_SCALE): 503, not a hang. */
const ANSWER_MS = 10_000;
/** After the store is back, reads answer 200 again within this (scaled). */
const RECOVERY_MS = 10_000;
/**
 * The link stays cut at least this long (real time, not scaled: the service's reconnection policy runs on the clock).
 * A client that stops reconnecting after a handful of quick attempts (ioredis's retryStrategy returning null) has
 * given up by then, and the board never comes back; one whose backoff doubles without a cap has left a gap of more
 * than twice the reconnection bound (with its largest slack) by then.
 */
const LINK_CUT_MS = 6_000;
/** How far past the answer bound the stalled link holds Redis's answers: a request that waits for them is too late. */
const STALL_PAST_BOUND_MS = 5_000;
/** Latency on every answer Redis sends the service: the window in which each rebuilt board is emptied again. */
const LINK_MS = 150;
const FLUSH_EVERY_MS = 10;

export async function storeKeptAway(ctx: CheckContext): Promise<void> {
  ctx.require('network-faults');
  await withPrivateRedis(ctx, async (redis) => {
    const proxy = await ctx.requireNetwork().proxy('rgl-f3-redis', `127.0.0.1:${redis.port}`);
    // The service -> the relay that sees its connection attempts -> the fault proxy -> the check's Redis.
    const relay = await startAttemptRelay(proxy.listen);
    try {
      await ctx.target.useDependency!('redis', throughProxy(redis.url, relay.listen));
      ctx.log(
        `the target reaches the private Redis through a relay (${relay.listen}) and the fault proxy ${proxy.listen}`,
      );
      const api = lbApi(ctx);
      const month = await freshMonth(ctx, api);
      // Updates sent while the store is away go to a month no read looks at: whether they count later is not known.
      const scratch = await freshMonth(ctx, api);
      const model = new BoardModel(tieBreakOf(ctx));
      const away = { api, month, scratch, model, newcomers: [] as string[], counted: new Set<string>() };
      for (let i = 0; i < 8; i++) {
        const user = `f3p${i % 5}x`;
        const want = model.add(user, 1 + (i % 3));
        const x = await api.update({ user_id: user, points: 1 + (i % 3), month });
        const b = okBody<ScoreUpdated>(ctx, x, 200, `before the faults: posting for ${user}`);
        ctx.expect(b.score === want, `before the faults: ${user} answered total ${b.score}, not ${want}`, x);
      }
      await expectMonthEquals(ctx, api, month, model, 'before the faults');

      // 1. The link cut, for at least LINK_CUT_MS.
      ctx.log(`1/5: the link to Redis cut for ${LINK_CUT_MS} ms`);
      const slack = reconnectSlack(ctx);
      await proxy.setEnabled(false);
      const cut = Date.now();
      let restored = cut;
      try {
        ctx.evidence.unavailableLinkCut = await expectUnavailable(ctx, away, 'with the link to Redis cut');
        await ctx.sleep(Math.max(0, cut + LINK_CUT_MS - Date.now()));
      } finally {
        restored = Date.now();
        await proxy.setEnabled(true);
      }
      expectAttemptsSpaced(ctx, slack, relay, cut, restored);
      await expectBack(ctx, api, month, model, `after the link to Redis was restored (cut ${LINK_CUT_MS} ms)`);

      ctx.log("2/5: Redis's answers held back");
      // 2. The link stalled: the connection stays open, Redis's answers are held back past the answer bound (a latency
      // toxic, so that they arrive in order once it is removed, as a network that recovers delivers them).
      await withToxic(
        proxy,
        { type: 'latency', stream: 'downstream', attributes: { latency: timeLimit(ANSWER_MS) + STALL_PAST_BOUND_MS } },
        async () => {
          ctx.evidence.unavailableStalled = await expectUnavailable(ctx, away, "with Redis's answers held back");
        },
      );
      await expectBack(ctx, api, month, model, "after Redis's answers flowed again");
      // Before the next fault empties Redis (its rebuild from the history would hide an update counted twice).
      await expectCountedAtMostOnce(ctx, api, scratch, away);

      // 3. Redis emptied again after every rebuild.
      ctx.log(`3/5: Redis emptied every ${FLUSH_EVERY_MS} ms, its answers ${LINK_MS} ms late`);
      const flusher = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, lazyConnect: true });
      flusher.on('error', () => {});
      await flusher.connect();
      let flushes = 0;
      let flushing = true;
      const loop = (async () => {
        while (flushing) {
          await flusher.flushall();
          flushes++;
          await new Promise((r) => setTimeout(r, FLUSH_EVERY_MS));
        }
      })();
      try {
        await withToxic(proxy, { type: 'latency', stream: 'downstream', attributes: { latency: LINK_MS } }, () =>
          expectUnavailable(ctx, away, 'with Redis emptied after every rebuild', true).then((n) => {
            ctx.evidence.unavailableEmptiedEachRebuild = n;
          }),
        );
      } finally {
        flushing = false;
        await loop.catch(() => undefined);
        flusher.disconnect();
      }
      ctx.evidence.flushes = flushes;
      ctx.log(`Redis kept its board again (${flushes} flushes)`);
      // Every answer a 200 (each rebuild outran the flushes: a stalled harness) would test nothing: an error, not a pass.
      if (!flushes || !ctx.evidence.unavailableEmptiedEachRebuild)
        throw new Error(
          `with Redis emptied every ${FLUSH_EVERY_MS} ms (${flushes} times) no answer was 503: the fault did not bite (rerun on a less loaded machine)`,
        );
      await expectBack(ctx, api, month, model, 'after Redis kept its board again');

      // 4. The board lost while Redis refuses writes (out of memory): the rebuild fails, and must be tried again.
      ctx.log('4/5: the board lost while Redis refuses writes (out of memory)');
      await withRebuildRefused(
        ctx,
        redis.port,
        async () => {
          ctx.evidence.unavailableRebuildRefused = await expectUnavailable(
            ctx,
            away,
            'with the board lost and Redis refusing writes (out of memory)',
          );
        },
        () =>
          expectBack(ctx, api, month, model, 'after Redis, out of memory while the board was lost, took writes again'),
      );
      // And updates continue from the rebuilt board.
      const user = model.ordered()[0]!.user_id;
      const want = model.add(user, 1);
      const x = await api.update({ user_id: user, points: 1, month });
      const b = okBody<ScoreUpdated>(ctx, x, 200, `after the faults: posting for ${user}`);
      ctx.expect(b.score === want, `after the faults: ${user} answered total ${b.score}, not ${want}`, x);
      await expectMonthEquals(ctx, api, month, model, 'after one more update');
      await expectCountedAtMostOnce(ctx, api, scratch, away);

      // 5. The link dropped for an instant while updates' answers were on the wire (link-blip.ts).
      ctx.log("5/5: the link to Redis dropped for an instant with updates' answers on the wire");
      const probe = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, lazyConnect: true });
      probe.on('error', () => {});
      await probe.connect();
      try {
        await blipWithAnswersInFlight(ctx, proxy, probe, api);
      } finally {
        probe.disconnect();
      }
      await expectMonthEquals(ctx, api, month, model, 'after the link to Redis dropped for an instant');
    } finally {
      await proxy.remove().catch(() => undefined);
      await relay.close();
    }
  });
}

/**
 * A read, a player's standing and an update while the store is away: each answers within ANSWER_MS, 503
 * `unavailable` with a Retry-After of whole seconds. With `orExact`, an answer may instead be 200 and exact (a
 * rebuild that landed before the next flush: the board is right then).
 */
async function expectUnavailable(
  ctx: CheckContext,
  o: { api: LbApi; month: string; scratch: string; model: BoardModel; newcomers: string[] },
  when: string,
  orExact = false,
): Promise<number> {
  const { api, month, model } = o;
  const bound = timeLimit(ANSWER_MS);
  const player = model.ordered()[0]!;
  const newcomer = uniqueUser('f3new');
  o.newcomers.push(newcomer);
  const tries: [string, () => Promise<Exchange>, (x: Exchange) => void][] = [
    [
      'the top 10',
      () => ctx.http.send({ method: 'GET', path: `/v1/scores?month=${month}`, timeoutMs: bound }),
      (x) => expectBoard(ctx, x.body as Leaderboard, model.top(), `${when}: the top 10 answered 200`, x),
    ],
    [
      `the standing of ${player.user_id}`,
      () => ctx.http.send({ method: 'GET', path: `/v1/scores/${player.user_id}?month=${month}`, timeoutMs: bound }),
      (x) => {
        const u = (x.body as UserScore).user_info;
        ctx.expect(
          u.score === player.score && u.rank === player.rank,
          `${when}: ${player.user_id} answered 200 with score ${u.score} rank ${u.rank}, not ${player.score} rank ${player.rank}`,
          x,
        );
      },
    ],
    [
      'an update',
      () =>
        ctx.http.send({
          method: 'POST',
          path: '/v1/scores',
          json: { user_id: newcomer, points: 1, month: o.scratch },
          headers: { authorization: `Bearer ${api.key}` },
          timeoutMs: bound,
        }),
      (x) =>
        ctx.expect(
          (x.body as ScoreUpdated).score === 1,
          `${when}: a new player's 1 point answered 200 with another total`,
          x,
        ),
    ],
  ];
  let unavailable = 0;
  for (const [what, send, exact] of tries) {
    const started = Date.now();
    const x = await send();
    const tookMs = Date.now() - started;
    ctx.expect(
      x.status !== null && tookMs < bound,
      `${when}: ${what} got no answer within ${bound} ms (${x.error ?? 'answered'} after ${tookMs} ms): a store kept away must not hold the request`,
      x,
    );
    if (orExact && x.status === 200) {
      exact(x);
      continue;
    }
    ctx.expectStatus(x, 503, 'unavailable');
    ctx.expect(
      /^[1-9][0-9]*$/.test(x.headers['retry-after'] ?? ''),
      `${when}: ${what} answered 503 with Retry-After ${JSON.stringify(x.headers['retry-after'] ?? null)}, not whole seconds`,
      x,
    );
    unavailable++;
  }
  return unavailable;
}

/**
 * Each update sent while the store was away posted 1 point for a new player, once: whether it counts is not known (a
 * 503 may come after Redis ran it), but the player's score is at most the 1 point ever posted. A service that runs a
 * timed-out update again before its 503 (Redis ran each try, its answers held back) shows more. One that counted
 * when read before must count still (Redis was emptied in between: the rebuild from the history counts it too).
 */
async function expectCountedAtMostOnce(
  ctx: CheckContext,
  api: LbApi,
  scratch: string,
  o: { newcomers: readonly string[]; counted: Set<string> },
) {
  let counted = 0;
  for (const user of o.newcomers) {
    const x = await api.user(user, scratch);
    if (x.status === 404) {
      ctx.expect(
        !o.counted.has(user),
        `after the faults: ${user}, posted 1 point once (answered 503 while Redis was away), was on the board when ` +
          'read before; after Redis lost the board and it was rebuilt from the history it is not: a win the board ' +
          'counted is not in the history',
        x,
      );
      continue;
    }
    counted++;
    o.counted.add(user);
    const score = okBody<UserScore>(ctx, x, 200, `after the faults: ${user} in ${scratch}`).user_info.score;
    ctx.expect(
      score === 1,
      `after the faults: ${user}, posted 1 point once (while Redis was away), has score ${score}: an update counted more than once`,
      x,
    );
  }
  ctx.evidence.updatesWhileAwayCounted = `${counted} of ${o.newcomers.length}`;
}

/** Once the store is back (or keeps its board again), reads answer 200 again within RECOVERY_MS, and exactly. */
async function expectBack(ctx: CheckContext, api: LbApi, month: string, model: BoardModel, when: string) {
  const until = Date.now() + timeLimit(RECOVERY_MS);
  for (;;) {
    const x = await api.top(month);
    if (x.status === 200) break;
    ctx.expect(
      x.status === 503 && Date.now() < until,
      `${when}: the top 10 answered ${x.status ?? x.error}, not 200 within ${RECOVERY_MS} ms`,
      x,
    );
    await ctx.sleep(200);
  }
  await expectMonthEquals(ctx, api, month, model, when);
}
