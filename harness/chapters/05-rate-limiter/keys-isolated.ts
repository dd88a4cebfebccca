// RL-I3: one key's limit never denies another: generated limits and neighbours (fast-check, with the check's seed),
// and descriptor lists that read alike once strung together.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { clearOfBoundary, decided, installRules, perMinute, type RlApi, rlApi, runNonce, type Timed } from './api.ts';

export async function keysAreIsolated(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const domain = `i3-${runNonce()}`;
  await lookalikeListsAreIsolated(ctx, api, `${domain}-lookalike`);
  let run = 0;
  await ctx.property(
    fc.record({ limit: fc.integer({ min: 1, max: 6 }), others: fc.integer({ min: 1, max: 3 }) }),
    async ({ limit, others }) => {
      const d = `${domain}-${run++}`;
      await installRules(ctx, api, d, [perMinute('user', limit)]);
      await clearOfBoundary(ctx, 60_000, 3000);
      const key = (i: number) => [{ key: 'user', value: `u${i}` }];
      const first = await Promise.all(Array.from({ length: limit + 2 }, () => decided(ctx, api, d, key(0))));
      ctx.expect(
        first.some((t) => !t.d.allowed),
        `${limit + 2} requests at once to ${limit} per minute all passed`,
      );
      for (let i = 1; i <= others; i++) {
        const got = await Promise.all(Array.from({ length: limit }, () => decided(ctx, api, d, key(i))));
        const denied = got.find((t) => !t.d.allowed);
        if (denied)
          ctx.fail(`with user u0 limited, user u${i} was denied within its own limit of ${limit}`, {
            exchange: denied.x,
          });
      }
    },
    Math.min(ctx.numRuns, 10),
  );
}

/**
 * Descriptor lists that differ, but read the same once their keys and values are strung together, are different
 * keys: a nested [a=1, b=2] and a single a="1b=2"; a NUL inside a value; '=' inside a key or value (the schema
 * allows any character in both). Each pair matches rules of one unit and limit, so a shared bucket shows: one list
 * used up leaves the other its whole limit.
 */
async function lookalikeListsAreIsolated(ctx: CheckContext, api: RlApi, domain: string): Promise<void> {
  const limit = 2;
  const rateLimit = { unit: 'minute' as const, requests_per_unit: limit };
  await installRules(ctx, api, domain, [
    { key: 'a', rate_limit: rateLimit, descriptors: [{ key: 'b', rate_limit: rateLimit }] },
    { key: 'a=1', rate_limit: rateLimit },
  ]);
  const e = (...kv: [string, string][]) => kv.map(([key, value]) => ({ key, value }));
  const pairs = [
    [e(['a', '1'], ['b', '2']), e(['a', '1b=2'])],
    [e(['a', '3'], ['b', '4']), e(['a', '3\u0000b=4'])],
    [e(['a', '1=x']), e(['a=1', 'x'])],
  ];
  const show = (l: { key: string; value: string }[]) => JSON.stringify(l.map((x) => [x.key, x.value]));
  for (const [used, other] of pairs as [ReturnType<typeof e>, ReturnType<typeof e>][]) {
    await clearOfBoundary(ctx, 60_000, 3000);
    let last: Timed | undefined;
    for (let i = 0; i < limit + 1; i++) last = await decided(ctx, api, domain, used);
    ctx.expect(
      !last!.d!.allowed,
      `${limit + 1} requests of ${show(used)} to ${limit} per minute: the last passed`,
      last!.x,
    );
    for (let i = 0; i < limit; i++) {
      const t = await decided(ctx, api, domain, other);
      if (!t.d.allowed)
        ctx.fail(
          `with ${show(used)} limited, ${show(other)} (another descriptor list) was denied within its own limit of ${limit}: the two share a bucket`,
          { exchange: t.x },
        );
    }
  }
}
