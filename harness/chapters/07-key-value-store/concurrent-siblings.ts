// KV-I3: concurrent writes through different coordinators come back as siblings until a client resolves them.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, nodeApis } from './api.ts';
import { covers } from './causal.ts';

export async function concurrentWritesKeptAsSiblings(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  await deleteConcurrentWithWrite(ctx, nodes);
  await contextWithAGap(ctx, nodes);
  await ctx.property(
    fc.record({
      writers: fc.integer({ min: 2, max: Math.max(2, Math.min(3, nodes.length)) }),
      base: fc.boolean(),
      first: fc.nat(nodes.length - 1),
    }),
    async ({ writers, base, first }) => {
      const key = freshKey('i3');
      const order = nodes.map((_, i) => nodes[(first + i) % nodes.length]!);
      // The book's example: D2 is written and read (the base), then D3 and D4 through different nodes, each with
      // the context of D2: concurrent, so both must come back.
      let context = '';
      if (base) {
        const d = await order[0]!.api.put(key, 'D2');
        ctx.expect(d.outcome === 'ok', `base write: ${d.x.status ?? d.x.error}`, d.x);
        context = d.context!;
      }
      const written = await Promise.all(
        Array.from({ length: writers }, (_, i) => order[i % order.length]!.api.put(key, `D${3 + i}`, { context })),
      );
      for (const w of written) ctx.expect(w.outcome === 'ok', `concurrent write: ${w.x.status ?? w.x.error}`, w.x);
      const read = await order[writers % order.length]!.api.get(key);
      ctx.expect(read.status === 200, `read: ${read.status ?? read.x.error}`, read.x);
      const got = read.siblings.map((s) => s.value).sort();
      const want = written.map((_, i) => `D${3 + i}`).sort();
      ctx.expect(
        JSON.stringify(got) === JSON.stringify(want),
        `${writers} concurrent writes with the same context through ${written.length > 1 ? 'different nodes' : 'one node'}: ` +
          `read ${JSON.stringify(got)}, want every one as a sibling ${JSON.stringify(want)}`,
        read.x,
      );
      for (const w of written)
        ctx.expect(covers(read.context!, w.dot!), `the read's context does not cover ${w.dot}`, read.x);
      // The client resolves them (the book's D5): one value again.
      const resolved = await order[0]!.api.put(key, 'D5', { context: read.context });
      ctx.expect(resolved.outcome === 'ok', `resolving write: ${resolved.x.status}`, resolved.x);
      const after = await order[1 % order.length]!.api.get(key);
      ctx.expect(
        after.siblings.map((s) => s.value).join() === 'D5',
        `after resolving, read ${JSON.stringify(after.siblings.map((s) => s.value))}, not [D5]`,
        after.x,
      );
    },
    Math.min(ctx.numRuns, 15),
  );
}

type Nodes = ReturnType<typeof nodeApis>;
const values = (r: { siblings: { value: string }[] }) => JSON.stringify(r.siblings.map((x) => x.value).sort());

/**
 * A delete and a write with the same context are concurrent: the deletion does not hide the write (a read answers
 * it, 200), and the read's context resolves both (blind bug deletion-hides-concurrent-write, round 8).
 */
async function deleteConcurrentWithWrite(ctx: CheckContext, nodes: Nodes): Promise<void> {
  const key = freshKey('i3d');
  const [a, b] = [nodes[0]!, nodes[1 % nodes.length]!];
  const base = await a.api.put(key, 'D2');
  ctx.expect(base.outcome === 'ok', `base write: ${base.x.status ?? base.x.error}`, base.x);
  const del = await a.api.del(key, { context: base.context });
  ctx.expect(del.outcome === 'ok', `delete with the base's context: ${del.x.status ?? del.x.error}`, del.x);
  const put = await b.api.put(key, 'D3', { context: base.context });
  ctx.expect(put.outcome === 'ok', `write with the base's context: ${put.x.status ?? put.x.error}`, put.x);
  const read = await nodes[2 % nodes.length]!.api.get(key);
  ctx.expect(
    read.status === 200 && values(read) === '["D3"]',
    `a delete via ${a.name} and a write of D3 via ${b.name}, both with the context of D2, are concurrent: read ` +
      `${read.status} ${values(read)}, want 200 ["D3"] (a deletion hides no concurrent write)`,
    read.x,
  );
  for (const w of [del, put])
    ctx.expect(covers(read.context ?? '', w.dot ?? ''), `the read's context does not cover ${w.dot}`, read.x);
}

/**
 * Through one replica: blind x1, blind x2, x3 with x1's context, x4 with x3's context. x3's clock names x1 and its
 * own dot, not x2 (a context's `actor@counter` is one event, not its predecessors), so x4 supersedes x3 only and a
 * read answers x2 and x4 (blind bug clock-folds-dots-past-gaps, round 8: x3's context read as covering x2).
 */
async function contextWithAGap(ctx: CheckContext, nodes: Nodes): Promise<void> {
  const key = freshKey('i3g');
  const placed = await nodes[0]!.api.replica(key);
  const node = nodes.find((x) => x.name === placed.replicas[0]) ?? nodes[0]!;
  const put = async (value: string, context?: string | null) => {
    const a = await node.api.put(key, value, { context: context ?? null });
    ctx.expect(a.outcome === 'ok', `write ${value} via ${node.name}: ${a.x.status ?? a.x.error}`, a.x);
    return a;
  };
  const x1 = await put('x1');
  await put('x2');
  const x3 = await put('x3', x1.context);
  await put('x4', x3.context);
  const read = await node.api.get(key);
  ctx.expect(
    read.status === 200 && values(read) === '["x2","x4"]',
    `via ${node.name}: blind x1, blind x2, x3 with x1's context (${x1.context}), x4 with x3's (${x3.context}): read ` +
      `${read.status} ${values(read)}, want ["x2","x4"] (x3's context does not cover x2)`,
    read.x,
  );
}
