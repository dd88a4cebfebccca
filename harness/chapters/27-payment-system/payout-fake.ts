// The payout provider the payment system is graded against (the book's accounts-payable provider): in-memory state
// answering requests (fake-wire.ts: msw handlers on a real port, or plain node:http in the load run's process). It keeps its own record of every transfer, the evidence that each payout
// moved money once.
//
//   POST /v1/transfers   { amount, currency, destination, metadata: { payout_id } }. With an Idempotency-Key,
//                        Stripe's semantics (the first answer replayed; another body 409); without one, every request
//                        is a new transfer. A destination in `refused` is 400 account_invalid (a permanent refusal).
//   GET  /v1/transfers?payout_id=X  -> { data: [transfers] }.
import type { RequestHandler } from 'msw';
import { canonicalJson } from '../../fakes/example-psp.ts';
import { type FakeAnswer, type FakeRequest, json, mswHandlers } from './fake-wire.ts';

export interface Transfer {
  id: string;
  amount: number;
  currency: string;
  destination: string;
  metadata: Record<string, string>;
}

export class PayoutFake {
  readonly handlers: RequestHandler[];
  readonly transfers: Transfer[] = [];
  /** Destinations the provider refuses for good (a closed bank account). */
  readonly refused = new Set<string>();
  private readonly idempotency = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  private nextId = 1;

  constructor() {
    this.handlers = mswHandlers((r) => this.answer(r));
  }

  /** Routes one request; null when no route matches. */
  async answer(request: FakeRequest): Promise<FakeAnswer | null> {
    if (request.url.pathname !== '/v1/transfers') return null;
    if (request.method === 'GET') {
      const id = request.url.searchParams.get('payout_id');
      return json(200, { data: this.transfers.filter((t) => t.metadata['payout_id'] === id) });
    }
    if (request.method !== 'POST') return null;
    const key = request.header('idempotency-key');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.text) as Record<string, unknown>;
    } catch {
      return error(400, 'invalid_request_error', 'the body is not valid JSON');
    }
    const fingerprint = canonicalJson(body);
    const stored = key ? this.idempotency.get(key) : undefined;
    if (stored) {
      if (stored.fingerprint !== fingerprint)
        return error(409, 'idempotency_error', 'key reused with other parameters');
      return json(stored.status, stored.body, { 'idempotent-replayed': 'true' });
    }
    if (!Number.isInteger(body['amount']) || typeof body['destination'] !== 'string') {
      return error(400, 'invalid_request_error', 'amount (integer minor units) and destination are required');
    }
    let answer: { status: number; body: unknown };
    if (this.refused.has(body['destination'] as string)) {
      answer = { status: 400, body: { error: { type: 'invalid_request_error', code: 'account_invalid' } } };
    } else {
      const transfer: Transfer = {
        id: `tr_${String(this.nextId++).padStart(7, '0')}`,
        amount: body['amount'] as number,
        currency: String(body['currency']),
        destination: body['destination'] as string,
        metadata: (body['metadata'] ?? {}) as Record<string, string>,
      };
      this.transfers.push(transfer);
      answer = { status: 201, body: transfer };
    }
    if (key) this.idempotency.set(key, { fingerprint, ...answer });
    return json(answer.status, answer.body);
  }

  transferCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const t of this.transfers) {
      const id = t.metadata['payout_id'] ?? '';
      m.set(id, (m.get(id) ?? 0) + 1);
    }
    return m;
  }
}

function error(status: number, type: string, message: string): FakeAnswer {
  return json(status, { error: { type, message } });
}
