// Reconciliation (the book's nightly job): the PSP's settlement file against the payment orders. Every mismatch is
// reported with one of the book's three classifications:
// - classifiable_automatic: a known kind with a standard fix. Our order is still in flight (NOT_STARTED or
//   EXECUTING) but the PSP settled it: apply the PSP's status (the executor's lookup or the poller does the same).
// - classifiable_manual: a known kind that the finance team adjusts by hand: amounts or currencies differ, final
//   statuses disagree (SUCCESS here, FAILED there, or the reverse), or we recorded money the PSP never settled.
// - unclassifiable: the PSP settled a charge we have no payment order for; investigate.
import { fromMinor, MINOR_DIGITS, toMinor } from './money.ts';

export interface SettlementRow {
  paymentOrderId: string;
  amountMinor: number;
  currency: string;
  status: 'SUCCESS' | 'FAILED';
}

export interface OurOrder {
  payment_order_id: string;
  amount_minor: number;
  currency: string;
  payment_order_status: 'NOT_STARTED' | 'EXECUTING' | 'SUCCESS' | 'FAILED';
}

export type MismatchKind = 'ours_only' | 'theirs_only' | 'amount_differs' | 'status_differs';
export type Classification = 'classifiable_automatic' | 'classifiable_manual' | 'unclassifiable';

export interface Side {
  amount: string;
  currency: string;
  status: string;
}

export interface Mismatch {
  payment_order_id: string;
  kind: MismatchKind;
  classification: Classification;
  ours?: Side;
  theirs?: Side;
}

export interface Report {
  rows: number;
  matched: number;
  mismatches: Mismatch[];
}

export class SettlementError extends Error {}

const HEADER = 'payment_order_id,amount,currency,status';
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses a settlement file; a SettlementError names the first bad line. */
/** `keepCr`: MUTANT settlement-crlf-refused (the CR of a CRLF line is kept, so such a line does not parse). */
export function parseSettlement(text: string, opts: { keepCr?: boolean } = {}): SettlementRow[] {
  const lines = text.split('\n');
  if ((lines[0] ?? '').replace(/\r$/, '') !== HEADER) {
    throw new SettlementError(`line 1 must be the header "${HEADER}"`);
  }
  const rows: SettlementRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = opts.keepCr ? lines[i]! : lines[i]!.replace(/\r$/, '');
    if (line === '') continue;
    const cells = line.split(',');
    const [id, amount, currency, status] = cells;
    if (cells.length !== 4 || !ID.test(id!) || (status !== 'SUCCESS' && status !== 'FAILED')) {
      throw new SettlementError(`line ${i + 1} is not "${HEADER}": ${line.slice(0, 200)}`);
    }
    if (MINOR_DIGITS[currency!] === undefined) throw new SettlementError(`line ${i + 1}: unknown currency`);
    const minor = toMinor(amount!, currency!);
    if ('error' in minor) throw new SettlementError(`line ${i + 1}: ${minor.error}`);
    rows.push({ paymentOrderId: id!, amountMinor: minor.minor, currency: currency!, status });
  }
  return rows;
}

function ourSide(o: OurOrder): Side {
  return { amount: fromMinor(o.amount_minor, o.currency), currency: o.currency, status: o.payment_order_status };
}

function theirSide(r: SettlementRow): Side {
  return { amount: fromMinor(r.amountMinor, r.currency), currency: r.currency, status: r.status };
}

/**
 * `executingIsManual`: MUTANT reconcile-executing-manual (only NOT_STARTED counts as in flight).
 * `currencyIgnored`: MUTANT reconcile-currency-ignored (minor units compared without their currencies).
 * `statusFirst`: MUTANT reconcile-status-before-amount (statuses compared before amounts).
 */
export function reconcile(
  theirs: readonly SettlementRow[],
  ours: Iterable<OurOrder>,
  opts: { executingIsManual?: boolean; currencyIgnored?: boolean; statusFirst?: boolean } = {},
): Report {
  const byId = new Map<string, OurOrder>();
  for (const o of ours) byId.set(o.payment_order_id, o);
  const mismatches: Mismatch[] = [];
  const seen = new Set<string>();
  let matched = 0;
  for (const r of theirs) {
    seen.add(r.paymentOrderId);
    const o = byId.get(r.paymentOrderId);
    if (!o) {
      mismatches.push({
        payment_order_id: r.paymentOrderId,
        kind: 'theirs_only',
        classification: 'unclassifiable',
        theirs: theirSide(r),
      });
      continue;
    }
    const amountsDiffer = o.amount_minor !== r.amountMinor || (o.currency !== r.currency && !opts.currencyIgnored);
    // MUTANT reconcile-status-before-amount: statuses compared first, so a differing amount of an order in flight
    // is reported as the automatic status_differs.
    if (amountsDiffer && !(opts.statusFirst && o.payment_order_status !== r.status)) {
      mismatches.push({
        payment_order_id: r.paymentOrderId,
        kind: 'amount_differs',
        classification: 'classifiable_manual',
        ours: ourSide(o),
        theirs: theirSide(r),
      });
    } else if (o.payment_order_status !== r.status) {
      const inFlight =
        o.payment_order_status === 'NOT_STARTED' || (o.payment_order_status === 'EXECUTING' && !opts.executingIsManual);
      mismatches.push({
        payment_order_id: r.paymentOrderId,
        kind: 'status_differs',
        classification: inFlight ? 'classifiable_automatic' : 'classifiable_manual',
        ours: ourSide(o),
        theirs: theirSide(r),
      });
    } else matched++;
  }
  // Money we recorded that the PSP did not settle.
  for (const o of byId.values()) {
    if (o.payment_order_status === 'SUCCESS' && !seen.has(o.payment_order_id)) {
      mismatches.push({
        payment_order_id: o.payment_order_id,
        kind: 'ours_only',
        classification: 'classifiable_manual',
        ours: ourSide(o),
      });
    }
  }
  return { rows: theirs.length, matched, mismatches };
}
