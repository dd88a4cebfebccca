// KV-C4: a node's own copy of a key (getLocalReplica), with no coordination: tombstones included, the key's N replicas
// in ring order, every replica holding a w=1 write soon after it is acknowledged, and nothing held by a node outside
// the replicas (on a cluster larger than N).
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, kvApi, nodeApis, sleep } from './api.ts';
import { nonReplicasHoldNothing } from './non-replicas.ts';
import { keyPosition, preferenceList } from './ring-placement.ts';

export async function localReplicaConformance(ctx: CheckContext): Promise<void> {
  const api = kvApi(ctx.http);
  const nodes = nodeApis(ctx);
  const key = freshKey('c4');
  const { x: viewX, view } = await api.cluster();
  ctx.expectStatus(viewX, 200);
  const n = view!.n;
  for (const node of nodes) {
    const r = await node.api.replica(key);
    ctx.expectStatus(r.x, 200);
    ctx.expect(r.versions?.length === 0, `${node.name} holds versions of a key never written`, r.x);
    ctx.expect(
      new Set(r.replicas).size === Math.min(n, view!.members.length) && r.replicas.length === new Set(r.replicas).size,
      `${node.name} places the key on ${JSON.stringify(r.replicas)}, not on N=${n} distinct nodes`,
      r.x,
    );
  }
  await replicasInRingOrder(ctx, n);
  const put = await api.put(key, 'kept', { w: n });
  ctx.expectStatus(put.x, 200);
  const del = await api.del(key, { context: put.context, w: n });
  ctx.expectStatus(del.x, 200);
  // With w = N, each replica's own copy now holds the tombstone (value null) with the delete's dot.
  const replicas = (await nodes[0]!.api.replica(key)).replicas;
  for (const node of nodes.filter((x) => replicas.includes(x.name) || nodes.length === 1)) {
    const r = await node.api.replica(key);
    ctx.expectStatus(r.x, 200);
    const tomb = r.versions?.find((v) => v.dot === del.dot);
    ctx.expect(
      tomb && tomb.value === null,
      `${node.name}'s own copy does not show the deletion ${del.dot} as a tombstone (value null): ${JSON.stringify(r.versions)}`,
      r.x,
    );
    ctx.expect(!r.versions!.some((v) => v.dot === put.dot), `${node.name} still holds the deleted version`, r.x);
  }
  await lowQuorumWritesReachEveryReplica(ctx, n);
  const x = await ctx.http.send({ method: 'GET', path: '/api/v1/replicas/bad%20key', validRequest: false });
  ctx.expectStatus(x, 400, 'invalid_request');
  await nonReplicasHoldNothing(ctx, n);
}

/**
 * A write goes to all N replicas, whatever W: W only says when it is acknowledged. After a w=1 write, every replica's
 * own copy holds it as soon as one node-to-node call can take it there, long before an anti-entropy round would.
 * The bound is relative to this run: 20 times what a w=N write (the same calls, awaited) took just before, at least
 * 1 s; three keys in turn, so a lucky anti-entropy round cannot stand in for the replication every time.
 */
async function lowQuorumWritesReachEveryReplica(ctx: CheckContext, n: number): Promise<void> {
  if (n < 2) return;
  const nodes = nodeApis(ctx);
  const api = kvApi(ctx.http);
  const timed = freshKey('c4-wn');
  const t0 = Date.now();
  const full = await api.put(timed, 'all', { w: n });
  ctx.expectStatus(full.x, 200);
  const withinMs = Math.max(1000, 20 * (Date.now() - t0));
  ctx.evidence.lowQuorumWithinMs = withinMs;
  for (let i = 0; i < 3; i++) {
    const key = freshKey(`c4-w1-${i}`);
    const put = await nodes[i % nodes.length]!.api.put(key, `one-${i}`, { w: 1 });
    ctx.expectStatus(put.x, 200);
    const acked = Date.now();
    const replicas = (await nodes[0]!.api.replica(key)).replicas;
    let missing: string[] = [];
    for (;;) {
      missing = [];
      for (const node of nodes.filter((x) => replicas.includes(x.name) || nodes.length === 1)) {
        const r = await node.api.replica(key);
        if (!r.versions?.some((v) => v.dot === put.dot)) missing.push(node.name);
      }
      if (missing.length === 0 || Date.now() - acked > withinMs) break;
      await sleep(20);
    }
    ctx.expect(
      missing.length === 0,
      `a w=1 write of ${key} (${put.dot}) was not on ${missing.join(', ')} ${withinMs} ms after its acknowledgement ` +
        `(20 times a w=${n} write): a write goes to all N replicas, W only says when it is acknowledged`,
    );
  }
}

/** Keys whose preference lists are compared on every node: each node's list is wrong for most of them if unordered. */
const RING_KEYS = 48;

/**
 * `replicas` is the key's preference list in ring order (openapi.yaml LocalReplica.replicas): on every node, for
 * RING_KEYS keys of every character class the key pattern allows, the list the node's own cluster view implies (the
 * key's position, SHA-256's first 48 bits, then clockwise over the members' tokens to N distinct nodes).
 * Blind bug local-replica-list-sorted (round 8): the right nodes, sorted by name.
 */
async function replicasInRingOrder(ctx: CheckContext, n: number): Promise<void> {
  const keys = Array.from({ length: RING_KEYS }, (_, i) => `${freshKey('c4-ring')}.Ab_${i}:~${i % 7}`);
  let compared = 0;
  for (const node of nodeApis(ctx)) {
    const { x, view } = await node.api.cluster();
    ctx.expectStatus(x, 200);
    const members = view!.members;
    for (let i = 0; i < keys.length; i += 16) {
      const answers = await Promise.all(
        keys.slice(i, i + 16).map(async (key) => ({ key, r: await node.api.replica(key) })),
      );
      for (const { key, r } of answers) {
        ctx.expectStatus(r.x, 200);
        const want = preferenceList(members, key, n);
        ctx.expect(
          r.replicas.join() === want.join(),
          `${node.name} lists the replicas of ${key} (ring position ${keyPosition(key)}) as ${JSON.stringify(r.replicas)}; ` +
            `its cluster view's tokens give the preference list ${JSON.stringify(want)} (the owner of the first token ` +
            'at or after the position, then the next distinct nodes clockwise)',
          r.x,
        );
        compared++;
      }
    }
  }
  ctx.evidence.preferenceListsCompared = compared;
}
