// KV-I5: with W = 2, kill -9 of one node (read while it is down) and of every node at once (twice) loses no
// acknowledged write, concurrent siblings included, and never brings back a superseded version.
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, type KvApi, nodeApis, pick, seededRandom, sleep } from './api.ts';
import type { RecordedWrite } from './history-check.ts';
import { quorumOf } from './invariant-kit.ts';
import { expectOwnCopiesKept, ownCopies } from './own-copies.ts';
import { WriteRecorder } from './workload.ts';

const KEY_HEADS = ['i5', 'I5', 'i5_A', 'i5:b', 'I5.z', 'i5~Q', 'i5Z', 'i5a'];

/** Writes fresh keys one after another through random nodes until stopped; acknowledged ones are returned. */
function writer(ctx: CheckContext, rnd: () => number, tag: string) {
  const nodes = nodeApis(ctx, 3000);
  const rec = new WriteRecorder();
  let stopped = false;
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const node = pick(rnd, nodes);
      // Every character class the key pattern allows (upper and lower case, '.', '_', ':', '~'): the restart reads
      // them from SSTables, whose order must be the one their search uses (blind bug sstable-sorted-by-locale,
      // round 8: sorted by localeCompare, searched by code unit, mixed-case keys were lost after a power cut).
      const key = freshKey(`${KEY_HEADS[i % KEY_HEADS.length]}-${tag}-${i}`);
      await rec.put(node.api, key, `v-${tag}-${i}`, null, 2);
    }
  })();
  return {
    rec,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

async function expectAllReadable(ctx: CheckContext, acked: RecordedWrite[], via: string[], when: string) {
  const nodes = nodeApis(ctx, 4000).filter((x) => via.includes(x.name));
  let i = 0;
  for (const w of acked) {
    const api = nodes[i++ % nodes.length]!;
    const r = await api.api.get(w.key);
    ctx.expect(
      r.status === 200 && r.siblings.some((s) => s.value === w.value),
      `${when}: the acknowledged write ${w.key}=${w.value} (${w.dot}) reads as ${r.status ?? r.x.error} ` +
        `${JSON.stringify(r.siblings.map((s) => s.value))} through ${api.name}`,
      r.x,
    );
  }
}

const MIN_ACKED_BEFORE_KILL = 60;
const ACKED_WAIT_MS = 30_000;

/** Waits until `rec` holds at least `min` acknowledged writes, or `limitMs` passed (the check then grades fewer). */
async function untilAcknowledged(rec: WriteRecorder, min: number, limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  while (rec.acknowledged().length < min && Date.now() < until) await sleep(25);
}

export async function durableUnderKill(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const { n, w } = await quorumOf(ctx);
  if (n < 2 || w < 2 || ctx.target.nodes.length < 2)
    ctx.skip(`needs N >= 2 and W >= 2 (the cluster has N=${n}, W=${w})`);
  const rnd = seededRandom(ctx.seed);
  // 1. kill -9 one node at a random moment of a write stream; every acknowledged write must read (R replicas are
  //    still up) while it is down.
  const victim = pick(rnd, ctx.target.nodes);
  const one = writer(ctx, rnd, 'one');
  await sleep(400 + rnd() * 600);
  // A count, not only a time: on a busy machine a second may hold a handful of writes, too few to land some on
  // every replica placement (replicas that share the victim's machine went unseen that way).
  await untilAcknowledged(one.rec, MIN_ACKED_BEFORE_KILL, ACKED_WAIT_MS);
  await ctx.target.kill(victim);
  await sleep(200);
  await one.stop();
  const acked1 = one.rec.acknowledged();
  ctx.evidence.oneNode = { victim, acknowledged: acked1.length, unknown: one.rec.writes.length - acked1.length };
  try {
    await expectAllReadable(
      ctx,
      acked1,
      ctx.target.nodes.filter((x) => x !== victim),
      `with ${victim} killed`,
    );
  } finally {
    await ctx.target.start(victim);
  }
  // 2. kill -9 every node at once (a power cut) while writes are acknowledged; restart; every one must read. Before
  //    it, keys that hold more than one version: concurrent siblings (two blind writes), which must both survive.
  const nodes = nodeApis(ctx, 4000);
  const siblings = await writeSiblings(ctx, nodes, n);
  // What each node itself holds of the keys written so far, while no write is running: after the power cut every
  // node must still hold it, flushed from its commit log to an SSTable at the restart (a replica whose SSTables lose
  // keys is hidden from reads by the others' replies).
  const held = await ownCopies(ctx, [...new Set([...acked1.map((x) => x.key), ...siblings.keys()])]);
  const all = writer(ctx, rnd, 'all');
  await sleep(400 + rnd() * 600);
  await untilAcknowledged(all.rec, MIN_ACKED_BEFORE_KILL, ACKED_WAIT_MS);
  await powerCut(ctx);
  await all.stop();
  const acked2 = all.rec.acknowledged();
  ctx.evidence.allNodes = { acknowledged: acked2.length, unknown: all.rec.writes.length - acked2.length };
  ctx.expect(acked1.length > 0 && acked2.length > 0, 'no write was acknowledged before the kill: nothing was tested');
  await expectAllReadable(ctx, acked2, [...ctx.target.nodes], 'after every node was killed -9 and restarted');
  await expectSiblings(ctx, nodes[0]!.api, siblings, n, 'after every node was killed -9 and restarted');
  await expectOwnCopiesKept(ctx, held, 'after every node was killed -9 and restarted');
  // 3. Update those keys with the read's context (resolving the siblings), then a second power cut: what reads is
  //    the update, never a version it superseded before the first cut (state kept across restarts stays ordered).
  const updates = new Map<string, string>();
  for (const [i, key] of [...siblings.keys()].entries()) {
    const read = await nodes[i % nodes.length]!.api.get(key, { r: n });
    const a = await nodes[i % nodes.length]!.api.put(key, `${key}-resolved`, { context: read.context, w: n });
    ctx.expect(a.outcome === 'ok', `resolving write of ${key}: ${a.x.status ?? a.x.error}`, a.x);
    updates.set(key, `${key}-resolved`);
  }
  await powerCut(ctx);
  // What the first power cut's writes became on disk (replayed from the commit log, flushed at restart) must also
  // outlive the second: a node that starts without what it wrote to disk before loses them on every replica.
  await expectAllReadable(ctx, acked2, [...ctx.target.nodes], 'after a second power cut');
  for (const [key, want] of updates) {
    const got = await nodes[0]!.api.get(key, { r: n });
    const values = got.siblings.map((s) => s.value);
    ctx.expect(
      got.status === 200 && values.length === 1 && values[0] === want,
      `after a second power cut, ${key} reads ${got.status ?? got.x.error} ${JSON.stringify(values)}: its last ` +
        `acknowledged write ${JSON.stringify(want)} (w=${n}, which superseded the siblings) must be all that reads`,
      got.x,
    );
  }
  ctx.runs = 3;
}

/** kill -9 of every node at once, then every node started again (together, as after a power cut). */
async function powerCut(ctx: CheckContext): Promise<void> {
  await Promise.all(ctx.target.nodes.map((x) => ctx.target.kill(x)));
  await Promise.all(ctx.target.nodes.map((x) => ctx.target.start(x)));
}

/** Four keys, each written blind twice with w = N (one after the other): two concurrent siblings on every replica. */
async function writeSiblings(
  ctx: CheckContext,
  nodes: { name: string; api: KvApi }[],
  n: number,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < 4; i++) {
    const key = freshKey(`i5-siblings-${i}`);
    const values = [`${key}-a`, `${key}-b`];
    for (const v of values) {
      const a = await nodes[i % nodes.length]!.api.put(key, v, { w: n });
      ctx.expect(a.outcome === 'ok', `blind write ${key}=${v} (w=${n}): ${a.x.status ?? a.x.error}`, a.x);
    }
    out.set(key, values);
  }
  await expectSiblings(ctx, nodes[0]!.api, out, n, 'before the power cut');
  return out;
}

async function expectSiblings(ctx: CheckContext, api: KvApi, keys: Map<string, string[]>, n: number, when: string) {
  for (const [key, want] of keys) {
    const got = await api.get(key, { r: n });
    const values = got.siblings.map((s) => s.value).sort();
    ctx.expect(
      got.status === 200 && JSON.stringify(values) === JSON.stringify(want),
      `${when}: ${key} reads ${got.status ?? got.x.error} ${JSON.stringify(values)}, not both concurrent ` +
        `acknowledged writes ${JSON.stringify(want)}`,
      got.x,
    );
  }
}
