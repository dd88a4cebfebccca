// The links between nodes, as the harness proxies them (a manifest target with a fault proxy): what the latency and
// partition checks act on. A URL target has none; checks that need them skip.
import type { CheckContext } from '../../core/check-context.ts';
import type { FaultProxy, Toxic } from '../../core/network-faults.ts';

type Linked = { link?: (from: string, to: string) => FaultProxy | undefined };

export function linkBetween(ctx: CheckContext, from: string, to: string): FaultProxy | undefined {
  return (ctx.target as unknown as Linked).link?.(from, to);
}

/** Runs fn with `toxic` on every listed link, removing it afterwards; false when the links are not proxied. */
export async function withToxicOn<T>(
  ctx: CheckContext,
  pairs: [string, string][],
  toxic: Toxic,
  fn: () => Promise<T>,
): Promise<{ applied: boolean; result: T }> {
  const proxies = pairs.map(([a, b]) => linkBetween(ctx, a, b)).filter((p): p is FaultProxy => p !== undefined);
  if (proxies.length === 0) return { applied: false, result: await fn() };
  const names: [FaultProxy, string][] = [];
  try {
    for (const p of proxies) names.push([p, await p.addToxic(toxic)]);
    return { applied: true, result: await fn() };
  } finally {
    for (const [p, name] of names) await p.removeToxic(name).catch(() => {});
  }
}

/** Delays what each node sends to the next one (n1->n2, n2->n3, n3->n1) by `ms` for the duration of fn. */
export async function slowLinkRing<T>(ctx: CheckContext, ms: number, fn: () => Promise<T>): Promise<T> {
  const nodes = ctx.target.nodes;
  const pairs = nodes.length < 2 ? [] : nodes.map((a, i) => [a, nodes[(i + 1) % nodes.length]!] as [string, string]);
  const { applied, result } = await withToxicOn(
    ctx,
    pairs,
    { type: 'latency', stream: 'upstream', attributes: { latency: ms } },
    fn,
  );
  ctx.evidence.slowLinks = applied ? `${pairs.map((p) => p.join('->')).join(', ')} +${ms} ms` : 'none (no fault proxy)';
  return result;
}
