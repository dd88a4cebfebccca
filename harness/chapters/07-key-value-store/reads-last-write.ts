// KV-I2: with W + R > N and no concurrent writer, a read through any node answers the last acknowledged write (many
// concurrent reads of a few keys through one node, then a model of each key against writes and deletes with varied
// W and R, over slowed links).
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, nodeApis } from './api.ts';
import { quorumOf } from './invariant-kit.ts';
import { slowLinkRing } from './links.ts';
import { readsUnderAStorm } from './read-storm.ts';

interface ModelKey {
  value: string | null;
  context: string;
  w: number;
}

export async function readsLastWrite(ctx: CheckContext): Promise<void> {
  const { n } = await quorumOf(ctx);
  // First many reads at once (a few seconds at most): a coordinator batching replica reads must keep them apart.
  await readsUnderAStorm(ctx, n);
  const nodes = nodeApis(ctx);
  const last = nodes.length - 1;
  // Each step writes (or deletes) through one node with some W, then reads through another node with R so that
  // W + R > N (plus 0 or 1) - the reads that must see that write.
  const step = fc.record({
    key: fc.nat(1),
    del: fc.boolean(),
    writer: fc.nat(last),
    w: fc.integer({ min: 1, max: n }),
    readerOffset: fc.integer({ min: last > 0 ? 1 : 0, max: last }),
    boost: fc.nat(1),
  });
  // The link from each node to the next is slowed (when the harness has a fault proxy): a write acknowledged by
  // fewer than N replicas leaves the next node behind for a while, so a read that does not really ask R replicas
  // answers an old value.
  await slowLinkRing(ctx, 300, async () => {
    await ctx.property(
      fc.array(step, { minLength: 2, maxLength: 6 }),
      async (steps) => {
        const keys = [freshKey('i2a'), freshKey('i2b')];
        const model: ModelKey[] = keys.map(() => ({ value: null, context: '', w: n }));
        let seq = 0;
        for (const s of steps) {
          const m = model[s.key]!;
          const key = keys[s.key]!;
          const writer = nodes[s.writer]!;
          // A delete of a key never written is still a write; the model only needs its context.
          const value = s.del ? null : `v${++seq}`;
          const a =
            value === null
              ? await writer.api.del(key, { context: m.context, w: s.w })
              : await writer.api.put(key, value, { context: m.context, w: s.w });
          ctx.expect(
            a.outcome === 'ok',
            `${s.del ? 'delete' : 'put'} ${key} w=${s.w} via ${writer.name}: ${a.x.status ?? a.x.error}`,
            a.x,
          );
          m.value = value;
          m.context = a.context!;
          m.w = s.w;
          const reader = nodes[(s.writer + s.readerOffset) % nodes.length]!;
          const r = Math.min(n, n - m.w + 1 + s.boost);
          const got = await reader.api.get(key, { r });
          const what = `get ${key} via ${reader.name} r=${r} right after a write via ${writer.name} with w=${m.w}`;
          if (m.value === null) {
            ctx.expect(
              got.status === 404,
              `${what}: answered ${got.status ?? got.x.error} ${JSON.stringify(got.siblings.map((x) => x.value))}, the key was deleted`,
              got.x,
            );
            ctx.expectStatus(got.x, 404, 'key_not_found');
            continue;
          }
          ctx.expect(
            got.status === 200,
            `${what}: answered ${got.status ?? got.x.error}, the last write is ${m.value}`,
            got.x,
          );
          const values = got.siblings.map((x) => x.value);
          ctx.expect(
            values.length === 1 && values[0] === m.value,
            `${what}: read ${JSON.stringify(values)}, the last acknowledged write is ${JSON.stringify(m.value)}`,
            got.x,
          );
        }
      },
      Math.min(ctx.numRuns, 12),
    );
  });
}
