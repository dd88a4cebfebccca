// KV-F1: kill -9 of a node and its restart: the others see it down and then alive again within the stated bound,
// report its silence in milliseconds, refuse what needs all N replicas, and every acknowledged write outlives it.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { freshKey, type KvApi, sleep } from './api.ts';
import { DETECT_WITHIN_MS, expectAcknowledged, expectQuorumNotReached, needCluster, value } from './fault-kit.ts';

async function memberSeenBy(api: KvApi, member: string) {
  const { view } = await api.cluster();
  return view?.members.find((m) => m.name === member);
}

/**
 * Waits until every observer sees `member` as `want`, within the spec's bound from the call. `why` says, on a
 * failure, what the cause is likely to be (the message names the cause, not the symptom).
 */
async function waitStatus(
  ctx: CheckContext,
  observers: { name: string; api: KvApi }[],
  member: string,
  want: string,
  why = '',
) {
  const started = Date.now();
  const slack = checkSlack(ctx.evidence, 2000); // the harness's own lateness while it waits, at most 2 s
  for (const o of observers) {
    for (;;) {
      const got = await memberSeenBy(o.api, member);
      if (got?.status === want) break;
      if (Date.now() - started > slack.bound(DETECT_WITHIN_MS))
        ctx.fail(
          `${o.name} still sees ${member} as ${got?.status ?? 'unknown'} (heartbeat ${got?.heartbeat ?? '?'}) ` +
            `${DETECT_WITHIN_MS / 1000} s later, not ${want}${why}`,
        );
      await sleep(200);
    }
  }
  return Date.now() - started;
}

/** Uptime the victim must show in its heartbeat before the kill: three times the spec's 5 s bound. */
export const UPTIME_BEFORE_KILL_MS = 3 * DETECT_WITHIN_MS;

/**
 * Lets the victim build up a heartbeat worth UPTIME_BEFORE_KILL_MS of gossip, as an observer sees it. A restarted
 * node whose heartbeat counts from 0 again is news to the others only once it passes the one they remember (unless
 * a generation number says it is a new run): that takes as long as the uptime, so the check must not depend on a
 * previous check having restarted the victim a moment ago. Waits at most that long; answers what it saw.
 */
async function buildUptime(observer: { name: string; api: KvApi }, victim: string) {
  const t0 = Date.now();
  const h0 = (await memberSeenBy(observer.api, victim))?.heartbeat ?? 0;
  await sleep(1000);
  const h1 = (await memberSeenBy(observer.api, victim))?.heartbeat ?? 0;
  const perSecond = ((h1 - h0) * 1000) / (Date.now() - t0);
  let heartbeat = h1;
  if (perSecond > 0) {
    // Heartbeats the others will remember at the kill, in seconds of the victim's own gossip.
    while (heartbeat / perSecond < UPTIME_BEFORE_KILL_MS / 1000 && Date.now() - t0 < UPTIME_BEFORE_KILL_MS) {
      await sleep(500);
      heartbeat = (await memberSeenBy(observer.api, victim))?.heartbeat ?? heartbeat;
    }
  } else await sleep(UPTIME_BEFORE_KILL_MS - 1000); // a heartbeat that does not count: wait the time itself
  return { heartbeat, perSecond: Number(perSecond.toFixed(2)), waitedMs: Date.now() - t0 };
}

