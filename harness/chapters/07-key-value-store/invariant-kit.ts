// What more than one KV-I check needs: the cluster's quorum as a node reports it, and the stated convergence bound.
import type { CheckContext } from '../../core/check-context.ts';
import { type ClusterView, kvApi } from './api.ts';

/** The cluster's N, W and R from the first node's view. */
export async function quorumOf(ctx: CheckContext): Promise<ClusterView> {
  const { x, view } = await kvApi(ctx.http).cluster();
  ctx.expectStatus(x, 200);
  return view!;
}

/** Stated bound: replicas agree this long after the last fault healed. */
export const CONVERGE_WITHIN_MS = 15_000;
