// The order manager and the sequencer around the matching engine: risk and funds checks and duplicate client order
// IDs before sequencing, then the sequencer stamps the inbound event (sequence ID and time) and every fill it causes,
// the engine applies it, and the events go to the log before the answer. On start the log is replayed into a fresh
// engine (recovery), and the replay's fills must equal the logged ones.
import { CASH, DAILY_LIMIT, Engine, type EngineFaults } from './engine.ts';
import type { EventStore } from './event-store.ts';
import { GuardedStore, type OutageFaults } from './log-outage.ts';
import { type MarketDataFaults, MarketDataPublisher } from './market-data.ts';
import type { FillEvent, InboundEvent, LogEvent, Order, Side } from './types.ts';

export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ExchangeFaults extends EngineFaults, MarketDataFaults, OutageFaults {
  /** MUTANT risk-check-skipped */
  skipRisk?: boolean;
  /** MUTANT sequence-gap */
  gapAfterCancel?: boolean;
  /** MUTANT cancel-not-logged */
  cancelNotLogged?: boolean;
  /** MUTANT duplicate-race: the duplicate lookup happens before an asynchronous risk call, not after it. */
  duplicateRace?: boolean;
  /** MUTANT cancel-filled-accepted */
  cancelAnyOrder?: boolean;
  /** MUTANT duplicate-after-funds-check */
  duplicateAfterFunds?: boolean;
  /** MUTANT sequence-resumes-before-fills */
  sequenceFromInbound?: boolean;
  /** MUTANT recovery-reads-first-page */
  recoverFirstPage?: boolean;
  /** MUTANT events-owners-lost-on-restart: `owners` is filled at placement only (the replay does not). */
  ownersAtPlacement?: boolean;
  /** MUTANT fill-overflow-unchecked */
  fillOverflowUnchecked?: boolean;
  /** MUTANT cancel-answered-before-logged: a cancel is answered without waiting for its append. */
  cancelBeforeLogged?: boolean;
  cancelAppliedAfterStored?: boolean;
  /** MUTANT adopted-events-unpublished: events in doubt the store holds are applied but not published. */
  adoptUnpublished?: boolean;
  /** MUTANT copy-answered-before-stored: a copy of an order whose write is under way is answered at once. */
  copyBeforeStored?: boolean;
}

export interface NewOrderRequest {
  userId: string;
  clientOrderId?: string;
  symbol: string;
  side: Side;
  price: number;
  quantity: number;
}

export class Exchange {
  readonly engine: Engine;
  /** The market data publisher, fed the sequenced events once they are stored (and the whole log on recovery). */
  readonly marketData: MarketDataPublisher;
  /** Every event stamped, in sequence order (the log, in memory for reads). */
  readonly events: LogEvent[] = [];
  /** Order ID -> user, kept at placement only (the events-owners-lost-on-restart mutant's index). */
  readonly owners = new Map<number, string>();
  private lastSequence = 0;
  private lastTime = 0;
  /** Orders whose write is under way -> that write, settled (stored or failed). */
  private readonly unsettled = new Map<number, Promise<void>>();

  /** The event store behind a guard that answers 503 while it cannot be written (log-outage.ts). */
  private readonly store: GuardedStore;
  private constructor(
    store: EventStore,
    private readonly faults: ExchangeFaults,
    warn: (m: string) => void,
    /** The sequencer's clock (main.ts: one the harness may hold or step, openapi.yaml's clock control). */
    private readonly clock: () => number,
  ) {
    this.engine = new Engine(faults);
    this.marketData = new MarketDataPublisher(faults);
    this.store = new GuardedStore(store, faults, warn);
    this.store.host = { rollBackTo: (last) => this.rollBackTo(last), adopt: (stored) => this.adopt(stored) };
  }

  /** Recovers from the store's log and returns the exchange ready for new events. */
  static async open(
    store: EventStore,
    faults: ExchangeFaults = {},
    warn: (m: string) => void = () => {},
    clock: () => number = Date.now,
  ): Promise<Exchange> {
    const x = new Exchange(store, faults, warn, clock);
    const logged = await store.readAll();
    // MUTANT recovery-reads-first-page: only the first 1,000 events are replayed (a paged read never continued).
    x.replay(faults.recoverFirstPage ? logged.slice(0, 1000) : logged, warn);
    x.marketData.recovered();
    return x;
  }

