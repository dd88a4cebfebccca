// The pay-out flow: money from a seller's wallet to their bank account through a payout provider (the book's
// accounts-payable provider, e.g. Tipalti). The wallet is debited, guarded by its balance, in the same transaction
// that records the payout and its double entry (seller -> bank:payouts), so no seller is paid out more than they
// hold. The transfer is then made with the payout_id as the provider's idempotency key, retried with back-off like a
// charge; a transfer the provider refuses for good is FAILED and credited back (a reversing entry).
import { setTimeout as delay } from 'node:timers/promises';
import { ProblemError } from '../kit/problem.ts';
import type { Db, Sql } from './db.ts';
import { fingerprintOf } from './idempotency.ts';
import { JsonHttp } from './json-http.ts';
import { fromMinor, toMinor } from './money.ts';
import type { MutantName } from './mutants.ts';

export interface PayoutRequest {
  payout_id: string;
  seller_account: string;
  amount: string;
  currency: string;
}

interface PayoutRow {
  payout_id: string;
  seller_account: string;
  amount_minor: number;
  currency: string;
  status: 'PENDING' | 'PAID' | 'FAILED';
  fingerprint: string;
  attempts: number;
  provider_transfer_id: string | null;
}

const COLUMNS =
  'payout_id, seller_account, amount_minor, currency, status, fingerprint, attempts, provider_transfer_id';

export function payoutBody(p: PayoutRow) {
  return {
    payout_id: p.payout_id,
    seller_account: p.seller_account,
    amount: fromMinor(p.amount_minor, p.currency),
    currency: p.currency,
    status: p.status,
    ...(p.provider_transfer_id ? { provider_transfer_id: p.provider_transfer_id } : {}),
  };
}

type TransferOutcome =
  | { kind: 'paid'; id: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'retry'; reason: string };

export class PayoutClient {
  private readonly http: JsonHttp;
  constructor(baseUrl: string, timeoutMs = 2000) {
    this.http = new JsonHttp(baseUrl, timeoutMs);
  }

