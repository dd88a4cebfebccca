// The book's comparison of its three concurrency strategies, measured side by side (`sdgrade bench 23`): pessimistic
// locking, optimistic locking with a version column and a database constraint, each in the reference's own store in
// this process, on the same seeded plans of reservations under low and high contention, on the embedded SQLite and,
// when SDGRADE_DATABASE_URL is set, on PostgreSQL. In process and not over HTTP: the strategies differ only inside
// the store's transaction, which the HTTP service around it would drown on two shared cores, and their rollbacks and
// retries happen inside the service, where only the store sees them (spec README, section 6).
// Then the book's "1,000 times bigger" case: one shard (one store) per strategy against its 1,875 per shard
// (shard-capacity.ts).
import type { MutantName } from '../../../reference/23-hotel-reservation/mutants.ts';
import { STRATEGIES, type Strategy } from '../../../reference/23-hotel-reservation/room-taker.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import type { TargetResult } from '../../results/types.ts';
import {
  CAPACITY_SETTINGS,
  gradeShardTarget,
  measureShard,
  type ShardMeasurement,
  shardsTarget,
} from './shard-capacity.ts';
import {
  abortRate,
  type CellResult,
  type CellSettings,
  type Contention,
  mergeCells,
  retryRate,
  runCell,
  type StoreKind,
} from './strategy-cell.ts';

/** Clients at once and attempts per cell: the same in both contention profiles, so only the contention differs. */
export const SETTINGS: Record<Profile, CellSettings> = {
  smoke: { clients: 8, attempts: 120, rounds: 1 },
  full: { clients: 16, attempts: 600, rounds: 2 },
};

const CONTENTIONS: readonly Contention[] = ['low', 'high'];

export interface Comparison {
  cells: CellResult[];
  /** Stores not measured, with the reason (PostgreSQL without SDGRADE_DATABASE_URL, or unreachable). */
  notMeasured: Partial<Record<StoreKind, string>>;
}