  /** Recovery: the inbound events go through a fresh engine; the fills it makes must be the ones logged. */
  private replay(logged: readonly LogEvent[], warn: (m: string) => void): void {
    const loggedFills = new Map(logged.filter((e) => e.type === 'fill').map((e) => [e.sequenceId, e]));
    for (const e of logged) {
      // MUTANT sequence-resumes-before-fills: the last sequence ID is taken from inbound events only.
      if (e.type === 'fill' && this.faults.sequenceFromInbound) continue;
      this.lastSequence = Math.max(this.lastSequence, e.sequenceId);
      this.lastTime = Math.max(this.lastTime, e.time);
      if (e.type === 'fill') continue;
      this.events.push(e);
      let seq = e.sequenceId;
      const fills = this.engine.apply(e, () => ++seq);
      for (const f of fills) {
        const was = loggedFills.get(f.sequenceId);
        if (JSON.stringify(was) !== JSON.stringify(f))
          warn(
            `replay diverged at sequence ${f.sequenceId}: logged ${JSON.stringify(was)}, replayed ${JSON.stringify(f)}`,
          );
      }
      this.events.push(...fills);
      this.marketData.publish([e, ...fills]);
    }
  }

  get sequence(): number {
    return this.lastSequence;
  }

  /** The sequencer's time now: its clock, never before the last time it stamped (the time never goes back). */
  now(): number {
    return Math.max(this.lastTime, this.clock());
  }

  /**
   * The sequencer: the next ID, and a time that never goes back (the clock is read here, never in matching). An
   * order is stamped with the time its risk check read, so it counts in the day it was checked in.
   */
  private stamp(time = this.now()): { sequenceId: number; time: number } {
    this.store.refuseWhileDown(); // 503 while the event log cannot be written: nothing is stamped
    this.lastTime = Math.max(this.lastTime, time);
    return { sequenceId: ++this.lastSequence, time: this.lastTime };
  }

  /**
   * The events go to memory at once (in sequence order), to the store before the answer, and to the market data
   * publisher once stored (appends complete in call order, so it gets them in sequence order).
   */
  private async commit(inbound: InboundEvent, fills: FillEvent[], logged = true): Promise<void> {
    this.events.push(inbound, ...fills);
    if (logged) {
      const append = this.store.append([inbound, ...fills]);
      if (inbound.type === 'new') {
        const id = inbound.orderId;
        const settled = append.then(
          () => undefined,
          () => undefined,
        );
        this.unsettled.set(id, settled);
        void settled.then(() => this.unsettled.delete(id));
      }
      await append;
    }
    this.marketData.publish([inbound, ...fills]);
  }

  async deposit(userId: string, asset: string, amount: number): Promise<void> {
    const b = this.engine.balance(userId, asset);
    if (b.available + b.held + amount > Number.MAX_SAFE_INTEGER)
      throw new Refused(422, 'balance_overflow', `${asset} of ${userId} would pass 2^53 - 1`);
    const e: InboundEvent = { ...this.stamp(), type: 'deposit', userId, asset, amount };
    this.engine.apply(e, () => ++this.lastSequence);
    await this.commit(e, []);
  }

  existing(userId: string, clientOrderId: string | undefined): Order | undefined {
    if (clientOrderId === undefined) return undefined;
    const id = this.engine.byClientOrderId.get(this.engine.clientKey(userId, clientOrderId));
    return id === undefined ? undefined : this.engine.orders.get(id);
  }

