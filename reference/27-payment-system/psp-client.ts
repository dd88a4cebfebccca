// The payment service's side of the PSP: register a payment (the hosted page), read a registration, charge a
// payment order with its payment_order_id as the idempotency key, and look a charge up. Every call has a deadline;
// "no answer" is a result of its own (the PSP may or may not have acted), never an exception the caller forgets.
import { randomUUID } from 'node:crypto';
import { JsonHttp } from './json-http.ts';

export interface Registration {
  token: string;
  status: 'pending' | 'authorized' | 'declined';
  payment_page_url: string;
  reference: string;
}

export interface Charge {
  id: string;
  amount: number;
  currency: string;
  status: string;
  metadata?: Record<string, string>;
}

export type ChargeOutcome =
  | { kind: 'charged'; charge: Charge }
  | { kind: 'declined'; reason: string }
  | { kind: 'retry'; reason: string };

export interface PspClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  /** MUTANT registration-nonce-per-call: each registration request gets a fresh UUID as its idempotency key. */
  freshRegistrationKeys?: boolean;
  /** MUTANT registration-keyed-by-request-key: the registration's idempotency key is the client's Idempotency-Key. */
  requestKeyedRegistrations?: boolean;
  /** MUTANT charge-4xx-declined: every 4xx answer to a charge is taken for a decline. */
  chargeAnyFourxxDeclined?: boolean;
}

export class PspClient {
  private readonly http: JsonHttp;
  private readonly freshRegistrationKeys: boolean;
  private readonly requestKeyedRegistrations: boolean;
  private readonly chargeAnyFourxxDeclined: boolean;

  constructor(o: PspClientOptions) {
    this.http = new JsonHttp(o.baseUrl, o.timeoutMs ?? 2000);
    this.freshRegistrationKeys = o.freshRegistrationKeys ?? false;
    this.requestKeyedRegistrations = o.requestKeyedRegistrations ?? false;
    this.chargeAnyFourxxDeclined = o.chargeAnyFourxxDeclined ?? false;
  }

  private call(method: 'GET' | 'POST', path: string, body?: unknown, key?: string) {
    return this.http.call(method, path, body, key);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Registers a payment for the hosted page; the checkout_id is the idempotency key. Throws when it cannot. */
  async register(input: {
    reference: string;
    amount: number;
    currency: string;
    redirectUrl: string;
    notifyUrl: string;
    /** The client's Idempotency-Key of the createPayment (used only by a mutant). */
    requestKey?: string;
  }): Promise<Registration> {
    const r = await this.call(
      'POST',
      '/v1/registrations',
      {
        reference: input.reference,
        amount: input.amount,
        currency: input.currency,
        redirect_url: input.redirectUrl,
        notify_url: input.notifyUrl,
      },
      // MUTANT registration-nonce-per-call: a new key per call, so a retried createPayment registers again.
      // MUTANT registration-keyed-by-request-key: the request's key, so the same event under a new key registers again.
      this.freshRegistrationKeys
        ? randomUUID()
        : `reg-${this.requestKeyedRegistrations && input.requestKey ? input.requestKey : input.reference}`,
    );
    if (r.status !== 201 && r.status !== 200) throw new Error(`PSP registration answered ${r.status}`);
    return r.json as Registration;
  }

  async registration(token: string): Promise<Registration | null> {
    const r = await this.call('GET', `/v1/registrations/${encodeURIComponent(token)}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`PSP registration lookup answered ${r.status}`);
    return r.json as Registration;
  }

  /** Charges one payment order. `key` undefined sends no Idempotency-Key (only a mutant does that). */
  async charge(
    input: { paymentOrderId: string; amount: number; currency: string; source: string },
    key: string | undefined,
  ): Promise<ChargeOutcome> {
    try {
      const r = await this.call(
        'POST',
        '/v1/charges',
        {
          amount: input.amount,
          currency: input.currency.toLowerCase(),
          source: input.source,
          metadata: { payment_order_id: input.paymentOrderId },
        },
        key,
      );
      // MUTANT charge-4xx-declined: every 4xx (a 429 rate limit, a 409 key in use) taken for a decline.
      if (this.chargeAnyFourxxDeclined && r.status >= 400 && r.status < 500)
        return { kind: 'declined', reason: `PSP answered ${r.status}` };
      if (r.status === 201 || r.status === 200) return { kind: 'charged', charge: r.json as Charge };
      if (r.status === 402) return { kind: 'declined', reason: 'card declined' };
      return { kind: 'retry', reason: `PSP answered ${r.status}` };
    } catch (error) {
      return { kind: 'retry', reason: `no answer from the PSP: ${(error as Error).message}` };
    }
  }

  /** The charge made for a payment order, if any (the PSP's search by metadata); throws when it cannot tell. */
  async findCharge(paymentOrderId: string): Promise<Charge | null> {
    const r = await this.call('GET', `/v1/charges?payment_order_id=${encodeURIComponent(paymentOrderId)}`);
    if (r.status !== 200) throw new Error(`PSP charge search answered ${r.status}`);
    const data = (r.json as { data?: Charge[] } | undefined)?.data ?? [];
    return data.find((c) => c.status === 'succeeded') ?? null;
  }
}
