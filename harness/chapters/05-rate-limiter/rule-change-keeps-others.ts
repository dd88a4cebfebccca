// RL-I4: a rule change applies without a restart and leaves the other limited keys limited (fast-check, with the
// check's seed).
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { clearOfBoundary, decided, installRules, perMinute, rlApi, runNonce } from './api.ts';

export async function ruleChangeKeepsOthers(ctx: CheckContext): Promise<void> {
  const api = rlApi(ctx);
  const nonce = runNonce();
  let run = 0;
  await ctx.property(
    fc.record({ limit: fc.integer({ min: 1, max: 5 }), factor: fc.integer({ min: 2, max: 4 }) }),
    async ({ limit, factor }) => {
      const a = `i4-${nonce}-a${run}`;
      const b = `i4-${nonce}-b${run++}`;
      await installRules(ctx, api, a, [perMinute('user', limit)]);
      await installRules(ctx, api, b, [perMinute('user', limit), perMinute('ip', limit)]);
      await clearOfBoundary(ctx, 60_000, 3000);
      const exhaust = async (d: string, key: string) => {
        for (let i = 0; i < limit + 1; i++) await decided(ctx, api, d, [{ key, value: 'x' }]);
        const t = await decided(ctx, api, d, [{ key, value: 'x' }]);
        ctx.expect(!t.d.allowed, `${limit + 2} requests to ${limit} per minute: the last was allowed`, t.x);
      };
      await exhaust(a, 'user');
      await exhaust(b, 'ip');
      // A key of the rule about to change, used up first: the change must apply to it (a key seen before the change
      // decides by the new limit) and must keep its counter (PUT keeps every key's counter).
      const keptFrom = Date.now();
      await exhaust(b, 'user');
      // Raise b's user limit: no restart; the unrelated limited keys must stay limited.
      await installRules(ctx, api, b, [perMinute('user', limit * factor), perMinute('ip', limit)]);
      for (const [d, key] of [
        [a, 'user'],
        [b, 'ip'],
      ] as const) {
        const t = await decided(ctx, api, d, [{ key, value: 'x' }]);
        ctx.expect(
          !t.d.allowed,
          `after a change to domain ${b}'s user rule, the limited ${d} ${key} key was let through`,
          t.x,
        );
      }
      const raised = limit * factor;
      const kept = await Promise.all(
        Array.from({ length: raised }, () => decided(ctx, api, b, [{ key: 'user', value: 'x' }])),
      );
      const stale = kept.find((t) => t.d.limit !== raised);
      if (stale)
        ctx.fail(
          `after domain ${b}'s user rule was raised to ${raised}, its user key used before the change still decides by limit ${stale.d.limit}: the change did not apply to it`,
          { exchange: stale.x },
        );
      // Its counter is kept: at most raised - limit more, plus what its definition gives back over the time measured
      // since the key was used up (a bucket's refill; a window's only if a minute boundary passed, then not judged).
      const keptTo = Math.max(...kept.map((t) => t.doneAt));
      const admitted = kept.filter((t) => t.d.allowed).length;
      const most = raised - limit + Math.floor(((keptTo - keptFrom) * raised) / 60_000);
      ctx.evidence['keptKey'] = { limit, raised, admitted, most, ms: keptTo - keptFrom };
      if (Math.floor(keptFrom / 60_000) === Math.floor(keptTo / 60_000) && admitted > most)
        ctx.fail(
          `a user key that had used up its ${limit} per minute was admitted ${admitted} times of ${raised} at once after its rule was raised to ${raised} (at most ${most} with its counter kept): the rule change reset its counter`,
          { exchange: kept[kept.length - 1]!.x },
        );
      const fresh = await Promise.all(
        Array.from({ length: limit * factor }, () => decided(ctx, api, b, [{ key: 'user', value: 'new' }])),
      );
      const denied = fresh.find((t) => !t.d.allowed || t.d.limit !== limit * factor);
      if (denied)
        ctx.fail(`the raised limit ${limit * factor} did not apply without a restart`, { exchange: denied.x });
    },
    Math.min(ctx.numRuns, 10),
  );
}
