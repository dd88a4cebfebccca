// KV-I2 under concurrent reads: many reads of a few keys through one node at once, each checked against its own key's
// last write. A coordinator may batch what it asks of one replica (the reference sends the reads of one event-loop
// turn as one node-to-node call, each key once), so a batch that holds a key twice and then other keys must still
// give every read its own key's versions.
//
// Why the storm is shaped so (blind bug batched-read-misaligned, round 8: waiters answered by position, not key):
// a waiter answered by position gets the key at its position among the batch's distinct keys. With each key read
// several times in a row, in ascending order, the first waiter answered wrongly is a repeated key given the next
// key's versions. Those must show: each key is written i + 1 times with the context of the last write, so key i's
// version supersedes (or is concurrent with) every earlier key's, and a read given a later key's versions answers
// that key's value. Several rounds, since the first may open connections one by one and batch nothing.
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, type KvApi, nodeApis } from './api.ts';

const STORM_KEYS = 6;
const READS_PER_KEY = 4;
const STORM_ROUNDS = 5;

interface Written {
  key: string;
  value: string;
  dot: string;
}

export async function readsUnderAStorm(ctx: CheckContext, n: number): Promise<void> {
  const through = nodeApis(ctx)[0]!;
  const keys = await keysReplicatedBy(ctx, through, STORM_KEYS);
  const written: Written[] = [];
  for (const [i, key] of keys.entries()) {
    let context: string | null = null;
    let last: Written | null = null;
    for (let k = 0; k <= i; k++) {
      const value = `${key}#${k}`;
      const a = await through.api.put(key, value, { context, w: n });
      ctx.expect(a.outcome === 'ok', `storm set-up: put ${key} w=${n}: ${a.x.status ?? a.x.error}`, a.x);
      context = a.context;
      last = { key, value, dot: a.dot! };
    }
    written.push(last!);
  }
  let reads = 0;
  for (let round = 0; round < STORM_ROUNDS; round++) {
    const order = written.flatMap((w) => Array.from({ length: READS_PER_KEY }, () => w));
    const answers = await Promise.all(order.map(async (w) => ({ w, got: await through.api.get(w.key, { r: n }) })));
    for (const { w, got } of answers) {
      const seen = got.siblings.map((s) => `${JSON.stringify(s.value)} (${s.dot})`);
      ctx.expect(
        got.status === 200 && got.siblings.length === 1 && got.siblings[0]!.value === w.value,
        `read storm round ${round + 1} (${order.length} concurrent r=${n} reads of ${written.length} keys through ` +
          `${through.name}, each key ${READS_PER_KEY} times in a row): ${w.key} answered ${got.status ?? got.x.error} ` +
          `${seen.join(', ') || '[]'}; its last write is ${JSON.stringify(w.value)} (${w.dot}), and no other key's ` +
          "version may show (a batched replica read answering reads by position, not key, gives one key another's)",
        got.x,
      );
      reads++;
    }
  }
  ctx.evidence.stormReads = reads;
}

/** Fresh keys the node replicates itself (on a cluster larger than N), so it coordinates their reads and batches. */
async function keysReplicatedBy(
  ctx: CheckContext,
  node: { name: string; api: KvApi },
  count: number,
): Promise<string[]> {
  const keys: string[] = [];
  for (let tries = 0; keys.length < count && tries < count * 8; tries++) {
    const key = freshKey(`i2-storm-${keys.length}`);
    const r = await node.api.replica(key);
    ctx.expectStatus(r.x, 200);
    if (r.replicas.includes(node.name) || ctx.target.nodes.length === 1) keys.push(key);
  }
  ctx.expect(keys.length === count, `${node.name} replicates ${keys.length} of ${count * 8} fresh keys`);
  return keys;
}
