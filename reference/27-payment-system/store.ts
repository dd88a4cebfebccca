// The payment service's tables (the book's payment_events and payment_orders), the ledger and the wallet, and
// the idempotency keys. Every status change is a conditional UPDATE (only from the statuses it may leave), and the
// ledger and wallet are written in the same transaction as the SUCCESS that causes them, only when that UPDATE
// changed a row: so a charge is recorded exactly once whatever retries, duplicate webhooks or crashes happen.
import type { Db, Sql } from './db.ts';
import { fromMinor } from './money.ts';
import type { MutantName } from './mutants.ts';

export type Status = 'NOT_STARTED' | 'EXECUTING' | 'SUCCESS' | 'FAILED';

export interface OrderRow {
  payment_order_id: string;
  checkout_id: string;
  buyer_account: string;
  seller_account: string;
  amount_minor: number;
  currency: string;
  payment_order_status: Status;
  ledger_updated: number;
  wallet_updated: number;
  psp_charge_id: string | null;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
}

export interface EventRow {
  checkout_id: string;
  buyer_id: string;
  fingerprint: string;
  psp_token: string | null;
  payment_page_url: string | null;
  is_payment_done: number;
  created_at: number;
}

export interface NewOrder {
  paymentOrderId: string;
  sellerAccount: string;
  amountMinor: number;
  currency: string;
}

/** An order due for a charge attempt, with its checkout's PSP registration (the charge's source). */
export type DueOrder = OrderRow & { psp_token: string | null };

export class AlreadyExists extends Error {}

const ORDER_COLUMNS =
  'payment_order_id, checkout_id, buyer_account, seller_account, amount_minor, currency, payment_order_status, ' +
  'ledger_updated, wallet_updated, psp_charge_id, attempts, next_attempt_at, created_at';

export function orderBody(o: OrderRow) {
  return {
    payment_order_id: o.payment_order_id,
    checkout_id: o.checkout_id,
    seller_account: o.seller_account,
    amount: fromMinor(o.amount_minor, o.currency),
    currency: o.currency,
    status: o.payment_order_status,
    ledger_updated: o.ledger_updated === 1,
    wallet_updated: o.wallet_updated === 1,
    ...(o.psp_charge_id ? { psp_charge_id: o.psp_charge_id } : {}),
  };
}

export class PaymentStore {
  constructor(
    readonly db: Db,
    private readonly mutant: MutantName | undefined,
  ) {}

  async event(checkoutId: string, sql: Sql = this.db): Promise<EventRow | undefined> {
    const rows = await sql.all<EventRow>(
      'SELECT checkout_id, buyer_id, fingerprint, psp_token, payment_page_url, is_payment_done, created_at ' +
        'FROM payment_events WHERE checkout_id = ?',
      [checkoutId],
    );
    return rows[0];
  }

