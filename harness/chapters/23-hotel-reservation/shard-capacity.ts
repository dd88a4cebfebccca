// The book's "1,000 times bigger" case (a booking site: 30,000 QPS over 16 shards by hotel ID, 1,875 QPS per shard):
// what one shard, one store, carries per strategy. Each strategy's low-contention cell (strategy-cell.ts) run with
// more clients than the store serves at once, beside a yardstick in the same run: the same clients on a fresh store
// of the same kind, each committing a one-statement transaction (an UPDATE of its own row) as fast as it can, the
// most transactions this store commits here. A strategy short of 1,875 reservations/s is the strategy's limit when
// the yardstick carried 1,875 transactions/s, and this machine's when even it could not.
import { performance } from 'node:perf_hooks';
import type { MutantName } from '../../../reference/23-hotel-reservation/mutants.ts';
import { STRATEGIES, type Strategy } from '../../../reference/23-hotel-reservation/room-taker.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import type { Profile } from '../../core/load-run.ts';
import type { ResolvedTarget } from '../../core/resolve-targets.ts';
import type { TargetResult } from '../../results/types.ts';
import {
  type CellResult,
  type CellSettings,
  mergeCells,
  openStore,
  p99,
  runCell,
  type StoreKind,
} from './strategy-cell.ts';

/** The book's figures for the case. */
export const BOOK = {
  qps: 30_000,
  shards: 16,
  perShard: 1_875,
  /** 1,000 times the book's 3 reservations/s: the reservations among the 30,000 QPS by the book's own funnel. */
  reservationsPerS: 3_000,
} as const;

/**
 * Clients per store: 64 in full, over PostgreSQL's pool of 20 connections (DB_POOL_MAX) so every connection is
 * always busy, and far over SQLite's one connection; each strategy gets the same plan; two rounds, order reversed.
 */
export const CAPACITY_SETTINGS: Record<Profile, CellSettings> = {
  smoke: { clients: 16, attempts: 160, rounds: 1 },
  full: { clients: 64, attempts: 4000, rounds: 2 },
};

export interface YardstickResult {
  store: StoreKind;
  clients: number;
  transactions: number;
  errors: number;
  errorSample?: string;
  seconds: number;
  perS: number;
  p99Ms: number;
}

/** The yardstick: `attempts` one-statement transactions from `clients` clients on a fresh store of the kind. */
export async function runYardstick(
  store: StoreKind,
  settings: CellSettings,
  databaseUrl: string | undefined,
): Promise<YardstickResult> {
  const opened = await openStore(store, 'pessimistic', undefined, databaseUrl);
  try {
    const { db } = opened;
    await db.run('CREATE TABLE bench_yardstick (id integer PRIMARY KEY, n integer NOT NULL)');
    for (let c = 0; c < settings.clients; c++) await db.run('INSERT INTO bench_yardstick VALUES (?, 0)', [c]);
    const latencies: number[] = [];
    let done = 0;
    let errors = 0;
    let errorSample: string | undefined;
    const client = async (c: number) => {
      for (let k = c; k < settings.attempts; k += settings.clients) {
        const started = performance.now();
        try {
          await db.tx((sql) => sql.run('UPDATE bench_yardstick SET n = n + 1 WHERE id = ?', [c]));
          done++;
        } catch (e) {
          errors++;
          errorSample ??= (e as Error).message;
        }
        latencies.push(performance.now() - started);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: settings.clients }, (_, c) => client(c)));
    const seconds = (performance.now() - start) / 1000;
    // Every committed increment is there: a yardstick that lost work would overstate the store.
    const [sum] = await db.all<{ n: number }>('SELECT SUM(n) AS n FROM bench_yardstick');
    if (Number(sum?.n) !== done) throw new Error(`yardstick: ${done} transactions committed, ${sum?.n} read back`);
    return {
      store,
      clients: settings.clients,
      transactions: done,
      errors,
      ...(errorSample ? { errorSample } : {}),
      seconds: Math.round(seconds * 1000) / 1000,
      perS: seconds > 0 ? Math.round((done / seconds) * 10) / 10 : 0,
      p99Ms: p99(latencies),
    };
  } finally {
    await opened.close();
  }
}

