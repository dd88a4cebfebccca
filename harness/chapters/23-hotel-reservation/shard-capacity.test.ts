// The "1,000 times bigger" targets (shard-capacity.ts, HR-T15..T22): their verdicts from made-up measurements (met,
// the strategy's limit, this machine's limit, and never met or excused with errors or a broken invariant), then a
// real smoke measurement on the reference, and one on a broken reference whose nights drift from what it acknowledged.
import { describe, expect, it } from 'vitest';
import { loadTargets } from '../../core/resolve-targets.ts';
import { timeLimit } from '../grade-test-kit.ts';
import { measureShards, shardTargets } from './bench.ts';
import { BOOK, CAPACITY_SETTINGS, gradeShardTarget, shardsTarget, type YardstickResult } from './shard-capacity.ts';
import type { CellResult } from './strategy-cell.ts';

const databaseUrl = process.env.SDGRADE_DATABASE_URL;
const t = loadTargets('23-hotel-reservation');

function cell(perS: number, more: Partial<CellResult> = {}): CellResult {
  return {
    store: 'sqlite',
    contention: 'low',
    strategy: 'pessimistic',
    attempts: 1000,
    committed: 1000,
    soldOut: 0,
    gaveUp: 0,
    errors: 0,
    seconds: 1000 / perS,
    committedPerS: perS,
    p99Ms: 20,
    transactions: 2000,
    rolledBack: { version: 0, constraint: 0, refused: 0, deadlock: 0, other: 0 },
    serverRetries: 0,
    clientResends: 0,
    overLimit: 0,
    miscounted: 0,
    nights: 1500,
    ...more,
  };
}

const yardstick = (perS: number, more: Partial<YardstickResult> = {}): YardstickResult => ({
  store: 'sqlite',
  clients: 64,
  transactions: 1000,
  errors: 0,
  seconds: 1000 / perS,
  perS,
  p99Ms: 5,
  ...more,
});

