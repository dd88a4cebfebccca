// The PSP the payment system is graded against: in-memory state answering requests (fake-wire.ts), served as msw
// handlers on a real port (startFakeService) for the checks, or on plain node:http in a process of its own for the
// load run (fakes-process.ts), so any implementation can call it. It behaves like a real PSP (Stripe's idempotency, the book's hosted payment
// page, signed webhooks) and keeps its own record of every charge, which is the evidence for "no double charge".
//
//   POST /v1/registrations        Idempotency-Key required. { reference, amount, currency, redirect_url,
//                                 notify_url } -> 201 { token, status: pending, payment_page_url, reference }.
//   GET  /v1/registrations/:token  -> { token, status: pending | authorized | declined, reference }.
//   POST /hosted/:token/pay       The buyer on the hosted page: { card_number }. 4000000000000002 declines. Answers
//                                 { redirect_url: <redirect_url>?tokenID=..&payResult=.. } and sends a signed
//                                 registration.authorized (or .declined) webhook to notify_url.
//   POST /v1/charges              { amount, currency, source: <token>, metadata: { payment_order_id } }. With an
//                                 Idempotency-Key: Stripe's semantics (first answer replayed, another body 409).
//                                 Without one every request is a new charge, as at Stripe. The source must be an
//                                 authorized registration (else 402). 201 and a signed charge.succeeded webhook.
//   GET  /v1/charges?payment_order_id=X  -> { data: [charges] } (search by metadata).
//
// Harness controls beyond the shared fault modes (which answer before any handler acts): `latencyMs` for every
// call; `loseAnswers(n)`: the next n charges are made and their answers lost (the connection is cut); `webhookMode`;
// `registrationLookupsDown`: GET /v1/registrations/:token answers 503 (the poller cannot learn an outcome), or only
// for the tokens in `hiddenRegistrations` (one checkout's outcome reaches the service by a webhook or not at all);
// `planChargeFaults`: each order's first charge requests get a 503, a hang or a decline (402) in turn, recorded;
// `planLookupFaults`: the first lookup of each paid registration made from then on fails (503, a hang, a 404), recorded.
import { setTimeout as delay } from 'node:timers/promises';
import type { RequestHandler } from 'msw';
import {
  type CallbackMode,
  type CallbackSender,
  type CallbackSenderOptions,
  createCallbackSender,
} from '../../fakes/callbacks.ts';
import { canonicalJson } from '../../fakes/example-psp.ts';
import { type FakeAnswer, type FakeRequest, json, mswHandlers } from './fake-wire.ts';
import { signWebhook } from './signature.ts';

export interface PspCharge {
  id: string;
  amount: number;
  currency: string;
  status: 'succeeded';
  source: string;
  metadata: Record<string, string>;
  /** The Idempotency-Key it was created with, if any. */
  key: string | null;
  created: number;
}

interface Registration {
  token: string;
  reference: string;
  amount: number;
  currency: string;
  redirect_url: string;
  notify_url: string;
  status: 'pending' | 'authorized' | 'declined';
}

interface Stored {
  fingerprint: string;
  status: number;
  body: unknown;
}

export interface PspFakeOptions {
  origin?: string;
  /** Shared secret of the webhook signatures. */
  secret: string;
  seed: number;
  /** The URL of this fake once it listens (for payment_page_url); set after startFakeService. */
  publicUrl?: () => string;
  /** How webhooks are sent (default: the shared sender with its fault modes). */
  sender?: (o: CallbackSenderOptions) => CallbackSender;
}

/**
 * What a planned charge fault does: a 503 before anything is charged, a hang (no answer, nothing charged), or a
 * decline (402 card_error card_declined, as Stripe answers a card the issuer refuses; nothing charged), or a rate
 * limit (429 rate_limit, as Stripe answers requests that come too fast; nothing charged, the request may be retried).
 */
export type ChargeFault = 'error5xx' | 'timeout' | 'decline' | 'rateLimited';

/**
 * What a planned registration-lookup fault does: a 503, a hang (no answer, then a cut connection), or a 404 for a
 * token the PSP issued (a replica that has not caught up). None of them is an outcome of the buyer's payment.
 */
export type LookupFault = 'error5xx' | 'timeout' | 'notFound';

export interface LookupFaultHit {
  token: string;
  fault: LookupFault;
  /** The registration's status at the PSP when the lookup failed (authorized: the buyer had paid). */
  status: string;
  at: number;
}