  /** Places an order: { order, created } (created false for a repeated clientOrderId). */
  async place(r: NewOrderRequest): Promise<{ order: Order; created: boolean }> {
    const early = this.faults.duplicateRace ? this.existing(r.userId, r.clientOrderId) : undefined;
    if (early) return { order: early, created: false };
    // MUTANT duplicate-race: an asynchronous step between the duplicate lookup and the insert (a call to a risk
    // service taking 20 ms, say), so copies that arrive meanwhile all pass the lookup.
    if (this.faults.duplicateRace) await new Promise((resolve) => setTimeout(resolve, 20));
    // MUTANT duplicate-after-funds-check moves this lookup after the risk and funds checks.
    const dup =
      this.faults.duplicateRace || this.faults.duplicateAfterFunds
        ? undefined
        : this.existing(r.userId, r.clientOrderId);
    if (dup) return this.copyOf(r, dup);
    const now = this.now();
    if (!this.faults.skipRisk) {
      // MUTANT risk-check-skipped skips this.
      const so = this.engine.traded.get(this.engine.tradedKey(r.userId, r.symbol, now)) ?? 0;
      if (so + r.quantity > DAILY_LIMIT)
        throw new Refused(
          422,
          'risk_limit_exceeded',
          `${r.userId} ordered ${so} shares of ${r.symbol} today; ${r.quantity} more would pass ${DAILY_LIMIT}`,
        );
    }
    const hold = Engine.holdOf(r.side, r.symbol, r.price, r.quantity);
    const available = this.engine.wallets.get(r.userId)?.get(hold.asset)?.available ?? 0;
    if (available < hold.amount)
      throw new Refused(
        422,
        'insufficient_funds',
        `the order holds ${hold.amount} ${hold.asset === CASH ? 'cents' : `shares of ${hold.asset}`}; ${available} available`,
      );
    // MUTANT fill-overflow-unchecked skips this: a fill past 2^53 - 1 leaves a balance that is no exact integer.
    const over = this.faults.fillOverflowUnchecked
      ? null
      : this.engine.overflowOf(r.userId, r.symbol, r.side, r.price, r.quantity);
    if (over !== null)
      throw new Refused(422, 'balance_overflow', `a fill of this order would take a balance of ${over} past 2^53 - 1`);
    const late = this.faults.duplicateAfterFunds ? this.existing(r.userId, r.clientOrderId) : undefined;
    if (late) return { order: late, created: false };
    const e: InboundEvent = {
      ...this.stamp(now),
      type: 'new',
      // MUTANT order-ids-reused-after-restart: the order manager advances the counter (a replay does not).
      orderId: this.faults.orderIdsOutsideEngine ? this.engine.nextOrderId++ : this.engine.nextOrderId,
      userId: r.userId,
      ...(r.clientOrderId !== undefined ? { clientOrderId: r.clientOrderId } : {}),
      symbol: r.symbol,
      side: r.side,
      price: r.price,
      quantity: r.quantity,
    };
    if (this.faults.ownersAtPlacement) this.owners.set(e.orderId, r.userId); // MUTANT events-owners-lost-on-restart
    const fills = this.engine.apply(e, () => ++this.lastSequence);
    // MUTANT client-order-ids-lost-on-restart: indexed here, by the order manager, so a replay forgets them.
    if (this.faults.clientIdsOutsideEngine && r.clientOrderId !== undefined)
      this.engine.byClientOrderId.set(this.engine.clientKey(r.userId, r.clientOrderId), e.orderId);
    await this.commit(e, fills);
    return { order: this.engine.orders.get(e.orderId)!, created: true };
  }

  /**
   * A copy (the same clientOrderId) of an order whose write is still under way is answered once that write settles:
   * an order is acknowledged only when the log holds it. Its write failed, the order is rolled back and the copy is
   * placed as if it were the first (503 while the log is away).
   */
  private async copyOf(r: NewOrderRequest, dup: Order): Promise<{ order: Order; created: boolean }> {
    const pending = this.unsettled.get(dup.id);
    // MUTANT copy-answered-before-stored: the copy is answered with the order at once.
    if (pending === undefined || this.faults.copyBeforeStored) return { order: dup, created: false };
    await pending;
    return this.place(r);
  }

