// The payment executor: charges EXECUTING payment orders at the PSP, one attempt at a time, with the order's
// payment_order_id as the idempotency key on every attempt (so the PSP charges once whatever we retry). The retry
// queue is the payment_orders table itself (next_attempt_at, attempts), so it survives kill -9: an attempt leases
// its order for a few seconds, and an order whose process died mid-attempt is due again when the lease runs out.
// Back-off is exponential with jitter, capped; after MAX_ATTEMPTS the executor asks the PSP whether the charge
// happened, and an order the PSP never charged goes to FAILED and the dead-letter queue for a person to look at.
//
// The poller covers webhooks that never come: a registration still pending after a while is read from the PSP.
import { randomUUID } from 'node:crypto';
import { MINOR_DIGITS } from './money.ts';
import type { MutantName } from './mutants.ts';
import type { PayoutClient, Payouts } from './payouts.ts';
import type { PspClient } from './psp-client.ts';
import type { DueOrder, PaymentStore } from './store.ts';

export interface ExecutorOptions {
  store: PaymentStore;
  psp: PspClient;
  /** The pay-out side: payouts due for a transfer go through the same loop. */
  payouts: Payouts;
  payoutClient: PayoutClient;
  mutant: MutantName | undefined;
  log: (message: string) => void;
  /** Back-off base and cap (ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxAttempts?: number;
  /** How long an attempt holds its order; after a crash the order is retried this much later. */
  leaseMs?: number;
  /** A registration still pending this long is polled (and again every as long). */
  pollAfterMs?: number;
}

export class Executor {
  private readonly o: Required<Omit<ExecutorOptions, 'mutant'>> & { mutant: MutantName | undefined };
  private readonly inFlight = new Set<string>();
  /** MUTANT no-crash-recovery: the orders this process was told to execute; nothing else is ever picked up. */
  private readonly startedHere = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private ticking = false;
  private polling = false;
  private stopped = false;

  constructor(o: ExecutorOptions) {
    this.o = {
      baseDelayMs: 100,
      maxDelayMs: 2000,
      maxAttempts: 8,
      // MUTANT long-lease: an attempt holds its order for 5 minutes, so after kill -9 it stays EXECUTING that long.
      leaseMs: o.mutant === 'long-lease' ? 5 * 60_000 : 3000,
      pollAfterMs: 2000,
      ...o,
    };
  }

  start(): void {
    this.timers.push(setInterval(() => void this.tick(), 50));
    // MUTANT no-polling: a registration whose webhook never comes is never looked at.
    if (this.o.mutant !== 'no-polling') this.timers.push(setInterval(() => void this.poll(), 250));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    while (this.inFlight.size > 0 || this.ticking || this.polling) await new Promise((r) => setTimeout(r, 20));
  }

  /** Orders just moved to EXECUTING start their first attempt now, rather than at the next tick's read. */
  kick(orders: DueOrder[]): void {
    for (const order of orders) {
      this.startedHere.add(order.payment_order_id);
      this.run(order);
    }
  }