export interface ChargeFaultHit {
  paymentOrderId: string;
  fault: ChargeFault;
  at: number;
}

export const DECLINED_CARD = '4000000000000002';

export class PspFake {
  readonly handlers: RequestHandler[];
  readonly charges: PspCharge[] = [];
  readonly registrations = new Map<string, Registration>();
  private readonly idempotency = new Map<string, Stored>();
  private readonly senders = new Map<string, CallbackSender>();
  private mode: { mode: CallbackMode; batchSize?: number; delayMs?: number } = { mode: 'normal' };
  latencyMs = 0;
  /** While set, GET /v1/registrations/:token answers 503: only the webhook can tell the service a buyer's outcome. */
  registrationLookupsDown = false;
  /** Registrations whose lookups answer 503 (as registrationLookupsDown does for all): the webhook is their only word. */
  readonly hiddenRegistrations = new Set<string>();
  /** One shot: awaited when the next registration request arrives, before it is answered (a fault placed then). */
  beforeNextRegistration: (() => Promise<void>) | null = null;
  /** One shot: called as the next registration's answer is handed to the wire (a fault placed after the PSP's work). */
  afterNextRegistration: (() => void) | null = null;
  private lose = 0;
  lostAnswers = 0;
  /** Faults aimed at charges (PAY-F1): each payment order's charge requests get these in turn, then go through. */
  private chargePlan: { steps: ChargeFault[]; holdMs: number } | null = null;
  private readonly chargeRequests = new Map<string, number>();
  /** Every charge request a planned fault answered: the evidence that the fault bit on the charges. */
  readonly chargeFaultHits: ChargeFaultHit[] = [];
  /** Lookup faults planned for the next registrations made (PAY-F1): one each, in turn, on its first lookup once paid. */
  private lookupPlan: { faults: LookupFault[]; holdMs: number } | null = null;
  private readonly lookupFaultOf = new Map<string, LookupFault>();
  /** Every registration lookup a planned fault answered: the evidence that it bit while a payment was in flight. */
  readonly lookupFaultHits: LookupFaultHit[] = [];
  private nextId = 1;

  constructor(private readonly o: PspFakeOptions) {
    this.handlers = mswHandlers((r) => this.answer(r));
  }

  /** Routes one request; null when no route matches. */
  async answer(request: FakeRequest): Promise<FakeAnswer | null> {
    const path = request.url.pathname;
    const m = request.method;
    if (m === 'POST' && path === '/v1/registrations') return this.register(request);
    if (m === 'POST' && path === '/v1/charges') return this.charge(request);
    const hosted = /^\/hosted\/([^/]+)\/pay$/.exec(path);
    if (m === 'POST' && hosted) return this.pay(decodeURIComponent(hosted[1]!), request);
    const reg = /^\/v1\/registrations\/([^/]+)$/.exec(path);
    if (m === 'GET' && reg) {
      await this.wait();
      const token = decodeURIComponent(reg[1]!);
      if (this.registrationLookupsDown || this.hiddenRegistrations.has(token))
        return stripeError(503, 'api_error', 'registration lookups are down (injected)');
      const r = this.registrations.get(token);
      const fault = r && r.status !== 'pending' ? this.lookupFaultOf.get(token) : undefined;
      if (r && fault) return this.failLookup(r, fault);
      if (!r) return stripeError(404, 'invalid_request_error', 'no such registration', 'resource_missing');
      return json(200, { token: r.token, status: r.status, reference: r.reference });
    }
    if (m === 'GET' && path === '/v1/charges') {
      await this.wait();
      const id = request.url.searchParams.get('payment_order_id');
      return json(200, { data: this.charges.filter((c) => c.metadata['payment_order_id'] === id) });
    }
    return null;
  }

