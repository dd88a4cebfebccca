// KV-F1..F4: kill -9 and restart, pause, a partitioned node with hinted handoff, and slow links between nodes.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { freshKey, type KvApi, nodeApis, sleep } from './api.ts';
import { withToxicOn } from './links.ts';

/**
 * Stated bounds (specs/07-key-value-store/README.md, faults). Each is checked against the bound plus the scheduling
 * delay measured during the check (harness/core/scheduling-slack.ts, recorded as evidence.schedulingSlack), capped
 * below what the wrong implementations show: they never detect, never deliver, or hold a request until the client's
 * 4.5 s deadline.
 */
export const DETECT_WITHIN_MS = 5000;
export const HINTS_WITHIN_MS = 5000;
export const ANSWER_WITHIN_MS = 3000;

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

function needCluster(ctx: CheckContext): {
  victim: string;
  others: { name: string; api: KvApi }[];
  all: { name: string; api: KvApi }[];
} {
  ctx.require('process-control');
  if (ctx.target.nodes.length < 3) ctx.skip('needs a cluster of three or more nodes');
  const all = nodeApis(ctx, 4500);
  const victim = ctx.target.nodes.at(-1)!;
  return { victim, others: all.filter((x) => x.name !== victim), all };
}

/** Values outside ASCII and the BMP: a store that mangles them (or counts them wrongly) shows it on the read. */
const value = (tag: string) => `${tag}·é·😀`;

/**
 * Every write acknowledged in the whole check must read back, with every value acknowledged for its key, through
 * every node (R=2): after the kill, after the restart, after the writes that followed it.
 */
async function expectAcknowledged(
  ctx: CheckContext,
  all: { name: string; api: KvApi }[],
  acked: Map<string, { value: string; dot: string; phase: string }[]>,
  when: string,
) {
  for (const [key, writes] of acked)
    for (const node of all) {
      const r = await node.api.get(key, { r: 2 });
      const values = r.siblings.map((s) => s.value);
      for (const w of writes)
        ctx.expect(
          r.status === 200 && values.includes(w.value),
          `${when}: ${key}=${JSON.stringify(w.value)} (${w.dot}), acknowledged ${w.phase}, reads as ` +
            `${r.status ?? r.x.error} ${JSON.stringify(values)} through ${node.name}`,
          r.x,
        );
    }
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
    const w = await node.api.put(key, value(key), { w: n });
    ctx.expect(w.x.status === 503, `${what} a w=${n} write answered ${w.x.status ?? w.x.error}, not 503`, w.x);
    ctx.expectStatus(w.x, 503, 'quorum_not_reached');
    const d = await node.api.del(key, { w: n });
    ctx.expect(d.x.status === 503, `${what} a w=${n} delete answered ${d.x.status ?? d.x.error}, not 503`, d.x);
    ctx.expectStatus(d.x, 503, 'quorum_not_reached');
    const r = await node.api.get(key, { r: n });
    ctx.expect(r.x.status === 503, `${what} an r=${n} read answered ${r.x.status ?? r.x.error}, not 503`, r.x);
    ctx.expectStatus(r.x, 503, 'quorum_not_reached');
  }
  ctx.evidence.quorumOfAllRefused = { n, alive: alive.length };
}