/** The yardstick's rounds as one: transactions and seconds added, the worst p99. */
export function mergeYardsticks(ys: readonly YardstickResult[]): YardstickResult {
  const [first, ...rest] = ys;
  if (!first) throw new Error('no yardstick to merge');
  const m = { ...first };
  for (const y of rest) {
    m.transactions += y.transactions;
    m.errors += y.errors;
    m.seconds += y.seconds;
    m.p99Ms = Math.max(m.p99Ms, y.p99Ms);
    if (y.errorSample && !m.errorSample) m.errorSample = y.errorSample;
  }
  m.seconds = Math.round(m.seconds * 1000) / 1000;
  m.perS = m.seconds > 0 ? Math.round((m.transactions / m.seconds) * 10) / 10 : 0;
  return m;
}

export interface ShardMeasurement {
  store: StoreKind;
  /** Each strategy's rounds merged. */
  cells: Partial<Record<Strategy, CellResult>>;
  yardstick: YardstickResult;
}

/** One store: rounds of the yardstick and the three strategies, the order reversed each round (a machine's drift). */
export async function measureShard(o: {
  store: StoreKind;
  settings: CellSettings;
  databaseUrl: string | undefined;
  onProgress: (line: string) => void;
  seed?: number;
  /** A broken reference in place of a strategy's (the chapter's mutants): shows the verdict can fail. */
  mutants?: Partial<Record<Strategy, MutantName>>;
}): Promise<ShardMeasurement> {
  const cells = new Map<Strategy, CellResult[]>(STRATEGIES.map((s) => [s, []]));
  const yardsticks: YardstickResult[] = [];
  const steps = ['yardstick', ...STRATEGIES] as const;
  for (let round = 0; round < o.settings.rounds; round++) {
    o.onProgress(
      `one shard: ${o.store}, round ${round + 1} of ${o.settings.rounds}: ${o.settings.attempts} reservations (or yardstick transactions) from ${o.settings.clients} clients each`,
    );
    for (const step of round % 2 ? [...steps].reverse() : steps) {
      if (step === 'yardstick') {
        const y = await runYardstick(o.store, o.settings, o.databaseUrl);
        yardsticks.push(y);
        o.onProgress(`  ${describeYardstick(y)}`);
        continue;
      }
      const cell = await runCell({
        store: o.store,
        contention: 'low',
        strategy: step,
        settings: o.settings,
        // Its own plan (not the comparison's): a shard's many hotels' guests rarely want the same night.
        seed: o.seed ?? 2300,
        databaseUrl: o.databaseUrl,
        mutant: o.mutants?.[step],
      });
      cells.get(step)?.push(cell);
      o.onProgress(
        `  ${step}: ${cell.committed}/${cell.attempts} committed, ${cell.committedPerS}/s, p99 ${cell.p99Ms} ms`,
      );
    }
  }
  const merged: ShardMeasurement['cells'] = {};
  for (const [s, rounds] of cells) if (rounds.length) merged[s] = mergeCells(rounds);
  return { store: o.store, cells: merged, yardstick: mergeYardsticks(yardsticks) };
}

export function describeYardstick(y: YardstickResult): string {
  return (
    `yardstick (one-statement transactions, ${y.clients} clients): ${y.transactions} committed in ${y.seconds} s ` +
    `(${y.perS}/s), ${y.errors} errors${y.errorSample ? ` (${y.errorSample})` : ''}, p99 ${y.p99Ms} ms`
  );
}

/** Shards a rate of `perShard` needs to carry `total`: none for an unmeasured rate. */
export const shardsFor = (total: number, perShard: number): number | null =>
  perShard > 0 ? Math.ceil(total / perShard) : null;

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

function abortAndRetry(c: CellResult): string {
  const aborted = Object.values(c.rolledBack).reduce((a, b) => a + b, 0);
  return (
    `rolled back ${aborted} of ${c.transactions} transactions (${pct(c.transactions ? aborted / c.transactions : 0)}), ` +
    `${c.serverRetries} retried by the store and ${c.clientResends} resent (${pct(c.attempts ? (c.serverRetries + c.clientResends) / c.attempts : 0)} of attempts)`
  );
}

/**
 * One strategy's shard target. A failed attempt or a broken invariant fails it in any profile (correctness, not
 * speed); the rate is graded in the full profile; a rate short of 1,875/s is beyond this machine only when the
 * yardstick, same clients, same store, same run, also committed fewer than 1,875 transactions/s, all without error.
 */
