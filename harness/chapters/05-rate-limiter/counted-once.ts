// RL-F3's count after a stall: each decision is one script, so a decision the store ran late (the limiter had timed
// out and answered by the fail mode) is counted at most once. A limiter that sends a timed-out script again counts
// one request twice, and the client is refused earlier than the definition says once the store is back.
import type { CheckContext } from '../../core/check-context.ts';
import { type Entry, rlApi } from './api.ts';

/**
 * Each key was decided once while the store was slow; after it is back (limiting has resumed, so every script sent
 * before has run: one connection runs them in order), its rule of `limit` per hour must admit `limit - 1` more in a
 * row. Every definition agrees: one counted request leaves L - 1 (an hour's rule refills nothing meanwhile worth a
 * request, and a window that ends only gives more).
 */
export async function expectCountedOnce(
  ctx: CheckContext,
  domain: string,
  limit: number,
  values: readonly string[],
): Promise<void> {
  const api = rlApi(ctx);
  const after: Record<string, (boolean | number | null)[]> = {};
  for (const value of values) {
    const entries: Entry[] = [{ key: 'client', value }];
    const got: (boolean | number | null)[] = [];
    for (let i = 0; i < limit - 1; i++) {
      const t = await api.decide(domain, entries);
      got.push(t.d ? t.d.allowed : t.x.status);
    }
    after[value] = got;
    ctx.expect(
      got.every((g) => g === true),
      `a key decided once while the store was 3 s slow was then answered ${JSON.stringify(got)} for ${limit - 1} requests under its ${limit} per hour: that one decision was counted more than once (each decision is one script, counted once)`,
    );
  }
  ctx.evidence.answersAfterStall = after;
}
