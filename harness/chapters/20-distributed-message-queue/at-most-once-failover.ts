// MQ-F3's at-most-once half on a cluster: the group's coordinator is the controller (the broker the others' 307
// not_controller names), so the kill -9 right after acknowledged commits that MQ-F1 gives the single broker is the
// controller's here. The new controller must answer every offset committed before the kill (the spec: a commit is
// answered only once it is where the next controller reads it), else the group's next owner takes again what was
// taken already.
import type { CheckContext } from '../../core/check-context.ts';
import { type CommittedOffsets, type MqApi, okBody } from './api.ts';
import { bound, waitForState } from './cluster-client.ts';
import { controllerSeenBy, SPEC_CONTROLLER_FAILOVER_MS, waitForNewController } from './controller-failover.ts';

/** A cluster the check may kill brokers of: the replication factor its topic takes (null: one broker, no kill here). */
export function clusterReplicas(ctx: CheckContext): number | null {
  const n = ctx.target.nodes.length;
  return ctx.target.processControl && n > 1 ? Math.min(3, n) : null;
}

export interface CoordinatorKilled {
  killed: string;
  newController: string;
  controllerAfterMs: number;
  /** The committed offsets read back from the new controller, by partition. */
  readBack: (number | null)[];
}

/**
 * Kills (kill -9) the controller right after the group's acknowledged commits, moves `entry` (the broker the client
 * sends to first) to a live one, waits for a new controller and for every partition of `topic` to be led by a live
 * broker (within the declared controllerFailoverMs, scaled), reads the committed offsets back exactly as
 * `committed`, and restarts the killed broker (the cluster whole again for the rest of the run).
 */
export async function killGroupCoordinator(
  ctx: CheckContext,
  api: MqApi,
  entry: { node?: string },
  topic: string,
  group: string,
  committed: readonly number[],
): Promise<CoordinatorKilled> {
  const nodes = ctx.target.nodes;
  const seen = await controllerSeenBy(ctx, entry.node ?? nodes[0]!);
  // As MQ-F11: without a controller named among the nodes there is no coordinator to kill; said so, never passed.
  if (!seen.name || !nodes.includes(seen.name))
    ctx.skip(
      `no node names a controller among the manifest's nodes (${seen.x.status}: ${JSON.stringify(seen.x.body)})`,
    );
  const killed = seen.name;
  const live = nodes.filter((b) => b !== killed);
  entry.node = live[0];
  await ctx.target.kill(killed);
  const killedAt = Date.now();
  ctx.changed(`killed (kill -9) the controller ${killed}`);
  const declared = ctx.setting('controllerFailoverMs', SPEC_CONTROLLER_FAILOVER_MS);
  const { controller, afterMs } = await waitForNewController(ctx, live, killed, bound(declared), killedAt);
  await waitForState(
    ctx,
    api,
    topic,
    declared,
    (t) => t.partitionStates.every((s) => s.leader !== undefined && s.leader !== killed),
    `${topic}: a partition is still led by the controller ${killed} after it was killed`,
  );
  const ox = await api.offsets(group);
  const back = okBody<CommittedOffsets>(ctx, ox, 200, `after the controller ${killed} was killed: fetchOffsets`);
  const readBack = committed.map((_, p) => back.offsets.find((o) => o.partition === p)?.offset ?? null);
  for (const [p, want] of committed.entries())
    ctx.expect(
      readBack[p] === want,
      `the group committed partition ${p} past ${want} (acknowledged) right before the controller ${killed} was killed (kill -9); the new controller ${controller} answers ${readBack[p]}${(readBack[p] ?? 0) < want ? `: offsets ${readBack[p] ?? 0}..${want - 1} would be delivered to the group a second time (at-most-once: never twice)` : ''}`,
      ox,
    );
  await ctx.target.start(killed);
  ctx.changed(`restarted ${killed}, the controller killed`);
  return { killed, newController: controller, controllerAfterMs: afterMs, readBack };
}
