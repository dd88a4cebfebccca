// KV-F4: with slow links between every pair of nodes, W=2 writes and R=2 reads still answer, and correctly.
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, nodeApis } from './api.ts';
import { withToxicOn } from './links.ts';

export async function slowLinksStillServe(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  ctx.require('network-faults');
  if (ctx.target.nodes.length < 2) ctx.skip('needs two or more nodes');
  const nodes = nodeApis(ctx, 5000);
  const pairs: [string, string][] = [];
  for (const a of ctx.target.nodes) for (const b of ctx.target.nodes) if (a !== b) pairs.push([a, b]);
  const latency = 150;
  const { applied } = await withToxicOn(
    ctx,
    pairs,
    { type: 'latency', stream: 'upstream', attributes: { latency } },
    async () => {
      for (let i = 0; i < 6; i++) {
        const key = freshKey(`f4-${i}`);
        const w = await nodes[i % nodes.length]!.api.put(key, `v${i}`, { w: 2 });
        ctx.expect(
          w.outcome === 'ok',
          `with ${latency} ms between nodes, a W=2 write answered ${w.x.status ?? w.x.error}`,
          w.x,
        );
        const r = await nodes[(i + 1) % nodes.length]!.api.get(key, { r: 2 });
        ctx.expect(
          r.status === 200 && r.siblings.map((s) => s.value).join() === `v${i}`,
          `with ${latency} ms between nodes, an R=2 read answered ${r.status} ${JSON.stringify(r.siblings.map((s) => s.value))}`,
          r.x,
        );
      }
    },
  );
  if (!applied) ctx.skip('the links between nodes are not proxied (needs a manifest target and a fault proxy)');
  ctx.evidence.latencyMs = latency;
}