export interface CompareOptions {
  settings: CellSettings;
  onProgress: (line: string) => void;
  databaseUrl?: string | undefined;
  /** A broken strategy in place of the reference's (the chapter's mutants): shows the verdicts can fail. */
  mutants?: Partial<Record<Strategy, MutantName>>;
  stores?: readonly StoreKind[];
  seed?: number;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export function describeCell(c: CellResult): string {
  const rb = c.rolledBack;
  const causes = Object.entries(rb)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const invariant =
    c.overLimit || c.miscounted
      ? `INVARIANT BROKEN: ${c.overLimit} nights over 110%, ${c.miscounted} off the acknowledged sum` +
        (c.worst ? ` (worst ${c.worst.date}: ${c.worst.reserved} reserved, ${c.worst.allowed} allowed)` : '')
      : 'invariant kept';
  return (
    `${c.strategy}${c.mutant ? ` [mutant ${c.mutant}]` : ''}: ${c.committed}/${c.attempts} committed in ${c.seconds} s ` +
    `(${c.committedPerS}/s), ${c.soldOut} sold out, ${c.gaveUp} gave up, ${c.errors} errors` +
    `${c.errorSample ? ` (${c.errorSample})` : ''}; rolled back ${pct(abortRate(c))} of ${c.transactions} ` +
    `transactions${causes ? ` (${causes})` : ''}; retries ${c.serverRetries} by the store + ${c.clientResends} ` +
    `resent (${Math.round(retryRate(c) * 1000) / 1000} per attempt); p99 ${c.p99Ms} ms; ${invariant}`
  );
}

/** Runs every cell: per store, per contention profile, the three strategies one after another on the same plan. */
export async function compareStrategies(o: CompareOptions): Promise<Comparison> {
  const cells: CellResult[] = [];
  const notMeasured: Comparison['notMeasured'] = {};
  const stores = o.stores ?? ['sqlite', 'postgres'];
  for (const store of stores) {
    if (store === 'postgres' && !o.databaseUrl) {
      notMeasured.postgres = 'needs SDGRADE_DATABASE_URL (a real PostgreSQL)';
      continue;
    }
    try {
      for (let round = 0; round < o.settings.rounds; round++)
        for (const contention of CONTENTIONS) {
          o.onProgress(
            `strategies: ${store}, ${contention} contention, round ${round + 1} of ${o.settings.rounds}: ${o.settings.attempts} reservations from ${o.settings.clients} clients each`,
          );
          const order = round % 2 ? [...STRATEGIES].reverse() : STRATEGIES;
          for (const strategy of order) {
            const cell = await runCell({
              store,
              contention,
              strategy,
              settings: o.settings,
              // One plan per profile: every strategy gets the same requests in the same order.
              seed: (o.seed ?? 23) + (contention === 'high' ? 1 : 0),
              databaseUrl: o.databaseUrl,
              mutant: o.mutants?.[strategy],
            });
            cells.push(cell);
            o.onProgress(`  ${describeCell(cell)}`);
          }
        }
    } catch (e) {
      // PostgreSQL that cannot be reached is not measured (and said so); anything else is the benchmark's failure.
      if (store !== 'postgres' || !/cannot connect/.test((e as Error).message)) throw e;
      notMeasured.postgres = `SDGRADE_DATABASE_URL is set but PostgreSQL could not be reached: ${(e as Error).message}`;
      for (let i = cells.length - 1; i >= 0; i--) if (cells[i]!.store === 'postgres') cells.splice(i, 1);
    }
  }
  return { cells, notMeasured };
}

const STORE_NAME: Record<StoreKind, string> = { sqlite: 'embedded SQLite', postgres: 'PostgreSQL' };

/** The info targets: per store and profile, optimistic and constraint beside pessimistic. */
const THROUGHPUT_IDS: Record<StoreKind, Record<Contention, Record<'optimistic' | 'constraint', string>>> = {
  sqlite: {
    low: { optimistic: 'HR-T7', constraint: 'HR-T8' },
    high: { optimistic: 'HR-T9', constraint: 'HR-T10' },
  },
  postgres: {
    low: { optimistic: 'HR-T11', constraint: 'HR-T12' },
    high: { optimistic: 'HR-T13', constraint: 'HR-T14' },
  },
};

/** The comparison as the chapter's targets: HR-T5 and HR-T6 graded, the throughputs side by side as information. */
export function strategyTargets(cmp: Comparison, profile: Profile, settings: CellSettings): TargetResult[] {
  const t = loadTargets('23-hotel-reservation');
  // A strategy's rounds of one store and profile, as one cell.
  const cell = (s: StoreKind, c: Contention, strategy: Strategy) => {
    const rounds = cmp.cells.filter((x) => x.store === s && x.contention === c && x.strategy === strategy);
    return rounds.length ? mergeCells(rounds) : undefined;
  };
  const measured = (['sqlite', 'postgres'] as const).filter((s) => cmp.cells.some((c) => c.store === s));
  const where = (c: CellResult) => `${c.store}/${c.contention}/${c.strategy}`;
  const plan =
    `${settings.attempts} reservations per cell from ${settings.clients} clients` +
    (settings.rounds > 1 ? `, ${settings.rounds} rounds added up (the order reversed each round)` : '');

  const broken = cmp.cells.filter((c) => c.overLimit || c.miscounted);
  // A write_conflict after the resends is a documented 409 (the book's cost of optimistic locking), not a failure.
  const failing = cmp.cells.filter((c) => c.errors > 0);
  const invariant = gradeTarget(
    t['HR-T5']!,
    cmp.cells.length === 0
      ? { value: null, reason: 'no cell ran' }
      : {
          value: cmp.cells.reduce((n, c) => n + c.overLimit + c.miscounted, 0),
          reason:
            (broken.length ? broken.map((c) => `${where(c)}: ${describeCell(c)}`).join('; ') : 'every cell kept it') +
            ` (${cmp.cells.length} cells on ${measured.join(' and ')}, ${plan})`,
          conditions: failing.map((c) => ({
            ok: false,
            why: `${where(c)}: ${c.errors} attempts failed with an error${c.errorSample ? ` (${c.errorSample})` : ''}`,
          })),
        },
    profile,
  );

  const differences = measured.flatMap((s) => {
    const low = cell(s, 'low', 'optimistic');
    const high = cell(s, 'high', 'optimistic');
    return low && high ? [{ s, low: low.rolledBack.version, high: high.rolledBack.version, n: low.attempts }] : [];
  });
  const rollbacks = gradeTarget(
    t['HR-T6']!,
    differences.length === 0
      ? { value: null, reason: 'no optimistic cells ran' }
      : {
          value: Math.min(...differences.map((d) => d.high - d.low)),
          reason: differences
            .map(
              (d) =>
                `${STORE_NAME[d.s]}: ${d.high} version-conflict rollbacks at high contention, ${d.low} at low, of ${d.n} attempts each`,
            )
            .join('; '),
        },
    profile,
  );

  const throughputs = (['sqlite', 'postgres'] as const).flatMap((s) =>
    CONTENTIONS.flatMap((c) =>
      (['optimistic', 'constraint'] as const).map((strategy) => {
        const id = THROUGHPUT_IDS[s][c][strategy];
        const theirs = cell(s, c, strategy);
        const yardstick = cell(s, c, 'pessimistic');
        if (!theirs || !yardstick)
          return gradeTarget(t[id]!, { value: null, reason: cmp.notMeasured[s] ?? 'not measured' }, profile);
        return gradeTarget(
          t[id]!,
          {
            value: theirs.committedPerS,
            yardstick: {
              name: `pessimistic locking, same plan, same run (${STORE_NAME[s]}, ${c} contention)`,
              value: yardstick.committedPerS,
              unit: 'reservations/s',
            },
            reason: `${describeCell(theirs)} | ${describeCell(yardstick)} | ${plan}`,
          },
          profile,
        );
      }),
    ),
  );
  return [invariant, rollbacks, ...throughputs];
}

/** The "1,000 times bigger" targets: per store, each strategy's shard graded, and the shards the book would need. */
const SHARD_IDS: Record<StoreKind, { strategies: Record<Strategy, string>; shards: string }> = {
  sqlite: { strategies: { pessimistic: 'HR-T15', optimistic: 'HR-T16', constraint: 'HR-T17' }, shards: 'HR-T21' },
  postgres: { strategies: { pessimistic: 'HR-T18', optimistic: 'HR-T19', constraint: 'HR-T20' }, shards: 'HR-T22' },
};

export interface ShardRun {
  measured: ShardMeasurement[];
  notMeasured: Partial<Record<StoreKind, string>>;
}

/** One shard per store (shard-capacity.ts); PostgreSQL not measured without SDGRADE_DATABASE_URL, or unreachable. */
export async function measureShards(o: {
  settings: CellSettings;
  onProgress: (line: string) => void;
  databaseUrl?: string | undefined;
  stores?: readonly StoreKind[];
  mutants?: Partial<Record<Strategy, MutantName>>;
}): Promise<ShardRun> {
  const run: ShardRun = { measured: [], notMeasured: {} };
  for (const store of o.stores ?? (['sqlite', 'postgres'] as const)) {
    if (store === 'postgres' && !o.databaseUrl) {
      run.notMeasured.postgres = 'needs SDGRADE_DATABASE_URL (a real PostgreSQL)';
      continue;
    }
    try {
      run.measured.push(
        await measureShard({
          store,
          settings: o.settings,
          databaseUrl: o.databaseUrl,
          onProgress: o.onProgress,
          ...(o.mutants ? { mutants: o.mutants } : {}),
        }),
      );
    } catch (e) {
      if (store !== 'postgres' || !/cannot connect/.test((e as Error).message)) throw e;
      run.notMeasured.postgres = `SDGRADE_DATABASE_URL is set but PostgreSQL could not be reached: ${(e as Error).message}`;
    }
  }
  return run;
}

export function shardTargets(run: ShardRun, profile: Profile): TargetResult[] {
  const t = loadTargets('23-hotel-reservation');
  return (['sqlite', 'postgres'] as const).flatMap((s) => {
    const m = run.measured.find((x) => x.store === s);
    const why = run.notMeasured[s];
    return [
      ...STRATEGIES.map((strategy) =>
        gradeShardTarget(t[SHARD_IDS[s].strategies[strategy]]!, m?.cells[strategy], m?.yardstick, profile, why),
      ),
      shardsTarget(t[SHARD_IDS[s].shards]!, m, profile, why),
    ];
  });
}

export const benchHotelReservation: BenchRun = async ({ profile, onProgress }) => {
  const settings = SETTINGS[profile];
  const databaseUrl = process.env['SDGRADE_DATABASE_URL'];
  const cmp = await compareStrategies({ settings, onProgress, databaseUrl });
  const shards = await measureShards({ settings: CAPACITY_SETTINGS[profile], onProgress, databaseUrl });
  return [...strategyTargets(cmp, profile, settings), ...shardTargets(shards, profile)];
};