export async function killAndRestart(ctx: CheckContext): Promise<void> {
  const { victim, others, all } = needCluster(ctx);
  const victimApi = all.find((x) => x.name === victim)!.api;
  // First every node must see the victim alive, or "seen down" below would prove nothing.
  await waitStatus(ctx, others, victim, 'alive');
  ctx.evidence.beforeKill = await buildUptime(others[0]!, victim);
  const acked = new Map<string, { value: string; dot: string; phase: string }[]>();
  const write = async (via: { name: string; api: KvApi }, key: string, v: string, phase: string) => {
    const a = await via.api.put(key, v, { w: 2 });
    ctx.expect(
      a.outcome === 'ok',
      `${phase}, a W=2 write through ${via.name} answered ${a.x.status ?? a.x.error}`,
      a.x,
    );
    // Each version of a key has a unique dot (the spec): one acknowledged again takes the earlier version's place.
    const same = (acked.get(key) ?? []).find((x) => x.dot === a.dot);
    ctx.expect(
      same === undefined,
      `${phase}, a write of ${key} was acknowledged with dot ${a.dot}, the dot of ${JSON.stringify(same?.value)} ` +
        `acknowledged ${same?.phase}: a reused dot makes the new version take the place of the old one`,
      a.x,
    );
    acked.set(key, [...(acked.get(key) ?? []), { value: v, dot: a.dot!, phase }]);
  };
  // Writes before the crash, some coordinated by the victim itself.
  const before = Array.from({ length: 6 }, (_, i) => freshKey(`f1-before-${i}`));
  for (const [i, key] of before.entries()) await write(all[i % all.length]!, key, value(key), 'before the kill');
  await ctx.target.kill(victim);
  try {
    const keys = Array.from({ length: 10 }, (_, i) => freshKey(`f1-${i}`));
    for (const [i, key] of keys.entries())
      await write(others[i % others.length]!, key, value(key), `with ${victim} killed`);
    const refused = await victimApi.get(keys[0]!);
    ctx.evidence.requestToKilledNode = refused.x.error ?? refused.x.status;
    ctx.expect(refused.status === null, `${victim} was killed -9 but still answered`, refused.x);
    ctx.evidence.seenDownMs = await waitStatus(ctx, others, victim, 'down');
    await expectSilenceReported(ctx, others, victim);
    await expectQuorumOfAllRefused(ctx, others, victim);
    await ctx.target.start(victim);
    const { heartbeat, perSecond } = ctx.evidence.beforeKill as { heartbeat: number; perSecond: number };
    ctx.evidence.seenAliveMs = await waitStatus(
      ctx,
      all,
      victim,
      'alive',
      `: the others remember its heartbeat from before the kill (about ${heartbeat}, ${perSecond}/s), and a ` +
        'restarted node must be news to them at once, not once its new heartbeat passes the old one (a ' +
        'generation or incarnation number, compared before the heartbeat, as in Cassandra and SWIM)',
    );
    await expectAcknowledged(ctx, all, acked, `after ${victim} restarted`);
    // Keep writing after the fault: blind writes through the restarted node to the keys acknowledged before the
    // crash are new siblings and must not take the place of what was acknowledged (a reused dot would), and fresh
    // keys through every node.
    for (const key of before)
      await write(all.find((x) => x.name === victim)!, key, value(`${key}-after`), 'after the restart');
    for (const [i, key] of Array.from({ length: 6 }, (_, j) => freshKey(`f1-after-${j}`)).entries())
      await write(all[i % all.length]!, key, value(key), 'after the restart');
    await expectAcknowledged(ctx, all, acked, `after more writes following ${victim}'s restart`);
    ctx.evidence.acknowledged = [...acked.values()].reduce((n, w) => n + w.length, 0);
  } finally {
    await ctx.target.heal();
  }
}

/**
 * The cluster view's lastHeardMsAgo is in milliseconds: of a killed node, nothing new can be heard, so between two
 * views of an observer it must grow by at least the time between them (measured from the end of the first request
 * to the start of the second, so a slow machine only widens the margin).
 */
async function expectSilenceReported(ctx: CheckContext, observers: { name: string; api: KvApi }[], victim: string) {
  for (const o of observers) {
    const first = await memberSeenBy(o.api, victim);
    const firstAnswered = Date.now();
    await sleep(1000);
    const secondSent = Date.now();
    const second = await memberSeenBy(o.api, victim);
    const gap = secondSent - firstAnswered;
    const grew = (second?.lastHeardMsAgo ?? 0) - (first?.lastHeardMsAgo ?? 0);
    ctx.expect(
      first !== undefined && second !== undefined && grew >= gap - 1,
      `${o.name} reports lastHeardMsAgo ${first?.lastHeardMsAgo} then ${second?.lastHeardMsAgo} for the killed ` +
        `${victim}, ${gap} ms apart: it must grow by the time elapsed (milliseconds since last heard)`,
    );
  }
}

/**
 * With fewer nodes alive than N, no request can reach N distinct replicas: a write, a delete and a read with
 * w = N / r = N must each answer 503 quorum_not_reached, never 200 (a reply that never came does not count).
 */
async function expectQuorumOfAllRefused(ctx: CheckContext, alive: { name: string; api: KvApi }[], victim: string) {
  const { view } = await alive[0]!.api.cluster();
  const n = view?.n ?? 0;
  if (n <= alive.length) return;
  for (const node of alive) {
    const key = freshKey('f1-all');
    const what = `with ${victim} killed and ${alive.length} of the N=${n} nodes alive, through ${node.name},`;
    // First a key never written: fewer than R replies is 503 whatever they held, not 404 (404 needs R replies).
    const none = await node.api.get(freshKey('f1-none'), { r: n });
    ctx.expect(
      none.x.status === 503,
      `${what} an r=${n} read of a key never written answered ${none.x.status ?? none.x.error}, not 503`,
      none.x,
    );
    expectQuorumNotReached(ctx, none.x, `${what} an r=${n} read of a key never written`);
    const w = await node.api.put(key, value(key), { w: n });
    ctx.expect(w.x.status === 503, `${what} a w=${n} write answered ${w.x.status ?? w.x.error}, not 503`, w.x);
    expectQuorumNotReached(ctx, w.x, `${what} a w=${n} write`);
    const d = await node.api.del(key, { w: n });
    ctx.expect(d.x.status === 503, `${what} a w=${n} delete answered ${d.x.status ?? d.x.error}, not 503`, d.x);
    expectQuorumNotReached(ctx, d.x, `${what} a w=${n} delete`);
    const r = await node.api.get(key, { r: n });
    ctx.expect(r.x.status === 503, `${what} an r=${n} read answered ${r.x.status ?? r.x.error}, not 503`, r.x);
    expectQuorumNotReached(ctx, r.x, `${what} an r=${n} read`);
  }
  ctx.evidence.quorumOfAllRefused = { n, alive: alive.length };
}