describe("23-hotel-reservation: one shard against the book's 1,875 per shard", () => {
  const T15 = t['HR-T15']!;

  it('grades the rate in the full profile: met, the strategy short of it, or this machine short of it', () => {
    expect(T15.value).toBe(BOOK.perShard);
    const met = gradeShardTarget(T15, cell(2000), yardstick(9000), 'full');
    expect([met.verdict, met.value, met.yardstick?.value]).toEqual(['pass', 2000, 9000]);
    expect(met.reason).toContain(`need ${Math.ceil(30_000 / 2000)} such shards (the book: 16)`);
    // The store committed 9,000 trivial transactions/s here: the strategy is the limit.
    const short = gradeShardTarget(T15, cell(800), yardstick(9000), 'full');
    expect(short.verdict).toBe('fail');
    expect(short.reason).toMatch(/^measured 800 reservations\/s, target >= 1875/);
    // Not even 1,875 trivial transactions/s: this machine is the limit, with both figures.
    const beyond = gradeShardTarget(T15, cell(800), yardstick(1200), 'full');
    expect(beyond.verdict).toBe('beyond-machine');
    expect(beyond.reason).toMatch(/^beyond this machine: the yardstick committed 1200 .* measured 800 reservations\/s/);
    // The smoke profile measures it but does not grade the rate.
    expect(gradeShardTarget(T15, cell(800), yardstick(9000), 'smoke').verdict).toBe('info');
  });

  it('never meets or excuses a measurement with errors or a broken invariant, in any profile', () => {
    for (const [what, c, y] of [
      ['errors', cell(5000, { errors: 3, committed: 997, errorSample: 'boom' }), yardstick(9000)],
      ['errors, slow machine', cell(800, { errors: 3, committed: 997 }), yardstick(1200)],
      ['nights over 110%', cell(5000, { overLimit: 2 }), yardstick(9000)],
      ['nights off the acknowledged sum', cell(800, { miscounted: 4 }), yardstick(1200)],
    ] as const)
      for (const profile of ['full', 'smoke'] as const) {
        const r = gradeShardTarget(T15, c, y, profile);
        expect(r.verdict, `${what}, ${profile}`).toBe('fail');
      }
    // A yardstick that failed transactions measured nothing: a miss is the strategy's.
    expect(gradeShardTarget(T15, cell(800), yardstick(1200, { errors: 1 }), 'full').verdict).toBe('fail');
    expect(
      gradeShardTarget(T15, cell(5000, { errors: 3, errorSample: 'boom' }), yardstick(9000), 'full').reason,
    ).toMatch(/^3 of 1000 attempts failed with an error \(boom\)/);
  });

  it('is skipped with the reason when the store was not measured', () => {
    const r = gradeShardTarget(t['HR-T18']!, undefined, undefined, 'full', 'needs SDGRADE_DATABASE_URL');
    expect([r.verdict, r.reason]).toEqual(['skipped', 'needs SDGRADE_DATABASE_URL']);
  });

  it("counts the shards the book's 30,000 QPS needs at the fastest clean strategy, beside the book's 16", () => {
    const m = {
      store: 'sqlite' as const,
      cells: {
        pessimistic: cell(1000),
        optimistic: cell(9000, { miscounted: 1 }),
        constraint: cell(1500, { strategy: 'constraint' }),
      },
      yardstick: yardstick(6000),
    };
    const r = shardsTarget(t['HR-T21']!, m, 'full');
    // The optimistic cell broke the invariant: its rate says nothing; the constraint's 1,500/s needs 20 shards.
    expect([r.verdict, r.value, r.target]).toEqual(['info', 20, 16]);
    expect(r.reason).toContain('fastest: constraint');
    expect(r.reason).toContain("2 for the book's 3000 reservations/s alone");
    expect(r.reason).toContain("the yardstick's 6000 transactions/s would need 5");
  });

  it(
    'measures each strategy and the yardstick on the reference (smoke): every reservation committed, nothing off',
    async () => {
      const settings = CAPACITY_SETTINGS.smoke;
      const run = await measureShards({ settings, onProgress: () => {}, databaseUrl });
      expect(run.measured.map((m) => m.store)).toEqual(databaseUrl ? ['sqlite', 'postgres'] : ['sqlite']);
      for (const m of run.measured) {
        expect(m.yardstick.transactions, m.store).toBe(settings.attempts);
        expect(m.yardstick.perS, m.store).toBeGreaterThan(0);
        for (const [s, c] of Object.entries(m.cells)) {
          const where = `${m.store}/${s}`;
          // Low contention: nothing sells out, nothing fails, the nights hold exactly what was acknowledged.
          expect([c.committed, c.errors, c.soldOut, c.overLimit, c.miscounted], where).toEqual([
            settings.attempts,
            0,
            0,
            0,
            0,
          ]);
          expect(c.committedPerS, where).toBeGreaterThan(0);
        }
      }
      const byId = Object.fromEntries(shardTargets(run, 'smoke').map((r) => [r.id, r]));
      for (const id of ['HR-T15', 'HR-T16', 'HR-T17']) expect([id, byId[id]!.verdict]).toEqual([id, 'info']);
      expect(byId['HR-T21']!.value).toBeGreaterThan(0);
      for (const id of ['HR-T18', 'HR-T19', 'HR-T20', 'HR-T22'])
        if (databaseUrl) expect(byId[id]!.value, id).toBeGreaterThan(0);
        else expect([byId[id]!.verdict, byId[id]!.reason]).toEqual(['skipped', expect.stringMatching(/DATABASE_URL/)]);
    },
    timeLimit(120_000),
  );

  it(
    'fails HR-T15..T17 on a reference whose reservations take a night more than they acknowledge',
    async () => {
      const run = await measureShards({
        settings: CAPACITY_SETTINGS.smoke,
        onProgress: () => {},
        stores: ['sqlite'],
        mutants: {
          pessimistic: 'date-range-off-by-one',
          optimistic: 'date-range-off-by-one',
          constraint: 'date-range-off-by-one',
        },
      });
      // Graded as the full profile would: a broken invariant is a failure, never "beyond this machine".
      const byId = Object.fromEntries(shardTargets(run, 'full').map((r) => [r.id, r]));
      for (const id of ['HR-T15', 'HR-T16', 'HR-T17']) {
        expect(byId[id]!.verdict, id).toBe('fail');
        expect(byId[id]!.reason, id).toMatch(/^the invariant broke: 0 nights over 110%, [1-9]\d* off the acknowledged/);
      }
      expect([byId['HR-T21']!.verdict, byId['HR-T21']!.reason]).toEqual([
        'skipped',
        'no strategy measured without errors and with the invariant kept',
      ]);
    },
    timeLimit(120_000),
  );
});
