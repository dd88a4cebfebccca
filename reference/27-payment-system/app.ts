// The HTTP surface of chapter 27: handlers by operationId; routes, validation and errors come from the spec (kit).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import { fingerprintOf, type IdempotencyKeys } from './idempotency.ts';
import { fromMinor } from './money.ts';
import type { MutantName } from './mutants.ts';
import type { PaymentEventRequest, PaymentService, PspEvent } from './payment-service.ts';
import { type PayoutRequest, type Payouts, payoutBody } from './payouts.ts';
import { parseSettlement, reconcile, SettlementError } from './reconcile.ts';
import { verify } from './signature.ts';
import { orderBody, type PaymentStore } from './store.ts';

export const SPEC_URL = new URL('../../specs/27-payment-system/openapi.yaml', import.meta.url);
/** Settlement files are large (a day of 1 million charges is about 40 MB); everything else stays under 64 KiB. */
export const SETTLEMENT_LIMIT = 64 * 1024 * 1024;

export interface PaymentAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  service: PaymentService;
  store: PaymentStore;
  payouts: Payouts;
  idempotency: IdempotencyKeys;
  webhookSecret: string;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

const rawBodies = new WeakMap<FastifyRequest, string>();

export function buildApp(o: PaymentAppOptions): FastifyInstance {
  const { service, store, payouts, idempotency, mutant } = o;

  // The kit validates path, query and body; the Idempotency-Key header is checked here, as the spec defines it.
  const keyOf = (request: FastifyRequest): string => {
    const key = request.headers['idempotency-key'];
    // MUTANT idempotency-key-max-64: a key longer than 64 characters is refused (the spec allows 255).
    const longest = mutant === 'idempotency-key-max-64' ? 64 : 255;
    if (typeof key !== 'string' || !/^[\x21-\x7E]+$/.test(key) || key.length > longest) {
      throw new ProblemError(
        400,
        'invalid_request',
        'an Idempotency-Key header (1 to 255 visible ASCII characters) is required',
        {
          errors: [{ location: '/headers/idempotency-key', message: 'is required' }],
        },
      );
    }
    return key;
  };

  const app = createApp({
    spec: o.spec,
    readiness: o.readiness,
    logger: o.logger,
    handlers: {
      async createPayment(request, reply) {
        const body = request.body as PaymentEventRequest;
        const key = keyOf(request);
        // MUTANT idempotency-key-ignored: the header is required, then never used.
        const answer =
          mutant === 'idempotency-key-ignored'
            ? { ...(await service.createPayment(body)), replayed: false }
            : await idempotency.run(
                key,
                // MUTANT fingerprint-key-order: the body's fingerprint taken over its keys as sent, not canonical JSON.
                fingerprintOf('POST /v1/payments', mutant === 'fingerprint-key-order' ? JSON.stringify(body) : body),
                () => service.createPayment(body, key),
              );
        if (answer.replayed) reply.header('idempotent-replayed', 'true');
        // MUTANT first-answer-marked-replayed: the first answer to a key says it is a replay too.
        if (mutant === 'first-answer-marked-replayed') reply.header('idempotent-replayed', 'true');
        return reply.code(answer.status).send(answer.body);
      },

      async getPaymentOrder(request, reply) {
        const { paymentOrderId } = request.params as { paymentOrderId: string };
        const order = await store.order(paymentOrderId);
        if (!order) throw new ProblemError(404, 'not_found', `no payment order ${paymentOrderId}`);
        const body: Record<string, unknown> = orderBody(order);
        if (mutant === 'order-without-flags') {
          // MUTANT order-without-flags
          delete body['ledger_updated'];
          delete body['wallet_updated'];
        }
        return reply.code(200).send(body);
      },

      async receivePspWebhook(request, reply) {
        // MUTANT signature-over-reserialized-body: the HMAC is checked over the parsed body serialised again.
        const raw =
          mutant === 'signature-over-reserialized-body' ? JSON.stringify(request.body) : (rawBodies.get(request) ?? '');
        const header = request.headers['psp-signature'] as string | undefined;
        // MUTANT signature-unanchored: a v1 value is read as its last 64 hex digits, whatever comes before them.
        const read =
          mutant === 'signature-unanchored' ? header?.replace(/v1=[0-9a-f]*([0-9a-f]{64})/g, 'v1=$1') : header;
        // MUTANT signature-timestamp-optional: a header without a timestamp is checked as if signed at "NaN".
        const untimed = mutant === 'signature-timestamp-optional';
        const why = verify(o.webhookSecret, read, raw, Date.now(), untimed);
        // MUTANT webhook-signature-unchecked: any body is applied.
        if (why !== null && mutant !== 'webhook-signature-unchecked') {
          // MUTANT bad-signature-400: the wrong status and code for an authentication failure.
          if (mutant === 'bad-signature-400') throw new ProblemError(400, 'invalid_request', why);
          throw new ProblemError(401, 'invalid_signature', why);
        }
        // MUTANT webhook-acked-before-applied: answered 200 at once and applied after, a failure only logged.
        if (mutant === 'webhook-acked-before-applied') {
          void service
            .applyWebhook(request.body as PspEvent)
            .catch((error) => request.log.warn(`webhook not applied: ${(error as Error).message}`));
          return reply.code(200).send({ received: true });
        }
        await service.applyWebhook(request.body as PspEvent);
        return reply.code(200).send({ received: true });
      },

      async createPayout(request, reply) {
        const body = request.body as PayoutRequest;
        const answer = await idempotency.run(keyOf(request), fingerprintOf('POST /v1/payouts', body), () =>
          payouts.create(body),
        );
        if (answer.replayed) reply.header('idempotent-replayed', 'true');
        return reply.code(answer.status).send(answer.body);
      },

      async getPayout(request, reply) {
        const { payoutId } = request.params as { payoutId: string };
        const payout = await payouts.get(payoutId);
        if (!payout) throw new ProblemError(404, 'not_found', `no payout ${payoutId}`);
        return reply.code(200).send(payoutBody(payout));
      },

      async getWallet(request, reply) {
        const { sellerAccount } = request.params as { sellerAccount: string };
        const rows = await store.wallet(sellerAccount);
        // MUTANT unknown-wallet-200: an unknown seller is an empty wallet.
        if (rows.length === 0 && mutant !== 'unknown-wallet-200') {
          throw new ProblemError(404, 'not_found', `no wallet for ${sellerAccount}`);
        }
        return reply.code(200).send({
          seller_account: sellerAccount,
          balances: rows.map((r) => ({ currency: r.currency, amount: fromMinor(r.balance, r.currency) })),
        });
      },

      async listLedgerEntries(request, reply) {
        const { payment_order_id } = request.query as { payment_order_id: string };
        const rows = await store.ledgerEntries(payment_order_id);
        return reply.code(200).send({
          entries: rows.map((r) => ({
            transaction_id: r.transaction_id,
            account: r.account,
            currency: r.currency,
            debit: fromMinor(r.debit, r.currency),
            credit: fromMinor(r.credit, r.currency),
          })),
        });
      },

      async getTrialBalance(_request, reply) {
        const rows = await store.trialBalance();
        return reply.code(200).send({
          currencies: rows.map((r) => ({
            currency: r.currency,
            debits: fromMinor(BigInt(r.debits), r.currency),
            credits: fromMinor(BigInt(r.credits), r.currency),
            transactions: Number(r.transactions),
          })),
        });
      },

      async reconcileSettlement(request, reply) {
        const file = request.body as string;
        // MUTANT settlement-fingerprint-prefix: the key's fingerprint covers the file's first 64 KiB only.
        const text = mutant === 'settlement-fingerprint-prefix' ? file.slice(0, 65_536) : file;
        const key = keyOf(request);
        const { since } = request.query as { since?: string };
        // MUTANT reconcile-since-seconds: the window's start in seconds, against millisecond timestamps.
        const sinceMs =
          since === undefined
            ? 0
            : mutant === 'reconcile-since-seconds'
              ? Math.floor(Date.parse(since) / 1000)
              : Date.parse(since);
        const answer = await idempotency.run(
          key,
          // MUTANT reconcile-key-without-since: the fingerprint leaves the window out (another since is replayed).
          fingerprintOf(
            mutant === 'reconcile-key-without-since'
              ? 'POST /v1/reconciliations'
              : `POST /v1/reconciliations?since=${since ?? ''}`,
            text,
          ),
          async () => {
            let theirs: ReturnType<typeof parseSettlement>;
            try {
              theirs = parseSettlement(file, { keepCr: mutant === 'settlement-crlf-refused' });
            } catch (error) {
              // MUTANT bad-settlement-500: the parse error escapes as an internal error.
              if (error instanceof SettlementError && mutant !== 'bad-settlement-500') {
                // MUTANT settlement-header-detail-empty: a wrong header's problem has an empty detail, not its line.
                // MUTANT settlement-currency-detail-empty: so has a line with an unknown currency.
                const emptied =
                  (mutant === 'settlement-header-detail-empty' && error.message.startsWith('line 1 ')) ||
                  (mutant === 'settlement-currency-detail-empty' && error.message.endsWith('unknown currency'));
                throw new ProblemError(400, 'invalid_settlement', emptied ? '' : error.message);
              }
              throw error;
            }
            const ours = await store.ordersSince(sinceMs);
            const report = reconcile(theirs, ours, {
              executingIsManual: mutant === 'reconcile-executing-manual',
              currencyIgnored: mutant === 'reconcile-currency-ignored',
              statusFirst: mutant === 'reconcile-status-before-amount',
            });
            if (mutant === 'reconcile-status-only') {
              // MUTANT reconcile-status-only: amount differences are dropped from the report.
              report.mismatches = report.mismatches.filter((m) => m.kind !== 'amount_differs');
            }
            // MUTANT reconcile-failed-automatic: an order FAILED here that the PSP settled is taken for one in flight.
            if (mutant === 'reconcile-failed-automatic') {
              for (const m of report.mismatches)
                if (m.kind === 'status_differs' && m.ours?.status === 'FAILED')
                  m.classification = 'classifiable_automatic';
            }
            return { status: 200, body: report };
          },
        );
        if (answer.replayed) reply.header('idempotent-replayed', 'true');
        return reply.code(answer.status).send(answer.body);
      },
    },
  });

  // The webhook's signature is over the exact bytes received, so JSON bodies are kept raw as well as parsed.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    rawBodies.set(request, text);
    try {
      done(null, JSON.parse(text));
    } catch {
      // MUTANT malformed-json-unanswered: a body that is not JSON is never answered (the parser never calls done).
      if (mutant === 'malformed-json-unanswered') return;
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: SETTLEMENT_LIMIT }, (_request, body, done) =>
    done(null, body),
  );
  return app;
}
