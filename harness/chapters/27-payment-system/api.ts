// The chapter's operations over the wire (every response validated against the spec by the client), and the
// buyer's side of the flow: paying on the PSP's hosted page. A network error comes back as an exchange with `error`.
import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient } from '../../core/http-client.ts';

export interface OrderInput {
  payment_order_id: string;
  seller_account: string;
  amount: string;
  currency: string;
}

export interface PaymentEventInput {
  checkout_id: string;
  buyer_info: { buyer_id: string; email?: string };
  payment_orders: OrderInput[];
}

export interface PaymentOrder extends OrderInput {
  checkout_id: string;
  status: 'NOT_STARTED' | 'EXECUTING' | 'SUCCESS' | 'FAILED';
  ledger_updated: boolean;
  wallet_updated: boolean;
  psp_charge_id?: string;
}

export interface PaymentEvent {
  checkout_id: string;
  psp_token: string;
  payment_page_url: string;
  payment_orders: PaymentOrder[];
}

export interface LedgerEntry {
  transaction_id: string;
  account: string;
  currency: string;
  debit: string;
  credit: string;
}

export function runNonce(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

/** A payment event with fresh ids; `amounts` gives one order each (currency USD unless said). */
export function newEvent(tag: string, amounts: string[], o: { currency?: string; seller?: string } = {}) {
  const n = `${tag}_${runNonce()}`;
  return {
    checkout_id: `chk_${n}`,
    buyer_info: { buyer_id: `buyer_${n}`, email: 'buyer@example.com' },
    payment_orders: amounts.map((amount, i) => ({
      payment_order_id: `po_${n}_${i}`,
      seller_account: o.seller ?? `seller_${n}_${i % 2}`,
      amount,
      currency: o.currency ?? 'USD',
    })),
  } satisfies PaymentEventInput;
}

export function payApi(ctx: CheckContext, http: HttpClient = ctx.http) {
  return {
    create(body: unknown, key: string | null = randomUUID(), validRequest = true): Promise<Exchange> {
      return http.send({
        method: 'POST',
        path: '/v1/payments',
        json: body,
        headers: key === null ? {} : { 'idempotency-key': key },
        validRequest,
        timeoutMs: 15_000,
      });
    },
    order(id: string): Promise<Exchange> {
      return http.send({ method: 'GET', path: `/v1/payments/${encodeURIComponent(id)}` });
    },
    payout(body: unknown, key: string = randomUUID(), validRequest = true): Promise<Exchange> {
      return http.send({
        method: 'POST',
        path: '/v1/payouts',
        json: body,
        headers: { 'idempotency-key': key },
        validRequest,
      });
    },
    getPayout(id: string): Promise<Exchange> {
      return http.send({ method: 'GET', path: `/v1/payouts/${encodeURIComponent(id)}` });
    },
    wallet(seller: string): Promise<Exchange> {
      return http.send({ method: 'GET', path: `/v1/wallets/${encodeURIComponent(seller)}` });
    },
    ledger(paymentOrderId: string): Promise<Exchange> {
      return http.send({
        method: 'GET',
        path: `/v1/ledger/entries?payment_order_id=${encodeURIComponent(paymentOrderId)}`,
      });
    },
    trialBalance(): Promise<Exchange> {
      return http.send({ method: 'GET', path: '/v1/ledger/balance' });
    },
    webhook(rawBody: string, signature: string | null, validRequest = true): Promise<Exchange> {
      return http.send({
        method: 'POST',
        path: '/v1/webhooks/psp',
        rawBody,
        contentType: 'application/json',
        headers: signature === null ? {} : { 'psp-signature': signature },
        validRequest,
      });
    },
    reconcile(csv: string, key: string = randomUUID(), since?: string): Promise<Exchange> {
      return http.send({
        method: 'POST',
        path: `/v1/reconciliations${since ? `?since=${encodeURIComponent(since)}` : ''}`,
        rawBody: csv,
        contentType: 'text/csv',
        headers: { 'idempotency-key': key },
        timeoutMs: 60_000,
      });
    },
  };
}

export type PayApi = ReturnType<typeof payApi>;