  async ordersOf(checkoutId: string, sql: Sql = this.db): Promise<OrderRow[]> {
    return sql.all<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM payment_orders WHERE checkout_id = ? ORDER BY created_at, payment_order_id`,
      [checkoutId],
    );
  }

  async order(paymentOrderId: string): Promise<OrderRow | undefined> {
    const rows = await this.db.all<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM payment_orders WHERE payment_order_id = ?`, [
      paymentOrderId,
    ]);
    return rows[0];
  }

  /**
   * Stores a new payment event and its orders, or finds the same one stored before; AlreadyExists otherwise. A new
   * event comes back with its orders as stored (so the answer needs no second read).
   */
  async storeEvent(e: {
    checkoutId: string;
    buyerId: string;
    buyerInfo: unknown;
    fingerprint: string;
    orders: NewOrder[];
  }): Promise<{ event: EventRow; orders?: OrderRow[] }> {
    return this.db.tx(async (sql) => {
      const now = Date.now();
      const inserted = await sql.run(
        'INSERT INTO payment_events (checkout_id, buyer_id, buyer_info, fingerprint, created_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (checkout_id) DO NOTHING',
        [e.checkoutId, e.buyerId, JSON.stringify(e.buyerInfo), e.fingerprint, now],
      );
      if (inserted === 0) {
        const existing = await this.event(e.checkoutId, sql);
        if (existing?.fingerprint !== e.fingerprint) throw new AlreadyExists(`checkout ${e.checkoutId} exists`);
        return { event: existing };
      }
      const orders: OrderRow[] = [];
      for (const o of e.orders) {
        const added = await sql.run(
          'INSERT INTO payment_orders (payment_order_id, checkout_id, buyer_account, seller_account, amount_minor, ' +
            "currency, payment_order_status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'NOT_STARTED', ?) " +
            'ON CONFLICT (payment_order_id) DO NOTHING',
          [o.paymentOrderId, e.checkoutId, e.buyerId, o.sellerAccount, o.amountMinor, o.currency, now],
        );
        if (added === 0) throw new AlreadyExists(`payment order ${o.paymentOrderId} belongs to another checkout`);
        orders.push({
          payment_order_id: o.paymentOrderId,
          checkout_id: e.checkoutId,
          buyer_account: e.buyerId,
          seller_account: o.sellerAccount,
          amount_minor: o.amountMinor,
          currency: o.currency,
          payment_order_status: 'NOT_STARTED',
          ledger_updated: 0,
          wallet_updated: 0,
          psp_charge_id: null,
          attempts: 0,
          next_attempt_at: 0,
          created_at: now,
        });
      }
      const event: EventRow = {
        checkout_id: e.checkoutId,
        buyer_id: e.buyerId,
        fingerprint: e.fingerprint,
        psp_token: null,
        payment_page_url: null,
        is_payment_done: 0,
        created_at: now,
      };
      // The order ordersOf reads them in (one created_at: by id).
      orders.sort((a, b) => (a.payment_order_id < b.payment_order_id ? -1 : 1));
      return { event, orders };
    });
  }

  async setRegistration(checkoutId: string, token: string, pageUrl: string): Promise<void> {
    await this.db.run('UPDATE payment_events SET psp_token = ?, payment_page_url = ? WHERE checkout_id = ?', [
      token,
      pageUrl,
      checkoutId,
    ]);
  }

  /**
   * The buyer paid on the hosted page (registration `token` of the checkout): every NOT_STARTED order of the checkout
   * starts EXECUTING; they come back, ready for their first attempt. Nothing when the token is not the checkout's.
   */
  async startExecution(checkoutId: string, token: string): Promise<DueOrder[]> {
    const now = Date.now();
    return this.db.tx(async (sql) => {
      // MUTANT authorized-any-token: any registration token starts the checkout (only the reference is matched).
      const ours =
        this.mutant === 'authorized-any-token'
          ? await sql.run(
              'UPDATE payment_events SET is_payment_done = 1 WHERE checkout_id = ? AND psp_token IS NOT NULL',
              [checkoutId],
            )
          : await sql.run('UPDATE payment_events SET is_payment_done = 1 WHERE checkout_id = ? AND psp_token = ?', [
              checkoutId,
              token,
            ]);
      if (ours === 0) return [];
      // MUTANT status-regresses: moves every order of the checkout to EXECUTING, whatever its status.
      const from = this.mutant === 'status-regresses' ? '' : "AND payment_order_status = 'NOT_STARTED'";
      const rows = await sql.all<OrderRow>(
        "UPDATE payment_orders SET payment_order_status = 'EXECUTING', executing_since = ?, next_attempt_at = ? " +
          `WHERE checkout_id = ? ${from} RETURNING ${ORDER_COLUMNS}`,
        [now, now, checkoutId],
      );
      return rows.map((r) => ({ ...r, psp_token: token }));
    });
  }

  /** The buyer's payment was declined on the hosted page: nothing will be charged. */
  async declineCheckout(checkoutId: string): Promise<void> {
    await this.db.tx(async (sql) => {
      await sql.run('UPDATE payment_events SET is_payment_done = 1 WHERE checkout_id = ?', [checkoutId]);
      await sql.run(
        "UPDATE payment_orders SET payment_order_status = 'FAILED' WHERE checkout_id = ? AND payment_order_status = 'NOT_STARTED'",
        [checkoutId],
      );
    });
    // An EXECUTING order was authorized: its charge settles it, whatever decline arrives late.
    // MUTANT decline-fails-executing: every order not SUCCESS fails, EXECUTING ones (being charged) included.
    if (this.mutant === 'decline-fails-executing')
      await this.db.run(
        "UPDATE payment_orders SET payment_order_status = 'FAILED' WHERE checkout_id = ? AND payment_order_status <> 'SUCCESS'",
        [checkoutId],
      );
  }

  /** Orders due for a charge attempt, with their registration (the retry queue is the table: it survives a crash). */
  async dueOrders(now: number, limit: number): Promise<DueOrder[]> {
    const columns = ORDER_COLUMNS.split(', ')
      .map((c) => `o.${c}`)
      .join(', ');
    return this.db.all<DueOrder>(
      `SELECT ${columns}, e.psp_token FROM payment_orders o JOIN payment_events e ON e.checkout_id = o.checkout_id ` +
        "WHERE o.payment_order_status = 'EXECUTING' AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at LIMIT ?",
      [now, limit],
    );
  }

  /** Takes an order for one attempt: counts it and leases it until `leaseUntil` (after a crash it comes back then). */
  async lease(o: OrderRow, leaseUntil: number): Promise<boolean> {
    const changed = await this.db.run(
      'UPDATE payment_orders SET attempts = attempts + 1, next_attempt_at = ? ' +
        "WHERE payment_order_id = ? AND payment_order_status = 'EXECUTING' AND attempts = ?",
      [leaseUntil, o.payment_order_id, o.attempts],
    );
    return changed === 1;
  }

  async retryAt(paymentOrderId: string, at: number): Promise<void> {
    // MUTANT order-retry-at-lease: the retry time is never written, so a retry waits for the 3 s lease to run out.
    if (this.mutant === 'order-retry-at-lease') return;
    await this.db.run(
      "UPDATE payment_orders SET next_attempt_at = ? WHERE payment_order_id = ? AND payment_order_status = 'EXECUTING'",
      [at, paymentOrderId],
    );
  }

  /** SUCCESS, with the ledger's double entry and the seller's wallet, all in one transaction and only once. */
  async succeed(paymentOrderId: string, chargeId: string): Promise<boolean> {
    // Most notices of a success are the second one (the executor's answer and the PSP's webhook both report it): a
    // read settles those without a transaction. The guarded UPDATE below still decides the rest.
    if (this.mutant !== 'webhook-double-credit') {
      const [now] = await this.db.all<{ payment_order_status: Status }>(
        'SELECT payment_order_status FROM payment_orders WHERE payment_order_id = ?',
        [paymentOrderId],
      );
      if (now?.payment_order_status !== 'EXECUTING') return false;
    }
    // MUTANT wallet-credit-own-transaction: the wallet is credited in a transaction of its own, after this one commits.
    const apart = this.mutant === 'wallet-credit-own-transaction';
    const recorded = await this.db.tx(async (sql) => {
      const [changed] = await sql.all<OrderRow>(
        "UPDATE payment_orders SET payment_order_status = 'SUCCESS', psp_charge_id = ?, ledger_updated = 1, " +
          "wallet_updated = 1, executing_since = NULL WHERE payment_order_id = ? AND payment_order_status = 'EXECUTING' " +
          `RETURNING ${ORDER_COLUMNS}`,
        [chargeId, paymentOrderId],
      );
      if (changed) {
        await this.record(sql, changed, !apart);
        return changed;
      }
      // MUTANT webhook-double-credit: records the money on every success notice, not only on the transition.
      if (this.mutant === 'webhook-double-credit') {
        const [o] = await sql.all<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM payment_orders WHERE payment_order_id = ?`, [
          paymentOrderId,
        ]);
        if (o?.payment_order_status === 'SUCCESS') await this.record(sql, o);
      }
      return undefined;
    });
    if (!recorded) return false;
    if (apart) await this.db.tx((sql) => this.credit(sql, recorded));
    return true;
  }

  /** The ledger's double entry of a successful order, and (with `wallet`, always but for a mutant) its wallet credit. */
  private async record(sql: Sql, o: OrderRow, wallet = true): Promise<void> {
    const now = Date.now();
    const tx = `tx_${o.payment_order_id}`;
    const insert =
      'INSERT INTO ledger_entries (transaction_id, payment_order_id, account, currency, debit, credit, created_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?)';
    // Double entry: the buyer's account is debited and the seller's credited with the same amount.
    // MUTANT single-entry-ledger: only the seller's credit is written.
    if (this.mutant !== 'single-entry-ledger') {
      await sql.run(insert, [tx, o.payment_order_id, `buyer:${o.buyer_account}`, o.currency, o.amount_minor, 0, now]);
    }
    await sql.run(insert, [tx, o.payment_order_id, `seller:${o.seller_account}`, o.currency, 0, o.amount_minor, now]);
    if (wallet) await this.credit(sql, o);
  }

  private async credit(sql: Sql, o: OrderRow): Promise<void> {
    await sql.run(
      'INSERT INTO wallets (seller_account, currency, balance) VALUES (?, ?, ?) ' +
        'ON CONFLICT (seller_account, currency) DO UPDATE SET balance = wallets.balance + excluded.balance',
      [o.seller_account, o.currency, o.amount_minor],
    );
  }

  async fail(paymentOrderId: string, deadLetter?: string): Promise<boolean> {
    return this.db.tx(async (sql) => {
      const changed = await sql.run(
        "UPDATE payment_orders SET payment_order_status = 'FAILED', executing_since = NULL " +
          // MUTANT late-failure-overrides-success: FAILED from any status but FAILED (a SUCCESS included).
          (this.mutant === 'late-failure-overrides-success'
            ? "WHERE payment_order_id = ? AND payment_order_status <> 'FAILED'"
            : "WHERE payment_order_id = ? AND payment_order_status = 'EXECUTING'"),
        [paymentOrderId],
      );
      if (changed === 1 && deadLetter !== undefined) {
        await sql.run(
          'INSERT INTO dead_letters (payment_order_id, reason, at) VALUES (?, ?, ?) ON CONFLICT (payment_order_id) DO NOTHING',
          [paymentOrderId, deadLetter, Date.now()],
        );
      }
      return changed === 1;
    });
  }

  /** Registrations whose buyer may have paid without the webhook reaching us: the poller asks the PSP. */
  async eventsToPoll(now: number, afterMs: number, limit: number): Promise<EventRow[]> {
    return this.db.all<EventRow>(
      'SELECT checkout_id, buyer_id, fingerprint, psp_token, payment_page_url, is_payment_done, created_at ' +
        'FROM payment_events WHERE is_payment_done = 0 AND psp_token IS NOT NULL AND created_at <= ? ' +
        'AND created_at > ? AND polled_at <= ? ORDER BY polled_at LIMIT ?',
      // MUTANT poll-window-units: the hour written in seconds against millisecond timestamps (a 3.6 s window).
      [now - afterMs, now - (this.mutant === 'poll-window-units' ? 3_600 : 3_600_000), now - afterMs, limit],
    );
  }

  async markPolled(checkoutId: string, now: number): Promise<void> {
    await this.db.run('UPDATE payment_events SET polled_at = ? WHERE checkout_id = ?', [now, checkoutId]);
  }

  async wallet(seller: string): Promise<{ currency: string; balance: number }[]> {
    return this.db.all('SELECT currency, balance FROM wallets WHERE seller_account = ? ORDER BY currency', [seller]);
  }

  async ledgerEntries(paymentOrderId: string) {
    return this.db.all<{ transaction_id: string; account: string; currency: string; debit: number; credit: number }>(
      'SELECT transaction_id, account, currency, debit, credit FROM ledger_entries WHERE payment_order_id = ? ORDER BY id',
      [paymentOrderId],
    );
  }

  async trialBalance() {
    // MUTANT trial-balance-counts-entries: transactions counts the entries (two or more per transaction).
    const counted = this.mutant === 'trial-balance-counts-entries' ? 'COUNT(*)' : 'COUNT(DISTINCT transaction_id)';
    return this.db.all<{ currency: string; debits: number; credits: number; transactions: number }>(
      `SELECT currency, SUM(debit) AS debits, SUM(credit) AS credits, ${counted} AS transactions ` +
        'FROM ledger_entries GROUP BY currency ORDER BY currency',
    );
  }

  /** Orders created since `since` (ms), for reconciliation: the service's side of the settlement. */
  async ordersSince(since: number) {
    return this.db.all<{
      payment_order_id: string;
      amount_minor: number;
      currency: string;
      payment_order_status: Status;
    }>(
      'SELECT payment_order_id, amount_minor, currency, payment_order_status FROM payment_orders WHERE created_at >= ?',
      [since],
    );
  }
}
