// PAY-T5: reconciliation of a 1-million-row settlement file (the book's nightly job at its 1 million transactions
// a day), in process with the reference's parser and matcher. The file and "our" orders are generated from a seed
// (never committed), with mismatches of every kind planted; the run fails loudly unless the report names exactly
// those. The yardstick is the floor of reading the same file: splitting it into lines and fields, nothing else.
import { performance } from 'node:perf_hooks';
import { type OurOrder, parseSettlement, reconcile } from '../../../reference/27-payment-system/reconcile.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { seededRandom } from '../../fakes/prng.ts';
import { decimalOf } from './money.ts';

const ROWS = { smoke: 100_000, full: 1_000_000 };
const PLANTED_PER_KIND = 25;

export interface SettlementFixture {
  csv: string;
  ours: OurOrder[];
  planted: Map<string, string>;
}

/** A settlement file of `rows` charges and the matching orders, with PLANTED_PER_KIND mismatches of each kind. */
export function settlementFixture(rows: number, seed: number): SettlementFixture {
  const random = seededRandom(seed);
  const ours: OurOrder[] = [];
  const lines: string[] = ['payment_order_id,amount,currency,status'];
  const planted = new Map<string, string>();
  const kinds = ['amount_differs', 'status_differs', 'ours_only', 'theirs_only'];
  const plantAt = new Map<number, string>();
  for (const kind of kinds) {
    for (let k = 0; k < PLANTED_PER_KIND; k++) plantAt.set(Math.floor(random() * rows), kind);
  }
  for (let i = 0; i < rows; i++) {
    const id = `po_${seed}_${i}`;
    const minor = 1 + Math.floor(random() * 100_000);
    const kind = plantAt.get(i);
    if (kind) planted.set(id, kind);
    if (kind !== 'theirs_only')
      ours.push({ payment_order_id: id, amount_minor: minor, currency: 'USD', payment_order_status: 'SUCCESS' });
    if (kind === 'ours_only') continue;
    const amount = decimalOf(BigInt(kind === 'amount_differs' ? minor + 1 : minor), 'USD');
    lines.push(`${id},${amount},USD,${kind === 'status_differs' ? 'FAILED' : 'SUCCESS'}`);
  }
  return { csv: `${lines.join('\n')}\n`, ours, planted };
}

export const benchPaymentSystem: BenchRun = async ({ profile, onProgress }) => {
  const t = loadTargets('27-payment-system');
  const rows = ROWS[profile];
  onProgress(`reconciliation: generating ${rows} settlement rows from seed 27`);
  const f = settlementFixture(rows, 27);
  // The floor: reading the file into fields.
  let start = performance.now();
  let fields = 0;
  for (const line of f.csv.split('\n')) fields += line.split(',').length;
  const floorS = (performance.now() - start) / 1000;
  start = performance.now();
  const report = reconcile(parseSettlement(f.csv), f.ours);
  const seconds = (performance.now() - start) / 1000;
  const found = new Map(report.mismatches.map((m) => [m.payment_order_id, m.kind]));
  const wrong =
    [...f.planted].filter(([id, kind]) => found.get(id) !== kind).length + Math.max(0, found.size - f.planted.size);
  if (wrong > 0)
    throw new Error(`the reconciliation report is wrong for ${wrong} planted mismatches: the benchmark is void`);
  onProgress(
    `reconciliation: ${rows} rows in ${round3(seconds)} s (reading alone ${round3(floorS)} s, ${fields} fields)`,
  );
  return [
    gradeTarget(
      t['PAY-T5']!,
      {
        value: round3(seconds),
        yardstick: {
          name: 'splitting the same file into fields (the floor of reading it)',
          value: round3(floorS),
          unit: 's',
        },
        reason: `${rows} rows (${Math.round(f.csv.length / 1e6)} MB), ${f.planted.size} planted mismatches all found`,
      },
      profile,
    ),
  ];
};
