// UID-F3: nodes share no (datacenter, machine) pair, decoded from the IDs they issue; two nodes misconfigured alike
// are reported with the duplicates they make; a node given an ID outside 0..31 refuses to start (node-id-range.ts).
import type { CheckContext } from '../../core/check-context.ts';
import { expectIds, layoutOf, nodeApis } from './api.ts';
import { outOfRangeNodeIdsRefused } from './node-id-range.ts';

export async function distinctMachineIds(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  if (nodes.length < 2)
    ctx.skip('needs two or more nodes to compare their machine IDs: give a manifest with several nodes');
  // Which (datacenter, machine) does each node stamp into the IDs it issues, single ones and batches? Decoded here
  // from the IDs, not taken from the manifest or from the node's own account.
  const stamp = new Map<string, string[]>();
  const owner = new Map<bigint, string>();
  const dups: string[] = [];
  for (const n of nodes) {
    const answers = [await n.api.one(), await n.api.one(), await n.api.batch(64)];
    const pairs = new Set<string>();
    for (const r of answers)
      for (const id of expectIds(ctx, r, n.name)) {
        pairs.add(`${layoutOf(id).datacenterId}/${layoutOf(id).machineId}`);
        const prev = owner.get(id);
        if (prev !== undefined && prev !== n.name) dups.push(`${id} from ${prev} and ${n.name}`);
        owner.set(id, n.name);
      }
    ctx.expect(
      pairs.size === 1,
      `${n.name} stamps several node IDs into its IDs: ${[...pairs].join(', ')}`,
      answers.at(-1)!.x,
    );
    const pair = [...pairs][0]!;
    stamp.set(pair, [...(stamp.get(pair) ?? []), n.name]);
  }
  ctx.evidence.nodeIds = Object.fromEntries([...stamp].map(([pair, names]) => [pair, names]));
  // A node ID outside 0..31 is refused at start-up, not carried into the field above.
  await outOfRangeNodeIdsRefused(ctx);
  const shared = [...stamp].filter(([, names]) => names.length > 1);
  if (shared.length === 0) return;
  // Misconfigured: show the damage. Hammer the nodes that share a pair at once and collect the duplicates.
  const [pair, names] = shared[0]!;
  const sharing = nodes.filter((n) => names.includes(n.name));
  for (let round = 0; round < 10 && dups.length === 0; round++) {
    const answers = await Promise.all(
      sharing.flatMap((n) => [0, 1].map(async () => ({ n: n.name, r: await n.api.batch(2048) }))),
    );
    for (const { n, r } of answers)
      for (const id of expectIds(ctx, r, n)) {
        const prev = owner.get(id);
        if (prev !== undefined && prev !== n) dups.push(`${id} from ${prev} and ${n}`);
        owner.set(id, n);
      }
  }
  ctx.evidence.duplicatesFound = dups.length;
  ctx.fail(
    `nodes ${names.join(' and ')} share datacenter/machine ${pair}; ` +
      (dups.length
        ? `${dups.length} duplicate IDs between them, e.g. ${dups.slice(0, 3).join('; ')}`
        : 'no duplicate caught in 10 rounds, but any two IDs they make in one millisecond can collide'),
  );
}