export async function pausedNodeDoesNotHold(ctx: CheckContext): Promise<void> {
  const { victim, others } = needCluster(ctx);
  const api = others[0]!.api;
  const slowest: number[] = [];
  const slack = checkSlack(ctx.evidence, 1000); // measuring from here, before the pause
  const timed = async <T extends { x: { durationMs: number; status: number | null; error?: string } }>(
    what: string,
    p: Promise<T>,
  ) => {
    const r = await p;
    slowest.push(r.x.durationMs);
    ctx.expect(
      r.x.status !== null && r.x.durationMs <= slack.bound(ANSWER_WITHIN_MS),
      `with ${victim} paused, ${what} took ${Math.round(r.x.durationMs)} ms (${r.x.status ?? r.x.error}); ` +
        `the spec allows ${ANSWER_WITHIN_MS} ms: a paused replica must cost a timeout, not hold the request`,
      r.x as never,
    );
    return r;
  };
  await ctx.target.pause(victim);
  try {
    for (let i = 0; i < 4; i++) {
      const key = freshKey(`f2-${i}`);
      const w = await timed('a W=2 write', api.put(key, key, { w: 2 }));
      ctx.expect(w.outcome === 'ok', `with ${victim} paused, a W=2 write answered ${w.x.status}`, w.x);
      const r = await timed('an R=2 read', api.get(key, { r: 2 }));
      ctx.expect(r.status === 200, `with ${victim} paused, an R=2 read answered ${r.status}`, r.x);
    }
    // W=3 with a replica paused: a clear 503 in time, not a hang - or, with a node beyond the preference list to
    // stand in (sloppy quorum), an acknowledgement from three distinct nodes. The `acks` the server reports is its
    // own account: the check counts the nodes that really hold the write (their own copy, or a new hint).
    await sleep(1500); // the W=2 writes' calls to the paused node end (time-out, hint) before counting hints
    const live = others;
    const hintsBefore = await hintsByNode(live);
    const key3 = freshKey('f2-w3');
    const all3 = await timed('a W=3 write', api.put(key3, value(key3), { w: 3 }));
    if (all3.x.status === 200) {
      const acks = (all3.x.body as { acks: number }).acks;
      ctx.expect(acks >= 3, `a W=3 write was acknowledged by ${acks} nodes, fewer than 3`, all3.x);
      const hintsAfter = await hintsByNode(live);
      const holders: string[] = [];
      for (const n of live) {
        const own = await n.api.replica(key3);
        if (own.versions?.some((v) => v.dot === all3.dot)) holders.push(`${n.name} (own copy)`);
        else if ((hintsAfter.get(n.name) ?? 0) > (hintsBefore.get(n.name) ?? 0)) holders.push(`${n.name} (hint)`);
      }
      ctx.evidence.w3Holders = holders;
      ctx.expect(
        holders.length >= 3,
        `with ${victim} paused, a W=3 write was acknowledged (acks: ${acks}) but only ${holders.length} other ` +
          `node(s) hold it: ${holders.join(', ') || 'none'}; a hint the coordinator keeps for the paused replica is ` +
          "not an acknowledgement from a third node (read through each node's own copy and hint count)",
        all3.x,
      );
    } else ctx.expectStatus(all3.x, 503, 'quorum_not_reached');
    ctx.evidence.w3Answer = all3.x.status;
  } finally {
    await ctx.target.resume(victim);
  }
  ctx.evidence.slowestMs = Math.round(Math.max(...slowest));
}

async function hintsByNode(nodes: { name: string; api: KvApi }[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const n of nodes) out.set(n.name, (await n.api.cluster()).view?.stats.hintsPending ?? 0);
  return out;
}

async function hintsPending(all: { name: string; api: KvApi }[]): Promise<number> {
  let sum = 0;
  for (const n of all) sum += (await n.api.cluster()).view?.stats.hintsPending ?? 0;
  return sum;
}

