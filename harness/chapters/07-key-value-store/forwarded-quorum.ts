// Part of KV-C1: a request that reaches a node holding no replica of its key. The spec lets any node take any request
// and lets each request set its own w and r (1..N); a node that is not a replica of the key must pass both on with
// the request, or the client's quorum silently becomes the cluster's. Only a cluster larger than N has such nodes.
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, nodeApis } from './api.ts';
import { covers } from './causal.ts';

/** Through a node outside the key's N replicas: a w=N write and delete report N acks, r=N reads N replies. */
export async function forwardedRequestsKeepTheirQuorum(ctx: CheckContext, n: number): Promise<void> {
  const nodes = nodeApis(ctx);
  if (nodes.length <= n) {
    ctx.evidence.forwarded = `not exercised: ${nodes.length} node(s) with N=${n}, so every node replicates every key`;
    return;
  }
  const key = freshKey('c1-fwd');
  const placed = await nodes[0]!.api.replica(key);
  ctx.expectStatus(placed.x, 200);
  const outsider = nodes.find((x) => !placed.replicas.includes(x.name));
  ctx.expect(
    outsider !== undefined,
    `with ${nodes.length} nodes and N=${n}, ${key} is placed on ${JSON.stringify(placed.replicas)}: no node is left ` +
      'outside its replicas',
    placed.x,
  );
  const api = outsider!.api;
  const put = await api.put(key, 'forwarded', { w: n });
  ctx.expectStatus(put.x, 200);
  const acks = (put.x.body as { acks: number }).acks;
  ctx.expect(
    acks >= n,
    `a w=${n} write through ${outsider!.name}, which holds no replica of the key, was acknowledged by ${acks} ` +
      `replicas, fewer than ${n}: the request's w was not passed on with it`,
    put.x,
  );
  const got = await api.get(key, { r: n });
  ctx.expectStatus(got.x, 200);
  const replies = (got.x.body as { replies?: number }).replies ?? 0;
  ctx.expect(
    replies >= n && got.siblings.map((s) => s.value).join() === 'forwarded' && got.siblings[0]?.dot === put.dot,
    `an r=${n} read through ${outsider!.name} (no replica of the key) answered ${replies} replies and ` +
      `${JSON.stringify(got.siblings.map((s) => s.value))}, not ${n} replies and the w=${n} write`,
    got.x,
  );
  const del = await api.del(key, { context: got.context, w: n });
  ctx.expectStatus(del.x, 200);
  const delAcks = (del.x.body as { acks: number }).acks;
  ctx.expect(delAcks >= n, `a w=${n} delete through ${outsider!.name} was acknowledged by ${delAcks}`, del.x);
  const gone = await api.get(key, { r: n });
  ctx.expectStatus(gone.x, 404, 'key_not_found');
  ctx.expect(
    gone.context !== null && del.dot !== null && covers(gone.context, del.dot),
    `after a w=${n} delete through ${outsider!.name}, an r=${n} read's X-Kv-Context '${gone.context}' does not cover ` +
      `the deletion ${del.dot}`,
    gone.x,
  );
  ctx.evidence.forwarded = `${key} through ${outsider!.name} (replicas ${placed.replicas.join(', ')}): w=${n} acks ${acks}, r=${n} replies ${replies}`;
}
