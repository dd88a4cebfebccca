// The payment service (the book's coordinator): accepts a payment event, stores it, registers it with the PSP for
// the hosted payment page, and applies the PSP's webhooks. Charging is the executor's job.
import { ProblemError } from '../kit/problem.ts';
import type { Executor } from './executor.ts';
import { fingerprintOf } from './idempotency.ts';
import { toMinor, toMinorPaddedLeft, toMinorWithFloats } from './money.ts';
import type { MutantName } from './mutants.ts';
import type { PspClient } from './psp-client.ts';
import { AlreadyExists, type NewOrder, orderBody, type PaymentStore } from './store.ts';

export interface PaymentEventRequest {
  checkout_id: string;
  buyer_info: { buyer_id: string; email?: string; name?: string };
  payment_orders: { payment_order_id: string; seller_account: string; amount: string; currency: string }[];
}

export interface PspEvent {
  id: string;
  type: 'registration.authorized' | 'registration.declined' | 'charge.succeeded' | 'charge.failed';
  data: { object: Record<string, unknown> };
}

export class PaymentService {
  constructor(
    private readonly o: {
      store: PaymentStore;
      psp: PspClient;
      executor: Executor;
      mutant: MutantName | undefined;
      /** This service's public base URL (for the PSP's webhook and the buyer's redirect). */
      baseUrl: () => string;
      /** The shop's page the PSP sends the buyer back to (the book's redirect URL), without the checkout id. */
      returnUrl: string;
    },
  ) {}

  /** Runs one payment event; the answer is what the idempotency layer stores and replays. */
  async createPayment(req: PaymentEventRequest, requestKey?: string): Promise<{ status: number; body: unknown }> {
    const { store, psp } = this.o;
    const orders: NewOrder[] = [];
    const ids = new Set<string>();
    for (const [i, po] of req.payment_orders.entries()) {
      // MUTANT float-amounts: parseFloat instead of exact decimal parsing.
      const parsed =
        this.o.mutant === 'float-amounts'
          ? toMinorWithFloats(po.amount, po.currency)
          : this.o.mutant === 'fraction-padded-left'
            ? toMinorPaddedLeft(po.amount, po.currency)
            : toMinor(po.amount, po.currency);
      if ('error' in parsed) throw amountProblem(i, parsed.error);
      if (ids.has(po.payment_order_id)) {
        throw new ProblemError(400, 'duplicate_payment_order', `payment_order_id ${po.payment_order_id} appears twice`);
      }
      ids.add(po.payment_order_id);
      orders.push({
        paymentOrderId: po.payment_order_id,
        sellerAccount: po.seller_account,
        amountMinor: parsed.minor,
        currency: po.currency,
      });
    }
    const currency = orders[0]!.currency;
    if (orders.some((o) => o.currency !== currency)) {
      throw amountProblem(0, 'every payment order of one event must be in the same currency (the book: one currency)');
    }
    // MUTANT register-before-store: the PSP registration is made before the event is stored, so an event refused
    // as already_exists has been registered at the PSP anyway.
    if (this.o.mutant === 'register-before-store') {
      await psp
        .register({
          reference: req.checkout_id,
          amount: orders.reduce((sum, o) => sum + o.amountMinor, 0),
          currency,
          redirectUrl: `${this.o.returnUrl}/${encodeURIComponent(req.checkout_id)}`,
          notifyUrl: `${this.o.baseUrl()}/v1/webhooks/psp`,
        })
        .catch(() => undefined);
    }
    // MUTANT event-fingerprint-orders-partial: the orders' sellers and currencies are left out of the fingerprint.
    if (this.o.mutant === 'event-fingerprint-orders-partial') {
      for (const po of req.payment_orders) Object.assign(po, { seller_account: '', currency: '' });
    }
    let stored: Awaited<ReturnType<PaymentStore['storeEvent']>>;
    try {
      stored = await store.storeEvent({
        checkoutId: req.checkout_id,
        buyerId: req.buyer_info.buyer_id,
        buyerInfo: req.buyer_info,
        // MUTANT event-fingerprint-without-buyer: the same checkout for another buyer is taken for the same event.
        fingerprint: fingerprintOf(
          'payment-event',
          this.o.mutant === 'event-fingerprint-without-buyer'
            ? { checkout_id: req.checkout_id, payment_orders: req.payment_orders }
            : req,
        ),
        orders,
      });
    } catch (error) {
      if (error instanceof AlreadyExists) throw new ProblemError(409, 'already_exists', error.message);
      throw error;
    }
    const { event } = stored;
    let token = event.psp_token;
    let pageUrl = event.payment_page_url;
    if (!token || !pageUrl) {
      try {
        const reg = await psp.register({
          reference: req.checkout_id,
          amount: orders.reduce((sum, o) => sum + o.amountMinor, 0),
          currency,
          redirectUrl: `${this.o.returnUrl}/${encodeURIComponent(req.checkout_id)}`,
          notifyUrl: `${this.o.baseUrl()}/v1/webhooks/psp`,
          requestKey,
        });
        token = reg.token;
        pageUrl = reg.payment_page_url;
      } catch (error) {
        throw new ProblemError(
          503,
          'psp_unavailable',
          `the PSP cannot register the payment now: ${(error as Error).message}`,
          {
            headers: { 'retry-after': '1' },
          },
        );
      }
      await store.setRegistration(req.checkout_id, token, pageUrl);
    }
    const rows = stored.orders ?? (await store.ordersOf(req.checkout_id));
    return {
      // MUTANT create-answers-200: a new event answered 200.
      status: this.o.mutant === 'create-answers-200' ? 200 : 201,
      body: {
        checkout_id: req.checkout_id,
        psp_token: token,
        payment_page_url: pageUrl,
        payment_orders: rows.map(orderBody),
      },
    };
  }

  /** Applies an authenticated PSP event. Guarded transitions make duplicates and late events harmless. */
  async applyWebhook(event: PspEvent): Promise<void> {
    const { store, executor } = this.o;
    const obj = event.data.object;
    switch (event.type) {
      case 'registration.authorized':
      case 'registration.declined': {
        const checkoutId = typeof obj['reference'] === 'string' ? obj['reference'] : '';
        const token = typeof obj['token'] === 'string' ? obj['token'] : '';
        if (event.type === 'registration.declined') {
          const known = await store.event(checkoutId);
          // MUTANT declined-webhook-ignored: acknowledged but not applied (the poller still declines it later).
          if (known?.psp_token === token && this.o.mutant !== 'declined-webhook-ignored')
            await store.declineCheckout(checkoutId);
          return;
        }
        // Only for this checkout's registration (not ours, or another registration: nothing happens).
        executor.kick(await store.startExecution(checkoutId, token));
        return;
      }
      case 'charge.succeeded':
      case 'charge.failed': {
        const metadata = (obj['metadata'] ?? {}) as Record<string, unknown>;
        const orderId = typeof metadata['payment_order_id'] === 'string' ? metadata['payment_order_id'] : '';
        if (!orderId) return;
        if (event.type === 'charge.succeeded') await store.succeed(orderId, String(obj['id'] ?? ''));
        else await store.fail(orderId);
        return;
      }
    }
  }
}

function amountProblem(index: number, detail: string): ProblemError {
  return new ProblemError(400, 'invalid_amount', detail, {
    errors: [{ location: `/body/payment_orders/${index}/amount`, message: detail }],
  });
}
