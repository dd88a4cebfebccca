// Part of KV-I5: each node's own copy (getLocalReplica, "what this node itself holds") outlives kill -9. The storage
// the spec describes writes the commit log before a version is acknowledged, and every version a node holds was
// acknowledged by it to the node that sent it (a coordinator, a hint holder or a repairing peer), so after a restart
// a node still holds each version it held before, or one that supersedes it. Reads through the cluster cannot show
// a replica that lost part of its disk while the others still hold the keys: R replies merge over the loss.
import type { CheckContext } from '../../core/check-context.ts';
import { nodeApis, type StoredVersion } from './api.ts';
import { covers } from './causal.ts';

export type OwnCopies = Map<string, Map<string, StoredVersion[]>>;

/** Every node's own copy of each key, by node name, then key. */
export async function ownCopies(ctx: CheckContext, keys: readonly string[]): Promise<OwnCopies> {
  const out: OwnCopies = new Map();
  for (const node of nodeApis(ctx, 4000)) {
    const copies = new Map<string, StoredVersion[]>();
    for (const key of keys) {
      const r = await node.api.replica(key);
      ctx.expectStatus(r.x, 200);
      copies.set(key, r.versions ?? []);
    }
    out.set(node.name, copies);
  }
  return out;
}

/** Each version a node held before is held after, or covered by the clock of a version it holds after. */
export async function expectOwnCopiesKept(ctx: CheckContext, before: OwnCopies, when: string): Promise<void> {
  const keys = [...(before.values().next().value?.keys() ?? [])];
  const after = await ownCopies(ctx, keys);
  let checked = 0;
  for (const [node, copies] of before) {
    for (const [key, held] of copies) {
      const now = after.get(node)?.get(key) ?? [];
      for (const v of held) {
        checked++;
        ctx.expect(
          now.some((x) => x.dot === v.dot || covers(x.clock, v.dot)),
          `${when}: ${node}'s own copy of ${key} no longer holds ${v.dot} (${JSON.stringify(v.value)}), which it ` +
            `held before, nor a version that supersedes it: it holds ${JSON.stringify(now.map((x) => x.dot))}`,
        );
      }
    }
  }
  ctx.evidence.ownCopiesKept = `${checked} versions held by ${before.size} nodes' own copies before, all kept ${when}`;
}
