// KV-I3: concurrent writes through different coordinators come back as siblings until a client resolves them.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, nodeApis } from './api.ts';
import { covers } from './causal.ts';

export async function concurrentWritesKeptAsSiblings(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
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
