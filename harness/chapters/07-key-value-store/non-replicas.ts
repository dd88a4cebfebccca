// Part of KV-C4 on a cluster larger than N: a node outside a key's N replicas holds none of its versions (the
// spec's getLocalReplica: "none when it holds nothing (it is not a replica of the key ...)"; the book partitions
// the data, each key on its N replicas), also after anti-entropy rounds, which must exchange only the keys both
// nodes replicate. Keys written with w = N while every node is up: no stand-in holds a hint for them meanwhile.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { freshKey, type KvApi, nodeApis, sleep } from './api.ts';

/** Anti-entropy rounds each node must finish after the writes: the second began after them. */
const ROUNDS = 2;

/** Each node's anti-entropy rounds so far, and the hints the cluster holds. */
async function progress(nodes: { api: KvApi }[]): Promise<{ rounds: number[]; hints: number }> {
  const stats = await Promise.all(nodes.map(async (x) => (await x.api.cluster()).view?.stats));
  return {
    rounds: stats.map((s) => s?.antiEntropyRounds ?? 0),
    hints: stats.reduce((a, s) => a + (s?.hintsPending ?? 0), 0),
  };
}

export async function nonReplicasHoldNothing(ctx: CheckContext, n: number): Promise<void> {
  const nodes = nodeApis(ctx);
  if (nodes.length <= n) {
    ctx.evidence.nonReplicas = `not exercised: ${nodes.length} node(s) with N=${n}, so every node replicates every key`;
    return;
  }
  const keys = Array.from({ length: 8 }, (_, i) => freshKey(`c4-part-${i}`));
  for (const [i, key] of keys.entries()) {
    const a = await nodes[i % nodes.length]!.api.put(key, `part-${i}`, { w: n });
    ctx.expectStatus(a.x, 200);
  }
  // Wait for anti-entropy to run on every node, and for any hint to be handed back (on a busy machine a replica can
  // miss the RPC deadline, and a stand-in then holds the write for it until it is delivered): observable events,
  // with a deadline that only bounds the wait (a store that does not count rounds is graded after it, never failed
  // for it).
  const before = (await progress(nodes)).rounds;
  const until = Date.now() + timeLimit(15_000);
  let now = await progress(nodes);
  while ((now.hints > 0 || now.rounds.some((r, i) => r - before[i]! < ROUNDS)) && Date.now() < until) {
    await sleep(250);
    now = await progress(nodes);
  }
  ctx.evidence.nonReplicas = {
    keys: keys.length,
    antiEntropyRoundsDuringWait: now.rounds.map((r, i) => r - before[i]!),
    hintsPendingAtCheck: now.hints,
  };
  for (const key of keys) {
    const placed = await nodes[0]!.api.replica(key);
    ctx.expectStatus(placed.x, 200);
    for (const node of nodes.filter((x) => !placed.replicas.includes(x.name))) {
      const own = await node.api.replica(key);
      ctx.expectStatus(own.x, 200);
      ctx.expect(
        own.versions?.length === 0,
        `${node.name} is not one of ${key}'s replicas (${placed.replicas.join(', ')}) but its own copy holds ` +
          `${JSON.stringify(own.versions?.map((v) => v.dot))} after anti-entropy rounds: a key lives on its N ` +
          'replicas only, and anti-entropy must exchange only the keys both nodes replicate',
        own.x,
      );
    }
  }
}
