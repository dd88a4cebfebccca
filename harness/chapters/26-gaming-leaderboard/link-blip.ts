// Part of RGL-F3: the link to Redis drops for an instant while updates' answers are on their way back. Redis has run
// the updates (the check watches Redis's own count of commands run rise by at least one per update), their answers
// are held on the wire (a latency toxic), and then every connection through the proxy is closed and the link is open
// again at once. A client that sends the commands it had no answer to again on its new connection (ioredis does so by
// default: autoResendUnfulfilledCommands) runs each update twice: the player posted 1 point has 2. The spec: an
// acknowledged update counts exactly once; one answered 503 at most once, and once it counts it keeps counting: the
// top 10 agrees with the players' standings, and after Redis then loses the board its rebuild counts the same wins.
// Then the link drops once more with nothing in flight: a client that adds the updates it answered 503 once the
// connection is back (a queue of unsent wins) counts a win Redis had run twice (blind bug
// unsent-updates-added-on-reconnect).
import type { Redis } from 'ioredis';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import type { FaultProxy } from '../../core/network-faults.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { freshMonth, type LbApi, okBody, type UserScore, uniqueUser } from './api.ts';
import { expectTopOfCounted } from './top-of-counted.ts';

/** Updates in flight when the link drops. */
const UPDATES = 6;
/** How long Redis's answers are held on the wire: the window in which the link is dropped. */
const HELD_MS = 2_000;
/** How long the link stays down: shorter than a reconnecting client's first retry. */
const DOWN_MS = 20;
/** Redis runs the updates within this (scaled): else the fault did not bite. */
const RUN_BOUND_MS = 5_000;
/** After the second drop (nothing in flight), how long before the players are read back: a client's reconnection. */
const AFTER_SECOND_MS = 500;
/** After the blip, the board answers 200 again within this (scaled). */
const RECOVERY_MS = 10_000;

/** Commands Redis has run, apart from the ones a client runs to look at it (INFO, PING, CLIENT, HELLO). */
async function commandsRun(probe: Redis): Promise<number> {
  const info = await probe.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!/^(info|ping|client|hello|select|auth|command)/.test(m[1]!)) n += Number(m[2]);
  }
  return n;
}

export async function blipWithAnswersInFlight(
  ctx: CheckContext,
  proxy: FaultProxy,
  probe: Redis,
  api: LbApi,
): Promise<void> {
  const month = await freshMonth(ctx, api);
  const players = Array.from({ length: UPDATES }, () => uniqueUser('f3blip'));
  const before = await commandsRun(probe);
  const toxic = await proxy.addToxic({ type: 'latency', stream: 'downstream', attributes: { latency: HELD_MS } });
  let ran = 0;
  let answers: Exchange[];
  try {
    const sent = players.map((user) =>
      api.update({ user_id: user, points: 1, month }).then((x) => {
        if (x.status === 200) ctx.log(`${user} answered 200 with ${(x.body as { score?: number }).score}`);
        return x;
      }),
    );
    const until = Date.now() + timeLimit(RUN_BOUND_MS);
    while (Date.now() < until) {
      ran = (await commandsRun(probe)) - before;
      if (ran >= UPDATES) break;
      await ctx.sleep(20);
    }
    await proxy.setEnabled(false);
    await ctx.sleep(DOWN_MS);
    await proxy.setEnabled(true);
    // The toxic stays until every answer is in: removed while it holds data, Toxiproxy's API stalls.
    answers = await Promise.all(sent);
    await proxy.removeToxic(toxic);
  } finally {
    await proxy.setEnabled(true).catch(() => undefined);
    await proxy.removeToxic(toxic).catch(() => undefined);
  }
  const statuses = answers.map((x) => x.status ?? x.error);
  ctx.evidence.linkBlip = { commandsRunBeforeTheDrop: ran, statuses };
  if (ran < UPDATES)
    throw new Error(
      `Redis ran ${ran} commands for the ${UPDATES} updates within ${RUN_BOUND_MS} ms (scaled): the link was dropped ` +
        'before their answers were on the wire, so the fault did not bite (rerun on a less loaded machine)',
    );
  for (const [i, x] of answers.entries()) {
    if (x.status === 503) continue;
    const b = okBody<{ score: number }>(
      ctx,
      x,
      200,
      `an update whose answer was on the wire when the link to Redis dropped (${players[i]})`,
    );
    ctx.expect(
      b.score === 1,
      `${players[i]} posted 1 point once; the update, answered while the link to Redis dropped and came back, ` +
        `answered total ${b.score}: it ran again on the new connection`,
      x,
    );
  }
  // Once the board answers again, each player has the 1 point (acknowledged), or 1 or nothing (answered 503).
  const counted = await readBack(ctx, api, month, players, answers, 'after the link to Redis dropped and came back');
  // The top 10 agrees with those standings (a copy of it kept from before the drop does not).
  expectTopOfCounted(ctx, await api.top(month), counted, 'after the link to Redis dropped and came back');
  // The link drops again for an instant, nothing in flight now: a client that kept the updates it answered 503 (their
  // commands timed out) to add them once the connection is back adds a win Redis had already run a second time.
  await proxy.setEnabled(false);
  await ctx.sleep(DOWN_MS);
  await proxy.setEnabled(true);
  await ctx.sleep(AFTER_SECOND_MS);
  ctx.evidence.linkBlipSecondDrop = true;
  const again = await readBack(ctx, api, month, players, answers, 'after the link to Redis dropped a second time');
  for (const user of counted)
    ctx.expect(
      again.includes(user),
      `${user} had its 1 point on the board after the first drop; after a second drop of the link it has none`,
    );
  expectTopOfCounted(ctx, await api.top(month), again, 'after the link to Redis dropped a second time');
  // Then Redis loses the board: the rebuild from the history must count every win the board counted (a 503 is not a
  // refusal: a service that takes the row of a win answered 503 out of the history loses one Redis had run).
  await probe.flushall();
  ctx.changed("emptied the check's Redis after the drop (the board lost: rebuilt from the history)");
  const after = await readBack(ctx, api, month, players, answers, 'after that, Redis emptied (the board rebuilt)');
  for (const user of counted)
    ctx.expect(
      after.includes(user),
      `${user} had its 1 point on the board after the drop; once the board was rebuilt from the history it has ` +
        'none: a win the board counted is not in the history',
    );
}

/** Each player's score once the board answers: 1 (acknowledged), or 1 or nothing (answered 503); the ones counted. */
async function readBack(
  ctx: CheckContext,
  api: LbApi,
  month: string,
  players: readonly string[],
  answers: readonly Exchange[],
  when: string,
): Promise<string[]> {
  const until = Date.now() + timeLimit(RECOVERY_MS);
  const counted: string[] = [];
  for (const [i, user] of players.entries()) {
    let x = await api.user(user, month);
    while (x.status === 503 && Date.now() < until) {
      await ctx.sleep(200);
      x = await api.user(user, month);
    }
    if (x.status === 404 && answers[i]!.status === 503) continue;
    const score = okBody<UserScore>(ctx, x, 200, `${when}: ${user}`).user_info.score;
    ctx.expect(
      score === 1,
      `${when}: ${user} (posted 1 point once, answered ${answers[i]!.status}) has score ${score}: an update ` +
        'counted more than once (or an acknowledged one lost)',
      x,
    );
    counted.push(user);
  }
  return counted;
}
