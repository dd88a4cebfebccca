// SOS-F2 on a cluster (setting dataNodes): the bit is flipped in one data node's copy of the object, not in the API
// service's directory. GETs answer the exact bytes (from a good copy) or an error, never the flipped ones, with
// every node up and with the damaged node alone; and the bad copy is repaired: once the placement service has
// caught up (setting replicationPath), that node alone serves the object exactly (the book: a flipped bit is
// detected, then an error or a repair from a replica).
import type { CheckContext } from '../../core/check-context.ts';
import { foundUnder, waitCaughtUp } from './cluster-kit.ts';
import { type Damaged, flipBit, judgeDamagedReads } from './damaged-reads.ts';

/** The data nodes whose directory holds the object's bytes as they are (read while they run; nothing written). */
function holdersOf(ctx: CheckContext, dataNodes: readonly string[], marker: Buffer): string[] {
  return dataNodes.filter((n) => {
    const dir = ctx.target.dataDir?.(n);
    return dir !== undefined && foundUnder(dir, [marker])[0];
  });
}

export async function flipOnReplica(ctx: CheckContext, o: Damaged, dataNodes: readonly string[]): Promise<void> {
  // Skips, never passes: without the placement service's catch-up report the "repaired" step has no moment to be
  // judged at, and a copy stored transformed leaves no plain bytes to damage (the reasons name which).
  if (!ctx.setting('replicationPath', ''))
    ctx.skip(
      "a damaged copy on a cluster is judged with the placement service's report that the nodes are back and caught up (setting replicationPath), which the target does not declare",
    );
  const holders = holdersOf(ctx, dataNodes, o.marker);
  if (holders.length === 0)
    ctx.skip(
      "the object's bytes are not stored as they are in any data node's directory (setting dataNodes; compressed or encrypted?)",
    );
  const node = holders[ctx.seed % holders.length]!;
  await ctx.target.kill(node);
  ctx.changed(`killed (kill -9) data node ${node}, flipped a bit in its copy and restarted it`);
  let flipped: { file: string; at: number } | undefined;
  try {
    flipped = flipBit(ctx.target.dataDir!(node), o.marker);
  } finally {
    await ctx.target.start(node);
  }
  ctx.expect(flipped !== undefined, `${node}'s copy of the object was gone from its data directory once it was killed`);
  ctx.evidence['flipped'] = { node, holders, ...flipped };
  await judgeDamagedReads(ctx, o, `${node}'s copy damaged, every data node up`);

  const others = dataNodes.filter((n) => n !== node);
  // The others killed, then started again and caught up (the placement service sees them up and owes nothing: the
  // writes after this are not refused for want of a majority, and a copy owed to the node has been sent).
  const alone = async (when: string, mustServe: boolean) => {
    await Promise.all(others.map((n) => ctx.target.kill(n)));
    ctx.changed(`killed (kill -9) ${others.join(', ')}: ${node} alone holds the data`);
    try {
      await judgeDamagedReads(ctx, o, when, mustServe);
    } finally {
      await Promise.all(others.map((n) => ctx.target.start(n)));
      ctx.changed(`restarted ${others.join(', ')}`);
    }
    await waitCaughtUp(ctx, dataNodes);
  };
  await alone(`${node} alone with its damaged copy`, false);
  // Repaired by now: the node that held the damaged copy must serve the object alone.
  await alone(`${node} alone after the cluster caught up`, true);
}
