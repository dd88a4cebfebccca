// KV-C6: the sibling cap. A key holds at most 100 versions: the 101st blind write or delete is refused with 409
// too_many_siblings and changes nothing; a write with the read's context resolves them all.
import type { CheckContext } from '../../core/check-context.ts';
import { freshKey, nodeApis } from './api.ts';

/** The spec's cap on a key's versions. */
const MAX_SIBLINGS = 100;

/**
 * The sibling cap: MAX_SIBLINGS blind writes through every node in turn (W = N, so every replica holds them all) are
 * all kept; one more write and one more delete, blind, are refused with 409 and change nothing; a write with the
 * read's context resolves them all.
 */
export async function siblingCapConformance(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  const { x: viewX, view } = await nodes[0]!.api.cluster();
  ctx.expectStatus(viewX, 200);
  const n = view!.n;
  const key = freshKey('c6');
  const dots = new Set<string>();
  // In batches of 10 concurrent writes, but the last (the 100th version) alone, once W = N put the 99 before it on
  // every replica: the write that brings the key to exactly 100 versions must pass (only more than 100 is refused).
  for (let i = 0; i < MAX_SIBLINGS; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, MAX_SIBLINGS - 1 - i) }, (_, j) =>
        nodes[(i + j) % nodes.length]!.api.put(key, `s${i + j}`, { w: n }),
      ),
    );
    for (const w of batch) {
      ctx.expect(w.outcome === 'ok', `blind write ${dots.size + 1} of ${MAX_SIBLINGS} was not acknowledged`, w.x);
      dots.add(w.dot!);
    }
  }
  const hundredth = await nodes[(MAX_SIBLINGS - 1) % nodes.length]!.api.put(key, `s${MAX_SIBLINGS - 1}`, { w: n });
  ctx.expect(
    hundredth.outcome === 'ok',
    `with ${MAX_SIBLINGS - 1} versions on every replica, the write that makes the ${MAX_SIBLINGS}th answered ` +
      `${hundredth.x.status ?? hundredth.x.error}: a key holds up to ${MAX_SIBLINGS} versions`,
    hundredth.x,
  );
  dots.add(hundredth.dot!);
  const expectAllKept = async (when: string) => {
    const got = await nodes[0]!.api.get(key, { r: n });
    ctx.expectStatus(got.x, 200);
    const missing = [...dots].filter((d) => !got.siblings.some((s) => s.dot === d));
    ctx.expect(
      missing.length === 0 && got.siblings.length === MAX_SIBLINGS,
      `${when}: read ${got.siblings.length} siblings, not the ${MAX_SIBLINGS} concurrent writes (${missing.length} missing)`,
      got.x,
    );
    return got;
  };
  await expectAllKept(`after ${MAX_SIBLINGS} blind writes`);
  const over = await nodes[nodes.length - 1]!.api.put(key, 'one-too-many', { w: n });
  ctx.expectStatus(over.x, 409, 'too_many_siblings');
  const overDelete = await nodes[0]!.api.del(key, { w: n });
  ctx.expectStatus(overDelete.x, 409, 'too_many_siblings');
  const read = await expectAllKept('after the refused write and delete');
  const resolved = await nodes[0]!.api.put(key, 'merged', { context: read.context, w: n });
  ctx.expectStatus(resolved.x, 200);
  const after = await nodes[nodes.length - 1]!.api.get(key, { r: n });
  ctx.expect(
    after.status === 200 && after.siblings.map((s) => s.value).join() === 'merged',
    `a write with the read's context did not resolve the siblings: ${after.siblings.length} left`,
    after.x,
  );
}
