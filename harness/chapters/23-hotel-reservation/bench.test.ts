// The book's comparison of the three concurrency strategies (bench.ts) at smoke settings: it runs, every cell keeps
// the invariant and the two graded claims hold on the reference; and its verdict fails on strategies that oversell
// (the chapter's mutants that take away each strategy's lock, version check or CHECK constraint).
import { describe, expect, it } from 'vitest';
import { timeLimit } from '../grade-test-kit.ts';
import { compareStrategies, SETTINGS, strategyTargets } from './bench.ts';

const databaseUrl = process.env.SDGRADE_DATABASE_URL;
const stores = databaseUrl ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe('23-hotel-reservation: the three concurrency strategies side by side', () => {
  it(
    'measures each strategy under low and high contention on the same plan; the invariant holds in every cell',
    async () => {
      const settings = SETTINGS.smoke;
      const cmp = await compareStrategies({ settings, onProgress: () => {}, databaseUrl });
      expect(cmp.cells.map((c) => `${c.store}/${c.contention}/${c.strategy}`)).toEqual(
        stores.flatMap((s) =>
          ['low', 'high'].flatMap((c) => ['pessimistic', 'optimistic', 'constraint'].map((x) => `${s}/${c}/${x}`)),
        ),
      );
      for (const c of cmp.cells) {
        const where = `${c.store}/${c.contention}/${c.strategy}`;
        expect([c.overLimit, c.miscounted, c.errors], where).toEqual([0, 0, 0]);
        expect(c.committed, where).toBeGreaterThan(0);
        expect(c.committed + c.soldOut + c.gaveUp + c.errors, where).toBe(settings.attempts);
        expect(c.nights, where).toBeGreaterThan(0);
        // The race reached the last rooms: more were asked for than 110% of the inventory, and the rest refused.
        if (c.contention === 'high') expect(c.soldOut, where).toBeGreaterThan(0);
        // Pessimistic locking and the constraint never retry; nothing sells out at low contention.
        if (c.strategy !== 'optimistic') expect(c.serverRetries + c.clientResends, where).toBe(0);
        if (c.contention === 'low') expect(c.soldOut, where).toBe(0);
      }
      const byId = Object.fromEntries(strategyTargets(cmp, 'smoke', settings).map((t) => [t.id, t]));
      expect(byId['HR-T5']!.verdict, byId['HR-T5']!.reason).toBe('pass');
      expect(byId['HR-T5']!.value).toBe(0);
      expect(byId['HR-T6']!.verdict, byId['HR-T6']!.reason).toBe('pass');
      for (const id of ['HR-T7', 'HR-T8', 'HR-T9', 'HR-T10']) {
        expect(byId[id]!.verdict, id).toBe('info');
        expect(byId[id]!.ratio, id).toBeGreaterThan(0);
        expect(byId[id]!.yardstick?.value, id).toBeGreaterThan(0);
      }
      for (const id of ['HR-T11', 'HR-T12', 'HR-T13', 'HR-T14'])
        if (databaseUrl) expect(byId[id]!.ratio, id).toBeGreaterThan(0);
        else
          expect([byId[id]!.verdict, byId[id]!.reason], id).toEqual(['skipped', expect.stringMatching(/DATABASE_URL/)]);
    },
    timeLimit(120_000),
  );

  it(
    'fails HR-T5 on strategies that never abort and oversell, and HR-T6 on optimistic locking without the version check',
    async () => {
      const settings = SETTINGS.smoke;
      const cmp = await compareStrategies({
        settings,
        onProgress: () => {},
        stores: ['sqlite'],
        mutants: {
          pessimistic: 'check-then-update-unlocked',
          optimistic: 'optimistic-version-unchecked',
          constraint: 'constraint-missing',
        },
      });
      // Each broken strategy oversells the last rooms: nights read back over 110%.
      for (const c of cmp.cells.filter((x) => x.contention === 'high'))
        expect(c.overLimit, `${c.strategy} [${c.mutant}]`).toBeGreaterThan(0);
      const byId = Object.fromEntries(strategyTargets(cmp, 'smoke', settings).map((t) => [t.id, t]));
      expect(byId['HR-T5']!.verdict).toBe('fail');
      for (const s of ['pessimistic', 'optimistic', 'constraint'])
        expect(byId['HR-T5']!.reason).toContain(`sqlite/high/${s}`);
      expect(byId['HR-T6']!.verdict).toBe('fail');
      expect(byId['HR-T6']!.value).toBe(0);
    },
    timeLimit(120_000),
  );
});