  async cancel(orderId: number): Promise<Order> {
    if (this.faults.cancelAppliedAfterStored) return this.cancelAppliedAfterStored(orderId);
    const order = this.engine.orders.get(orderId);
    if (!order) throw new Refused(404, 'order_not_found', `no order ${orderId}`);
    const open = this.engine.book(order.symbol).orderMap.has(orderId);
    if (!open && !this.faults.cancelAnyOrder)
      // MUTANT cancel-filled-accepted skips this: a filled order is "canceled".
      throw new Refused(409, 'order_not_open', `order ${orderId} is ${order.status}: no longer in the book`);
    const e: InboundEvent = { ...this.stamp(), type: 'cancel', orderId };
    this.engine.apply(e, () => ++this.lastSequence);
    if (this.faults.gapAfterCancel) this.lastSequence++; // MUTANT sequence-gap
    const logged = this.commit(e, [], !this.faults.cancelNotLogged); // MUTANT cancel-not-logged
    if (this.faults.cancelBeforeLogged)
      logged.catch(() => {}); // MUTANT cancel-answered-before-logged
    else await logged;
    return order;
  }

  /**
   * MUTANT cancel-applied-after-stored: the cancel is written first and taken off the book once stored ("write-ahead"),
   * so an order that arrives while the write is under way fills the order its cancel then reports canceled.
   */
  private async cancelAppliedAfterStored(orderId: number): Promise<Order> {
    const order = this.engine.orders.get(orderId);
    if (!order) throw new Refused(404, 'order_not_found', `no order ${orderId}`);
    if (!this.engine.book(order.symbol).orderMap.has(orderId))
      throw new Refused(409, 'order_not_open', `order ${orderId} is ${order.status}: no longer in the book`);
    const e: InboundEvent = { ...this.stamp(), type: 'cancel', orderId };
    await this.commit(e, []);
    this.engine.apply(e, () => ++this.lastSequence);
    return order;
  }

  /** Up to `limit` events from `from` that `visible` lets through (all by default), in sequence order. */
  eventsFrom(from: number, limit: number, visible?: (e: LogEvent) => boolean): LogEvent[] {
    // Events are in sequence order; find the first at or after `from` by binary search.
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.sequenceId < from) lo = mid + 1;
      else hi = mid;
    }
    if (!visible) return this.events.slice(lo, lo + limit);
    // A user's view scans from there (no per-user index: the reference keeps one array; fine at its scale).
    const page: LogEvent[] = [];
    for (let i = lo; i < this.events.length && page.length < limit; i++)
      if (visible(this.events[i]!)) page.push(this.events[i]!);
    return page;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Whether the event log can be written (false from a failed append until the store answers again). */
  get logAvailable(): boolean {
    return this.store.available;
  }

  /**
   * After a failed append: the state goes back to the events up to `lastStored` (a fresh engine replays them, so no
   * read shows an order or a fill the log may not hold) and the sequence resumes after it. Returns the events
   * dropped. The market data publisher never saw them (it is fed once an append completes).
   */
  private rollBackTo(lastStored: number): LogEvent[] {
    const keep = this.events.findIndex((e) => e.sequenceId > lastStored);
    if (keep < 0) return [];
    const dropped = this.events.splice(keep);
    this.engine.reset();
    for (const e of this.events) {
      if (e.type === 'fill') continue;
      let seq = e.sequenceId;
      this.engine.apply(e, () => ++seq);
    }
    this.lastSequence = lastStored;
    return dropped;
  }

  /** Events in doubt that the store turned out to hold: applied (their fills as logged) and published. */
  private adopt(stored: readonly LogEvent[]): void {
    let batch: LogEvent[] = [];
    for (const e of stored) {
      this.lastSequence = Math.max(this.lastSequence, e.sequenceId);
      this.lastTime = Math.max(this.lastTime, e.time);
      this.events.push(e);
      if (e.type === 'fill') {
        batch.push(e);
        continue;
      }
      if (batch.length && !this.faults.adoptUnpublished) this.marketData.publish(batch); // MUTANT adopted-events-unpublished
      batch = [e];
      let seq = e.sequenceId;
      this.engine.apply(e, () => ++seq);
    }
    if (batch.length && !this.faults.adoptUnpublished) this.marketData.publish(batch);
  }
}
