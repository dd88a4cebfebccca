// KV-F2: a paused replica costs a timeout, not a held request: W=2 and R=2 answer in time, and a W=3 write is a
// clear 503 or is really held by three other nodes; on a cluster larger than N, where a live node can stand in,
// a w=N write forwarded by a non-replica is acknowledged (forwarded-stand-in.ts).
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { freshKey, type KvApi, sleep } from './api.ts';
import { ANSWER_WITHIN_MS, expectQuorumNotReached, needCluster, value } from './fault-kit.ts';
import { forwardedWriteThroughStandIn } from './forwarded-stand-in.ts';

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
      const holders = await holdersOf(live, hintsBefore, key3, all3.dot);
      ctx.evidence.w3Holders = holders;
      ctx.expect(
        holders.length >= 3,
        `with ${victim} paused, a W=3 write was acknowledged (acks: ${acks}) but only ${holders.length} other ` +
          `node(s) hold it: ${holders.join(', ') || 'none'}; a hint the coordinator keeps for the paused replica is ` +
          "not an acknowledgement from a third node (read through each node's own copy and hint count)",
        all3.x,
      );
    } else expectQuorumNotReached(ctx, all3.x, `with ${victim} paused, a W=3 write`);
    ctx.evidence.w3Answer = all3.x.status;
    // On a cluster larger than N a live node can always stand in: a w=N write forwarded by a non-replica is 200.
    const n = (await api.cluster()).view?.n ?? 3;
    const before = await hintsByNode(live);
    await forwardedWriteThroughStandIn(ctx, {
      victim,
      live,
      n,
      timed,
      holders: (key, dot) => holdersOf(live, before, key, dot),
    });
  } finally {
    await ctx.target.resume(victim);
  }
  ctx.evidence.slowestMs = Math.round(Math.max(...slowest));
}

/** The live nodes that hold the write: in their own copy, or as a hint gained since `hintsBefore` was read. */
async function holdersOf(
  live: { name: string; api: KvApi }[],
  hintsBefore: Map<string, number>,
  key: string,
  dot: string | null,
): Promise<string[]> {
  const hintsAfter = await hintsByNode(live);
  const holders: string[] = [];
  for (const n of live) {
    const own = await n.api.replica(key);
    if (own.versions?.some((v) => v.dot === dot)) holders.push(`${n.name} (own copy)`);
    else if ((hintsAfter.get(n.name) ?? 0) > (hintsBefore.get(n.name) ?? 0)) holders.push(`${n.name} (hint)`);
  }
  return holders;
}

async function hintsByNode(nodes: { name: string; api: KvApi }[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const n of nodes) out.set(n.name, (await n.api.cluster()).view?.stats.hintsPending ?? 0);
  return out;
}