  /** Charges per payment order id, from the PSP's own record. */
  chargeCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const c of this.charges) {
      const id = c.metadata['payment_order_id'] ?? '';
      m.set(id, (m.get(id) ?? 0) + 1);
    }
    return m;
  }

  /**
   * From now on, each payment order's first charge requests get `steps` in turn (its first a 5xx, its second a
   * hang of `holdMs` then a cut connection, a decline, ...), later ones go through; every hit is recorded in
   * chargeFaultHits.
   */
  planChargeFaults(steps: ChargeFault[], holdMs = 5000): void {
    this.chargePlan = { steps, holdMs };
    this.chargeRequests.clear();
  }

  clearChargeFaults(): void {
    this.chargePlan = null;
  }

  /**
   * The next registrations made get `faults`, one each in turn: the first lookup of each once its buyer has paid
   * fails that way (a hang holds `holdMs`, then cuts the connection); later lookups answer. Hits: lookupFaultHits.
   */
  planLookupFaults(faults: LookupFault[], holdMs = 5000): void {
    this.lookupPlan = { faults: [...faults], holdMs };
  }

  clearLookupFaults(): void {
    this.lookupPlan = null;
    this.lookupFaultOf.clear();
  }

  private async failLookup(r: Registration, fault: LookupFault): Promise<FakeAnswer> {
    this.lookupFaultOf.delete(r.token);
    this.lookupFaultHits.push({ token: r.token, fault, status: r.status, at: Date.now() });
    if (fault === 'error5xx') return stripeError(503, 'api_error', 'the PSP is unavailable (injected)');
    if (fault === 'notFound')
      return stripeError(404, 'invalid_request_error', 'no such registration', 'resource_missing');
    await delay(this.lookupPlan?.holdMs ?? 5000);
    return { reset: true };
  }

  /** The next n charges are executed and their answers lost on the wire. */
  loseAnswers(n: number): void {
    this.lose = n;
  }

  setWebhookMode(mode: { mode: CallbackMode; batchSize?: number; delayMs?: number }): void {
    this.mode = mode;
    for (const s of this.senders.values()) s.setMode(mode);
  }

  /** Every webhook delivery made, over all notification URLs. */
  webhooksSent() {
    return [...this.senders.values()].flatMap((s) => s.sent);
  }

  webhooksDropped() {
    return [...this.senders.values()].flatMap((s) => s.dropped);
  }

  async flushWebhooks(): Promise<void> {
    await Promise.all([...this.senders.values()].map((s) => s.flush()));
  }

  stop(): void {
    for (const s of this.senders.values()) s.stop();
  }

  private async wait(): Promise<void> {
    if (this.latencyMs > 0) await delay(this.latencyMs);
  }

  private sender(target: string): CallbackSender {
    let s = this.senders.get(target);
    if (!s) {
      s = (this.o.sender ?? createCallbackSender)({
        target,
        seed: this.o.seed,
        ...this.mode,
        headers: (_event, body) => ({ 'psp-signature': signWebhook(this.o.secret, body) }),
      });
      this.senders.set(target, s);
    }
    return s;
  }

  private notify(r: Registration, type: string, object: unknown): void {
    void this.sender(r.notify_url).send({
      id: `evt_${String(this.nextId++).padStart(7, '0')}`,
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object },
    });
  }

  /** Stripe's idempotency around `execute`; without a key every request executes. */
  private async idempotent(
    scope: string,
    request: FakeRequest,
    validate: (body: Record<string, unknown>) => string | null,
    execute: (body: Record<string, unknown>, key: string | null) => { status: number; body: unknown },
    requireKey: boolean,
  ): Promise<FakeAnswer> {
    await this.wait();
    const key = request.header('idempotency-key');
    if (requireKey && !key) return stripeError(400, 'invalid_request_error', 'an Idempotency-Key is required');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.text) as Record<string, unknown>;
    } catch {
      return stripeError(400, 'invalid_request_error', 'the body is not valid JSON');
    }
    // From here to the store nothing awaits, so two requests with one key cannot both execute.
    const fingerprint = canonicalJson(body);
    const stored = key ? this.idempotency.get(`${scope}:${key}`) : undefined;
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return stripeError(
          409,
          'idempotency_error',
          'Keys for idempotent requests can only be used with the same parameters',
        );
      }
      return json(stored.status, stored.body, { 'idempotent-replayed': 'true' });
    }
    const invalid = validate(body);
    if (invalid) return stripeError(400, 'invalid_request_error', invalid);
    const answer = execute(body, key);
    if (key) this.idempotency.set(`${scope}:${key}`, { fingerprint, ...answer });
    return json(answer.status, answer.body);
  }

  private async register(request: FakeRequest): Promise<FakeAnswer> {
    const before = this.beforeNextRegistration;
    this.beforeNextRegistration = null;
    if (before) await before();
    const answer = await this.idempotent(
      'registration',
      request,
      (b) =>
        typeof b['reference'] !== 'string' ||
        !Number.isInteger(b['amount']) ||
        typeof b['currency'] !== 'string' ||
        typeof b['notify_url'] !== 'string' ||
        typeof b['redirect_url'] !== 'string'
          ? 'reference, amount (integer minor units), currency, redirect_url and notify_url are required'
          : null,
      (b) => {
        const token = `reg_${String(this.nextId++).padStart(7, '0')}`;
        const r: Registration = {
          token,
          reference: b['reference'] as string,
          amount: b['amount'] as number,
          currency: b['currency'] as string,
          redirect_url: b['redirect_url'] as string,
          notify_url: b['notify_url'] as string,
          status: 'pending',
        };
        this.registrations.set(token, r);
        const planned = this.lookupPlan?.faults.shift();
        if (planned) this.lookupFaultOf.set(token, planned);
        const page = `${this.o.publicUrl?.() ?? ''}/hosted/${token}`;
        return { status: 201, body: { token, status: 'pending', payment_page_url: page, reference: r.reference } };
      },
      true,
    );
    const after = this.afterNextRegistration;
    this.afterNextRegistration = null;
    after?.();
    return answer;
  }

  private async pay(token: string, request: FakeRequest): Promise<FakeAnswer> {
    await this.wait();
    const r = this.registrations.get(token);
    if (!r) return stripeError(404, 'invalid_request_error', 'no such registration', 'resource_missing');
    const body = parseObject(request.text) as { card_number?: unknown };
    if (r.status === 'pending') {
      r.status = body.card_number === DECLINED_CARD ? 'declined' : 'authorized';
      this.notify(r, `registration.${r.status}`, { token, reference: r.reference, status: r.status });
    }
    const result = r.status === 'authorized' ? 'authorized' : 'declined';
    return json(200, { redirect_url: `${r.redirect_url}?tokenID=${token}&payResult=${result}` });
  }

  private async charge(request: FakeRequest): Promise<FakeAnswer> {
    if (this.chargePlan) {
      const plan = this.chargePlan;
      const metadata = parseObject(request.text)['metadata'] as Record<string, unknown> | undefined;
      const id = typeof metadata?.['payment_order_id'] === 'string' ? metadata['payment_order_id'] : '';
      const n = this.chargeRequests.get(id) ?? 0;
      this.chargeRequests.set(id, n + 1);
      const fault = plan.steps[n];
      if (fault) {
        this.chargeFaultHits.push({ paymentOrderId: id, fault, at: Date.now() });
        if (fault === 'error5xx') return stripeError(503, 'api_error', 'the PSP is unavailable (injected)');
        if (fault === 'decline') return stripeError(402, 'card_error', 'Your card was declined.', 'card_declined');
        if (fault === 'rateLimited')
          return stripeError(429, 'invalid_request_error', 'Too many requests hit the API too quickly.', 'rate_limit');
        await delay(plan.holdMs);
        return { reset: true };
      }
    }
    const response = await this.idempotent(
      'charge',
      request,
      (b) => {
        if (!Number.isInteger(b['amount']) || (b['amount'] as number) < 1) return 'amount must be a positive integer';
        if (typeof b['currency'] !== 'string') return 'currency is required';
        if (typeof b['source'] !== 'string') return 'source is required';
        return null;
      },
      (b, key) => {
        const r = this.registrations.get(b['source'] as string);
        if (r?.status !== 'authorized') {
          return {
            status: 402,
            body: { error: { type: 'card_error', code: 'authorization_required', message: 'the buyer has not paid' } },
          };
        }
        const charge: PspCharge = {
          id: `ch_${String(this.nextId++).padStart(7, '0')}`,
          amount: b['amount'] as number,
          currency: b['currency'] as string,
          status: 'succeeded',
          source: r.token,
          metadata: (b['metadata'] ?? {}) as Record<string, string>,
          key,
          created: Math.floor(Date.now() / 1000),
        };
        this.charges.push(charge);
        this.notify(r, 'charge.succeeded', charge);
        return { status: 201, body: charge };
      },
      false,
    );
    if ('status' in response && response.status === 201 && this.lose > 0) {
      // The charge is made; the answer never arrives (the connection is cut before anything is written).
      this.lose--;
      this.lostAnswers++;
      return { reset: true };
    }
    return response;
  }
}

function stripeError(status: number, type: string, message: string, code?: string): FakeAnswer {
  return json(status, { error: { type, message, ...(code ? { code } : {}) } });
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