export async function partitionedNodeGetsHints(ctx: CheckContext): Promise<void> {
  const { victim, others, all } = needCluster(ctx);
  ctx.require('network-faults');
  if (!ctx.target.partition) ctx.skip('the target cannot be partitioned (needs a manifest and a fault proxy)');
  const keys = Array.from({ length: 12 }, (_, i) => freshKey(`f3-${i}`));
  const dots = new Map<string, string>();
  let refusedOnVictim = 0;
  await ctx.target.partition(
    [victim],
    others.map((x) => x.name),
  );
  try {
    for (const [i, key] of keys.entries()) {
      const a = await others[i % others.length]!.api.put(key, value(key), { w: 2 });
      ctx.expect(
        a.outcome === 'ok',
        `with ${victim} cut off, a W=2 write through ${others[i % others.length]!.name} answered ${a.x.status}`,
        a.x,
      );
      dots.set(key, a.dot!);
    }
    // The minority cannot reach W=2 distinct replicas: the spec requires a 503 quorum_not_reached, not an
    // acknowledgement (the outcome of a 503 write is unknown, so these keys are not re-read).
    const v = all.find((x) => x.name === victim)!.api;
    for (let i = 0; i < 2; i++) {
      const key = freshKey('f3-minority');
      const m = await v.put(key, value(key), { w: 2 });
      if (m.x.status === 503) refusedOnVictim++;
      ctx.evidence.minorityWritesRefused = refusedOnVictim;
      ctx.expect(
        m.x.status === 503,
        `with ${victim} cut off from ${others.map((x) => x.name).join(' and ')}, a W=2 write through ${victim} ` +
          `answered ${m.x.status ?? m.x.error}${m.x.status === 200 ? ` (acks: ${(m.x.body as { acks: number }).acks})` : ''}: ` +
          'a node alone cannot have stored it on 2 distinct replicas; the minority must answer 503 quorum_not_reached',
        m.x,
      );
      ctx.expectStatus(m.x, 503, 'quorum_not_reached');
    }
    const pending = await hintsPending(others);
    ctx.evidence.hintsPendingDuringPartition = pending;
    if (pending === 0)
      ctx.fail(`no hint was stored while ${victim} was cut off: writes for it must be kept as hints (hinted handoff)`);
  } finally {
    await ctx.target.heal();
  }
  const started = Date.now();
  const victimApi = all.find((x) => x.name === victim)!.api;
  for (;;) {
    const pending = await hintsPending(all);
    let missing = 0;
    for (const key of keys) {
      const r = await victimApi.replica(key);
      // Only the keys the victim replicates (all of them when N is the cluster's size).
      if (r.replicas.includes(victim) && !r.versions?.some((x) => x.dot === dots.get(key))) missing++;
    }
    if (pending === 0 && missing === 0) break;
    if (Date.now() - started > checkSlack(ctx.evidence, 2000).bound(HINTS_WITHIN_MS))
      ctx.fail(
        `${HINTS_WITHIN_MS / 1000} s after the partition healed, ${pending} hints are still pending and ${victim} ` +
          `lacks ${missing} of the ${keys.length} writes it missed`,
      );
    await sleep(250);
  }
  ctx.evidence.hintsDeliveredMs = Date.now() - started;
  // Keep writing after the fault, then re-read everything acknowledged in the check through every node.
  const acked = new Map<string, { value: string; dot: string; phase: string }[]>();
  for (const key of keys) acked.set(key, [{ value: value(key), dot: dots.get(key)!, phase: 'during the partition' }]);
  for (const [i, node] of all.entries()) {
    const key = freshKey(`f3-after-${i}`);
    const a = await node.api.put(key, value(key), { w: 2 });
    ctx.expect(
      a.outcome === 'ok',
      `after healing, a W=2 write through ${node.name} answered ${a.x.status ?? a.x.error}`,
      a.x,
    );
    acked.set(key, [{ value: value(key), dot: a.dot!, phase: 'after healing' }]);
  }
  await expectAcknowledged(ctx, all, acked, 'after the partition healed');
}

export async function slowLinksStillServe(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  ctx.require('network-faults');
  if (ctx.target.nodes.length < 2) ctx.skip('needs two or more nodes');
  const nodes = nodeApis(ctx, 5000);
  const pairs: [string, string][] = [];
  for (const a of ctx.target.nodes) for (const b of ctx.target.nodes) if (a !== b) pairs.push([a, b]);
  const latency = 150;
  const { applied } = await withToxicOn(
    ctx,
    pairs,
    { type: 'latency', stream: 'upstream', attributes: { latency } },
    async () => {
      for (let i = 0; i < 6; i++) {
        const key = freshKey(`f4-${i}`);
        const w = await nodes[i % nodes.length]!.api.put(key, `v${i}`, { w: 2 });
        ctx.expect(
          w.outcome === 'ok',
          `with ${latency} ms between nodes, a W=2 write answered ${w.x.status ?? w.x.error}`,
          w.x,
        );
        const r = await nodes[(i + 1) % nodes.length]!.api.get(key, { r: 2 });
        ctx.expect(
          r.status === 200 && r.siblings.map((s) => s.value).join() === `v${i}`,
          `with ${latency} ms between nodes, an R=2 read answered ${r.status} ${JSON.stringify(r.siblings.map((s) => s.value))}`,
          r.x,
        );
      }
    },
  );
  if (!applied) ctx.skip('the links between nodes are not proxied (needs a manifest target and a fault proxy)');
  ctx.evidence.latencyMs = latency;
}