export function gradeShardTarget(
  t: ResolvedTarget,
  cell: CellResult | undefined,
  y: YardstickResult | undefined,
  profile: Profile,
  notMeasured?: string,
): TargetResult {
  if (!cell || !y) return gradeTarget(t, { value: null, reason: notMeasured ?? 'not measured' }, profile);
  const target = t.value ?? BOOK.perShard;
  const shards = shardsFor(BOOK.qps, cell.committedPerS);
  const conditions = [
    {
      ok: cell.errors === 0,
      why: `${cell.errors} of ${cell.attempts} attempts failed with an error${cell.errorSample ? ` (${cell.errorSample})` : ''}`,
    },
    {
      ok: cell.overLimit + cell.miscounted === 0,
      why: `the invariant broke: ${cell.overLimit} nights over 110%, ${cell.miscounted} off the acknowledged sum`,
    },
  ];
  const measured =
    `${cell.committed}/${cell.attempts} committed in ${cell.seconds} s from ${y.clients} clients (${cell.committedPerS}/s), ` +
    `${cell.soldOut} sold out, ${cell.gaveUp} gave up, ${cell.errors} errors; ${abortAndRetry(cell)}; p99 ${cell.p99Ms} ms; ` +
    `${describeYardstick(y)}; reservations per yardstick transaction ${y.perS > 0 ? Math.round((cell.committedPerS / y.perS) * 1000) / 1000 : 0}; ` +
    `the book's ${BOOK.qps} QPS as reservations would need ${shards ?? '-'} such shards (the book: ${BOOK.shards}), ` +
    `its ${BOOK.reservationsPerS} reservations/s alone ${shardsFor(BOOK.reservationsPerS, cell.committedPerS) ?? '-'}`;
  const r = gradeTarget(
    t,
    {
      value: cell.committedPerS,
      reason: measured,
      conditions,
      yardstick: {
        name: `one-statement transactions, same clients, same store, same run`,
        value: y.perS,
        unit: 'transactions/s',
      },
    },
    profile,
  );
  const failed = conditions.find((c) => !c.ok);
  if (failed) return { ...r, verdict: 'fail', reason: `${failed.why}; ${measured}` };
  // A yardstick that failed transactions measured no limit of the store: it excuses nothing.
  if (r.verdict === 'fail' && y.errors === 0 && y.perS < target)
    return {
      ...r,
      verdict: 'beyond-machine',
      reason:
        `beyond this machine: the yardstick committed ${y.perS} one-statement transactions/s on this store with the same ` +
        `${y.clients} clients in this run, under the ${target} a shard must carry; the strategy: ${r.reason}`,
    };
  return r;
}

/** Shards the book's 30,000 QPS needs at the fastest strategy's rate on a store (info, beside the book's 16). */
export function shardsTarget(
  t: ResolvedTarget,
  m: ShardMeasurement | undefined,
  profile: Profile,
  notMeasured?: string,
): TargetResult {
  const sound = m ? STRATEGIES.flatMap((s) => (m.cells[s] ? [[s, m.cells[s]] as const] : [])) : [];
  // Only a clean measurement says what a shard carries.
  const clean = sound.filter(([, c]) => c.errors === 0 && c.overLimit + c.miscounted === 0 && c.committedPerS > 0);
  if (!m || clean.length === 0)
    return gradeTarget(
      t,
      { value: null, reason: notMeasured ?? 'no strategy measured without errors and with the invariant kept' },
      profile,
    );
  const [best, cell] = clean.reduce((a, b) => (b[1].committedPerS > a[1].committedPerS ? b : a));
  const each = clean
    .map(
      ([s, c]) =>
        `${s} ${c.committedPerS}/s: ${shardsFor(BOOK.qps, c.committedPerS)} (${shardsFor(BOOK.reservationsPerS, c.committedPerS)} for the book's ${BOOK.reservationsPerS} reservations/s alone)`,
    )
    .join('; ');
  return gradeTarget(
    t,
    {
      value: shardsFor(BOOK.qps, cell.committedPerS),
      reason:
        `fastest: ${best}; ${each}; the yardstick's ${m.yardstick.perS} transactions/s would need ` +
        `${shardsFor(BOOK.qps, m.yardstick.perS) ?? '-'}; the book: ${BOOK.shards} shards of ${BOOK.perShard} QPS`,
    },
    profile,
  );
}