  private run(order: DueOrder): void {
    if (this.stopped || this.inFlight.has(order.payment_order_id)) return;
    if (this.o.mutant === 'no-crash-recovery' && !this.startedHere.has(order.payment_order_id)) return;
    this.inFlight.add(order.payment_order_id);
    void this.attempt(order).finally(() => this.inFlight.delete(order.payment_order_id));
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const due = await this.o.store.dueOrders(Date.now(), 200);
      for (const order of due) this.run(order);
      for (const payout of await this.o.payouts.due(Date.now(), 100)) {
        const key = `payout:${payout.payout_id}`;
        if (this.inFlight.has(key)) continue;
        this.inFlight.add(key);
        void this.transfer(payout).finally(() => this.inFlight.delete(key));
      }
    } catch (error) {
      this.o.log(`executor: cannot read the retry queue: ${(error as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async attempt(order: DueOrder): Promise<void> {
    const { store, psp } = this.o;
    try {
      if (!(await store.lease(order, Date.now() + this.o.leaseMs))) return;
      const attempt = order.attempts + 1;
      if (!order.psp_token) {
        await store.fail(order.payment_order_id, 'no PSP registration');
        return;
      }
      // MUTANT retry-without-idempotency-key: the first attempt carries the key, retries do not.
      let key: string | undefined = order.payment_order_id;
      if (this.o.mutant === 'retry-without-idempotency-key' && attempt > 1) key = undefined;
      if (this.o.mutant === 'key-per-attempt') key = randomUUID(); // MUTANT key-per-attempt
      const outcome = await psp.charge(
        {
          paymentOrderId: order.payment_order_id,
          // MUTANT psp-amount-in-cents: every currency sent to the PSP in hundredths (JPY x100, KWD /10, rounded).
          amount:
            this.o.mutant === 'psp-amount-in-cents'
              ? Math.max(1, Math.round(order.amount_minor * 10 ** (2 - (MINOR_DIGITS[order.currency] ?? 2))))
              : order.amount_minor,
          currency: order.currency,
          source: order.psp_token,
        },
        key,
      );
      if (outcome.kind === 'charged') {
        await store.succeed(order.payment_order_id, outcome.charge.id);
        return;
      }
      // MUTANT decline-recorded-success: a charge the PSP declined is recorded as a success.
      if (outcome.kind === 'declined' && this.o.mutant === 'decline-recorded-success') {
        await store.succeed(order.payment_order_id, 'declined');
        return;
      }
      // MUTANT decline-retried: a decline is retried like a 5xx (the PSP's record decides after 8 attempts).
      if (outcome.kind === 'declined' && this.o.mutant !== 'decline-retried') {
        await store.fail(order.payment_order_id);
        return;
      }
      // MUTANT no-retry-on-5xx: an unanswered or failed attempt fails the order for good.
      if (this.o.mutant === 'no-retry-on-5xx') {
        await store.fail(order.payment_order_id, outcome.reason);
        return;
      }
      // MUTANT attempts-nine: one attempt more than the spec's 8 before the PSP's record decides.
      if (this.o.mutant === 'attempts-nine' && attempt === this.o.maxAttempts) {
        await store.retryAt(order.payment_order_id, Date.now() + this.backoff(attempt));
        return;
      }
      if (attempt < this.o.maxAttempts) {
        await store.retryAt(order.payment_order_id, Date.now() + this.backoff(attempt));
        return;
      }
      await this.settleExhausted(order, outcome.reason);
    } catch (error) {
      // The database is away: the lease brings the order back once it returns.
      this.o.log(`executor: attempt for ${order.payment_order_id} broke off: ${(error as Error).message}`);
      // MUTANT broken-attempt-fails-order: an attempt that broke off fails the order (dead-lettered), charged or not.
      if (this.o.mutant === 'broken-attempt-fails-order')
        await store
          .fail(order.payment_order_id, `attempt broke off: ${(error as Error).message}`)
          .catch(() => undefined);
    }
  }

  private async transfer(payout: Awaited<ReturnType<Payouts['due']>>[number]): Promise<void> {
    const { payouts, payoutClient } = this.o;
    try {
      if (!(await payouts.lease(payout, Date.now() + this.o.leaseMs))) return;
      const outcome = await payoutClient.transfer(payout);
      if (outcome.kind === 'paid') await payouts.paid(payout.payout_id, outcome.id);
      else if (outcome.kind === 'refused') await payouts.refused(payout, outcome.reason);
      // The provider deduplicates on the payout_id, so a transfer is retried (at the cap) until it is answered.
      else await payouts.retryAt(payout.payout_id, Date.now() + this.backoff(payout.attempts + 1));
    } catch (error) {
      this.o.log(`executor: transfer for ${payout.payout_id} broke off: ${(error as Error).message}`);
    }
  }

  /** Retries are used up: the PSP's record decides. Unknown (the PSP cannot say) means keep retrying at the cap. */
  private async settleExhausted(order: DueOrder, reason: string): Promise<void> {
    const { store, psp } = this.o;
    let charge: Awaited<ReturnType<PspClient['findCharge']>>;
    try {
      charge = await psp.findCharge(order.payment_order_id);
    } catch {
      await store.retryAt(order.payment_order_id, Date.now() + this.o.maxDelayMs);
      return;
    }
    if (charge) await store.succeed(order.payment_order_id, charge.id);
    else await store.fail(order.payment_order_id, `no charge after ${order.attempts + 1} attempts: ${reason}`);
  }

  private backoff(attempt: number): number {
    const exp = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1));
    // Whole milliseconds: next_attempt_at is a bigint column.
    // MUTANT backoff-jitter-below: the jitter taken off half the delay, so a retry may come at once.
    if (this.o.mutant === 'backoff-jitter-below') return Math.round(exp / 2 - Math.random() * (exp / 2));
    // MUTANT backoff-step-doubled: the exponent one too high, so each retry waits between its step and twice it.
    if (this.o.mutant === 'backoff-step-doubled')
      return Math.round((Math.min(this.o.maxDelayMs, 2 * exp) * (1 + Math.random())) / 2);
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    const { store, psp } = this.o;
    try {
      const now = Date.now();
      const events = await store.eventsToPoll(now, this.o.pollAfterMs, 50);
      await Promise.all(
        events.map(async (e) => {
          await store.markPolled(e.checkout_id, now);
          const reg = await psp.registration(e.psp_token!).catch(() => undefined);
          if (reg?.status === 'authorized') {
            this.kick(await store.startExecution(e.checkout_id, e.psp_token!));
          } else if (reg?.status === 'declined') {
            // MUTANT poll-decline-ignored: a registration the PSP reports declined is left NOT_STARTED.
            if (this.o.mutant === 'poll-decline-ignored') return;
            await store.declineCheckout(e.checkout_id);
          } else if (this.o.mutant === 'poll-error-declines' && reg?.status !== 'pending') {
            // MUTANT poll-error-declines: a lookup that failed (503, no answer, 404) taken for a decline.
            await store.declineCheckout(e.checkout_id);
          }
        }),
      );
    } catch (error) {
      this.o.log(`poller: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }
}
