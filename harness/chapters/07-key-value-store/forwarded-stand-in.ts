// Part of KV-F2 on a cluster larger than N: a w=N write with one of the key's replicas paused, sent to the node
// outside its replicas, which forwards it. Sloppy quorum (README section 3, the book's "first W healthy servers"):
// the version the paused replica cannot take goes to the first live node beyond the preference list, whose hint
// counts towards W. With such a node live the write is acknowledged (200), not 503, forwarded or not: the forwarder
// must leave the coordinator its whole deadline (the node-to-node deadline spent on the paused replica, then the
// stand-in's call) before it gives up on that coordinator.
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, type KvApi, type WriteAnswer } from './api.ts';
import { value } from './fault-kit.ts';

type Node = { name: string; api: KvApi };

/** A fresh key among whose replicas the victim is, and the live node outside them; null when none is found. */
async function keyOnVictim(live: Node[], victim: string): Promise<{ key: string; outsider: Node } | null> {
  for (let i = 0; i < 40; i++) {
    const key = freshKey(`f2-fwd-${i}`);
    const placed = await live[0]!.api.replica(key);
    if (!placed.replicas.includes(victim)) continue;
    const outsider = live.find((x) => !placed.replicas.includes(x.name));
    if (outsider) return { key, outsider };
  }
  return null;
}

export async function forwardedWriteThroughStandIn(
  ctx: CheckContext,
  o: {
    victim: string;
    live: Node[];
    n: number;
    timed: (what: string, p: Promise<WriteAnswer>) => Promise<WriteAnswer>;
    holders: (key: string, dot: string | null) => Promise<string[]>;
  },
): Promise<void> {
  const { victim, live, n } = o;
  if (live.length < n) return; // no node left to stand in: the direct write's 503 is allowed
  const found = await keyOnVictim(live, victim);
  ctx.expect(found !== null, `no key of 40 fresh ones has ${victim} among its replicas and a live node outside them`);
  const { key, outsider } = found!;
  const put = await o.timed(
    `a w=${n} write forwarded by ${outsider.name}`,
    outsider.api.put(key, value(key), { w: n }),
  );
  ctx.evidence.forwardedW3 = `${key} through ${outsider.name}: ${put.x.status ?? put.x.error}`;
  ctx.expect(
    put.x.status === 200,
    `with ${victim} (a replica of ${key}) paused, a w=${n} write sent to ${outsider.name}, which holds no replica ` +
      `of it, answered ${put.x.status ?? put.x.error}, not 200: ${live.length} nodes are live, so one stands in for ` +
      'the paused replica (sloppy quorum); the forwarder must leave the coordinator its whole deadline',
    put.x,
  );
  const holders = await o.holders(key, put.dot);
  ctx.evidence.forwardedW3Holders = holders;
  ctx.expect(
    holders.length >= n,
    `a w=${n} write forwarded by ${outsider.name} with ${victim} paused was acknowledged but only ` +
      `${holders.length} live node(s) hold it: ${holders.join(', ') || 'none'}`,
    put.x,
  );
}