  async transfer(p: PayoutRow): Promise<TransferOutcome> {
    try {
      const res = await this.http.call(
        'POST',
        '/v1/transfers',
        {
          amount: p.amount_minor,
          currency: p.currency.toLowerCase(),
          destination: p.seller_account,
          metadata: { payout_id: p.payout_id },
        },
        p.payout_id,
      );
      const body = (res.json ?? {}) as { id?: string };
      if (res.status === 201 || res.status === 200) return { kind: 'paid', id: String(body.id ?? '') };
      if (res.status >= 400 && res.status < 500 && res.status !== 409 && res.status !== 429) {
        return { kind: 'refused', reason: `payout provider answered ${res.status}` };
      }
      return { kind: 'retry', reason: `payout provider answered ${res.status}` };
    } catch (error) {
      return { kind: 'retry', reason: `no answer from the payout provider: ${(error as Error).message}` };
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

export class Payouts {
  constructor(
    private readonly db: Db,
    private readonly mutant: MutantName | undefined,
  ) {}

  async get(payoutId: string): Promise<PayoutRow | undefined> {
    const rows = await this.db.all<PayoutRow>(`SELECT ${COLUMNS} FROM payouts WHERE payout_id = ?`, [payoutId]);
    return rows[0];
  }

  /** Debits the wallet and records the payout (PENDING), or finds the same payout made before. */
  async create(req: PayoutRequest): Promise<{ status: number; body: unknown }> {
    const parsed = toMinor(req.amount, req.currency);
    if ('error' in parsed) {
      throw new ProblemError(400, 'invalid_amount', parsed.error, {
        errors: [{ location: '/body/amount', message: parsed.error }],
      });
    }
    const amount = parsed.minor;
    const fingerprint = fingerprintOf('payout', req);
    if (this.mutant === 'payout-overdraft') {
      // MUTANT payout-overdraft: check-then-act; the balance is read outside the transaction that debits it.
      const [w] = await this.db.all<{ balance: number }>(
        'SELECT balance FROM wallets WHERE seller_account = ? AND currency = ?',
        [req.seller_account, req.currency],
      );
      if ((w?.balance ?? 0) < amount) throw insufficient(req);
      await delay(5); // the round trip to a remote database between the check and the act
    }
    const row = await this.db.tx(async (sql) => {
      // MUTANT refused-payout-recorded: a payout refused insufficient_funds is kept as FAILED (outside the
      // transaction that refuses it), so its payout_id is spent.
      if (this.mutant === 'refused-payout-recorded') {
        const [w] = await sql.all<{ balance: number }>(
          'SELECT balance FROM wallets WHERE seller_account = ? AND currency = ?',
          [req.seller_account, req.currency],
        );
        if ((w?.balance ?? 0) < amount) {
          setImmediate(
            () =>
              void this.db
                .run(
                  'INSERT INTO payouts (payout_id, seller_account, amount_minor, currency, status, fingerprint, ' +
                    "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'FAILED', ?, ?, ?) ON CONFLICT (payout_id) DO NOTHING",
                  [req.payout_id, req.seller_account, amount, req.currency, fingerprint, 0, Date.now()],
                )
                .catch(() => undefined),
          );
        }
      }
      const [existing] = await sql.all<PayoutRow>(`SELECT ${COLUMNS} FROM payouts WHERE payout_id = ?`, [
        req.payout_id,
      ]);
      if (existing) {
        if (existing.fingerprint !== fingerprint) {
          throw new ProblemError(409, 'already_exists', `payout ${req.payout_id} exists with other details`);
        }
        return existing;
      }
      // MUTANT payout-exact-balance-refused: balance > amount, so the whole balance cannot be paid out.
      const guard =
        this.mutant === 'payout-overdraft'
          ? ''
          : this.mutant === 'payout-exact-balance-refused'
            ? 'AND balance > ?'
            : 'AND balance >= ?';
      // MUTANT payout-debits-every-currency: the debit forgets the currency (every balance of the seller is debited).
      const ofCurrency = this.mutant === 'payout-debits-every-currency' ? '' : 'AND currency = ?';
      const currencyParam = this.mutant === 'payout-debits-every-currency' ? [] : [req.currency];
      const debited = await sql.run(
        `UPDATE wallets SET balance = balance - ? WHERE seller_account = ? ${ofCurrency} ${guard}`,
        this.mutant === 'payout-overdraft'
          ? [amount, req.seller_account, ...currencyParam]
          : [amount, req.seller_account, ...currencyParam, amount],
      );
      if (debited === 0) throw insufficient(req);
      const now = Date.now();
      await sql.run(
        'INSERT INTO payouts (payout_id, seller_account, amount_minor, currency, status, fingerprint, next_attempt_at, ' +
          "created_at) VALUES (?, ?, ?, ?, 'PENDING', ?, ?, ?)",
        [req.payout_id, req.seller_account, amount, req.currency, fingerprint, now, now],
      );
      // MUTANT payout-entry-sides-swapped: bank:payouts debited and the seller credited (the ledger still balances).
      const swapped = this.mutant === 'payout-entry-sides-swapped';
      await entries(
        sql,
        `tx_${req.payout_id}`,
        req.payout_id,
        req.currency,
        amount,
        swapped ? 'bank:payouts' : `seller:${req.seller_account}`,
        swapped ? `seller:${req.seller_account}` : 'bank:payouts',
      );
      const [created] = await sql.all<PayoutRow>(`SELECT ${COLUMNS} FROM payouts WHERE payout_id = ?`, [req.payout_id]);
      return created!;
    });
    // MUTANT payout-answers-200: a new payout answered 200.
    return { status: this.mutant === 'payout-answers-200' ? 200 : 201, body: payoutBody(row) };
  }

  async due(now: number, limit: number): Promise<PayoutRow[]> {
    return this.db.all<PayoutRow>(
      `SELECT ${COLUMNS} FROM payouts WHERE status = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
      [now, limit],
    );
  }

  async lease(p: PayoutRow, until: number): Promise<boolean> {
    const changed = await this.db.run(
      "UPDATE payouts SET attempts = attempts + 1, next_attempt_at = ? WHERE payout_id = ? AND status = 'PENDING' AND attempts = ?",
      [until, p.payout_id, p.attempts],
    );
    return changed === 1;
  }

  async retryAt(payoutId: string, at: number): Promise<void> {
    // MUTANT payout-retry-at-lease: the retry time is never written, so a retry waits for the 3 s lease to run out.
    if (this.mutant === 'payout-retry-at-lease') return;
    await this.db.run("UPDATE payouts SET next_attempt_at = ? WHERE payout_id = ? AND status = 'PENDING'", [
      at,
      payoutId,
    ]);
  }

  async paid(payoutId: string, transferId: string): Promise<void> {
    await this.db.run(
      "UPDATE payouts SET status = 'PAID', provider_transfer_id = ? WHERE payout_id = ? AND status = 'PENDING'",
      [transferId, payoutId],
    );
  }

  /** The provider refused the transfer for good: FAILED, and the money goes back to the wallet (reversing entry). */
  async refused(p: PayoutRow, reason: string): Promise<void> {
    await this.db.tx(async (sql) => {
      const changed = await sql.run("UPDATE payouts SET status = 'FAILED' WHERE payout_id = ? AND status = 'PENDING'", [
        p.payout_id,
      ]);
      if (changed === 0) return;
      await sql.run('UPDATE wallets SET balance = balance + ? WHERE seller_account = ? AND currency = ?', [
        p.amount_minor,
        p.seller_account,
        p.currency,
      ]);
      await entries(
        sql,
        `tx_${p.payout_id}_reversal`,
        p.payout_id,
        p.currency,
        p.amount_minor,
        'bank:payouts',
        `seller:${p.seller_account}`,
      );
      await sql.run(
        'INSERT INTO dead_letters (payment_order_id, reason, at) VALUES (?, ?, ?) ON CONFLICT (payment_order_id) DO NOTHING',
        [p.payout_id, reason, Date.now()],
      );
    });
  }
}

function insufficient(req: PayoutRequest): ProblemError {
  return new ProblemError(
    409,
    'insufficient_funds',
    `the wallet of ${req.seller_account} holds less than ${req.amount} ${req.currency}`,
  );
}

/** One balanced transaction: `debit` is debited and `credit` credited with the same amount. */
async function entries(
  sql: Sql,
  tx: string,
  ref: string,
  currency: string,
  amount: number,
  debit: string,
  credit: string,
) {
  const insert =
    'INSERT INTO ledger_entries (transaction_id, payment_order_id, account, currency, debit, credit, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
  const now = Date.now();
  await sql.run(insert, [tx, ref, debit, currency, amount, 0, now]);
  await sql.run(insert, [tx, ref, credit, currency, 0, amount, now]);
}
