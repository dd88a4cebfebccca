// An example fake, small but realistic: a payment service provider (PSP) with Stripe's idempotency semantics, the
// pattern for chapter authors (payments, notifications, email). It is plain msw handlers over in-memory state, so
// the same fake runs on a real port (startFakeService) and in-process (inProcess); faults come from the harness.
//
//   POST /v1/charges      Idempotency-Key required (400 without). Body JSON { amount, currency, source?,
//                         description?, metadata? }. The first response for a key is stored and replayed for the
//                         same key and body (with `Idempotent-Replayed: true`); the same key with another body is
//                         409 idempotency_error. 400 validation errors are not stored (Stripe: a request that fails
//                         validation did not start executing). source 'tok_chargeDeclined' is a 402 card_error
//                         (stored and replayed, as it executed). Success is 201 with the charge, and a
//                         `charge.succeeded` webhook when a callback sender is given.
//   GET /v1/charges/:id   200 with the charge, 404 resource_missing.
//
// Errors use Stripe's shape: { error: { type, code?, message, param? } }.
import { HttpResponse, http, type RequestHandler } from 'msw';
import type { CallbackSender } from './callbacks.ts';

export interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  currency: string;
  status: 'succeeded';
  paid: true;
  source: string;
  description: string | null;
  metadata: Record<string, string>;
  /** Seconds since the epoch, as Stripe. */
  created: number;
}

interface StoredResponse {
  /** Canonical JSON of the request body, to tell "same request" from "another request with the same key". */
  fingerprint: string;
  status: number;
  body: unknown;
}

export interface ExamplePspOptions {
  /** Origin the handlers answer for: '*' (default, any origin: right on a real port) or e.g. 'https://psp.test'. */
  origin?: string;
  /** Where `charge.succeeded` webhooks go, if anywhere. */
  webhooks?: CallbackSender;
}

export interface ExamplePsp {
  handlers: RequestHandler[];
  /** Charges by id, in creation order. */
  charges: Map<string, Charge>;
  /** Stored first responses by idempotency key. */
  idempotency: Map<string, StoredResponse>;
}

const MAX_KEY_LENGTH = 255;

export function createExamplePsp(options: ExamplePspOptions = {}): ExamplePsp {
  const base = options.origin ?? '*';
  const charges = new Map<string, Charge>();
  const idempotency = new Map<string, StoredResponse>();
  let nextCharge = 1;
  let nextEvent = 1;

  const createCharge = http.post(`${base}/v1/charges`, async ({ request }) => {
    const key = request.headers.get('idempotency-key');
    if (key === null || key.trim() === '') {
      return stripeError(400, 'invalid_request_error', 'an Idempotency-Key header is required', {
        code: 'idempotency_key_missing',
      });
    }
    if (key.length > MAX_KEY_LENGTH) {
      return stripeError(400, 'invalid_request_error', `Idempotency-Key is longer than ${MAX_KEY_LENGTH} characters`);
    }
    const text = await request.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return stripeError(400, 'invalid_request_error', 'the body is not valid JSON');
    }
    const fingerprint = canonicalJson(body);

    // Everything from here to the store is synchronous, so concurrent requests with one key cannot both execute.
    const stored = idempotency.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return stripeError(
          409,
          'idempotency_error',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        );
      }
      return HttpResponse.json(stored.body as Record<string, unknown>, {
        status: stored.status,
        headers: { 'idempotent-replayed': 'true', 'idempotency-key': key },
      });
    }

    const invalid = validateCharge(body);
    if (invalid) return stripeError(400, 'invalid_request_error', invalid.message, { param: invalid.param });
    const input = body as ChargeInput;
    const source = input.source ?? 'tok_visa';

    let status: number;
    let responseBody: unknown;
    let charge: Charge | null = null;
    if (source === 'tok_chargeDeclined') {
      status = 402;
      responseBody = {
        error: {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'generic_decline',
          message: 'Your card was declined.',
        },
      };
    } else {
      charge = {
        id: `ch_${String(nextCharge++).padStart(6, '0')}`,
        object: 'charge',
        amount: input.amount,
        currency: input.currency.toLowerCase(),
        status: 'succeeded',
        paid: true,
        source,
        description: input.description ?? null,
        metadata: input.metadata ?? {},
        created: Math.floor(Date.now() / 1000),
      };
      charges.set(charge.id, charge);
      status = 201;
      responseBody = charge;
    }
    idempotency.set(key, { fingerprint, status, body: responseBody });
    if (charge && options.webhooks) {
      void options.webhooks.send({
        id: `evt_${String(nextEvent++).padStart(6, '0')}`,
        type: 'charge.succeeded',
        created: charge.created,
        data: { object: charge },
      });
    }
    return HttpResponse.json(responseBody as Record<string, unknown>, {
      status,
      headers: { 'idempotency-key': key },
    });
  });

  const getCharge = http.get(`${base}/v1/charges/:id`, ({ params }) => {
    const id = String(params['id']);
    const charge = charges.get(id);
    if (!charge)
      return stripeError(404, 'invalid_request_error', `No such charge: '${id}'`, {
        code: 'resource_missing',
        param: 'id',
      });
    return HttpResponse.json(charge);
  });

  return { handlers: [createCharge, getCharge], charges, idempotency };
}

interface ChargeInput {
  amount: number;
  currency: string;
  source?: string;
  description?: string;
  metadata?: Record<string, string>;
}

function validateCharge(body: unknown): { message: string; param: string } | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { message: 'the body must be a JSON object', param: '' };
  const b = body as Record<string, unknown>;
  if (!Number.isInteger(b['amount']) || (b['amount'] as number) < 1) {
    return { message: 'amount must be a positive integer in the smallest currency unit', param: 'amount' };
  }
  if (typeof b['currency'] !== 'string' || !/^[A-Za-z]{3}$/.test(b['currency'])) {
    return { message: 'currency must be a three-letter ISO code', param: 'currency' };
  }
  if (b['source'] !== undefined && typeof b['source'] !== 'string')
    return { message: 'source must be a string', param: 'source' };
  if (b['description'] !== undefined && typeof b['description'] !== 'string') {
    return { message: 'description must be a string', param: 'description' };
  }
  const metadata = b['metadata'];
  if (metadata !== undefined) {
    const ok =
      typeof metadata === 'object' &&
      metadata !== null &&
      !Array.isArray(metadata) &&
      Object.values(metadata).every((v) => typeof v === 'string');
    if (!ok) return { message: 'metadata must be an object of strings', param: 'metadata' };
  }
  const known = new Set(['amount', 'currency', 'source', 'description', 'metadata']);
  const extra = Object.keys(b).find((k) => !known.has(k));
  if (extra !== undefined) return { message: `Received unknown parameter: ${extra}`, param: extra };
  return null;
}

function stripeError(
  status: number,
  type: string,
  message: string,
  extra: { code?: string; param?: string } = {},
): Response {
  return HttpResponse.json({ error: { type, message, ...extra } }, { status });
}

/** JSON with object keys sorted at every level: equal for bodies that differ only in key order or whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
