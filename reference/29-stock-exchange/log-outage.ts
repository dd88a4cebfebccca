// The event store behind a guard: when an append fails (PostgreSQL gone, its connection reset, a write past the
// query timeout), the events of that append and of every append still under way are in doubt: the store may or may
// not hold them. The exchange then answers 503 `unavailable` with Retry-After to every request that would write
// (openapi.yaml), rolls its state back to the last event known stored (so no read shows what the log may not hold),
// and tries the store again every RETRY_MS: once it answers, the events in doubt that it holds are taken in (applied
// and published, as if their append had just completed) and the rest are dropped, so the state is the log's again.
import { ProblemError } from '../kit/problem.ts';
import type { EventStore } from './event-store.ts';
import type { LogEvent } from './types.ts';

/** How often a lost store is tried again; also the Retry-After of a 503 (whole seconds, at least 1). */
const RETRY_MS = 500;
const RETRY_AFTER_S = 1;

/** What the guard asks of the exchange. */
export interface OutageHost {
  /** Drops every event after `lastStored` from the state (the engine replays the rest); returns the dropped ones. */
  rollBackTo(lastStored: number): LogEvent[];
  /** Takes in events found stored after `lastStored`, in sequence order (applied and published). */
  adopt(stored: readonly LogEvent[]): void;
}

export interface OutageFaults {
  /** MUTANT log-loss-keeps-state: a failed append answers 503, but the exchange keeps the unstored events. */
  keepStateOnLoss?: boolean;
  /** MUTANT log-outage-rewrites-in-doubt: the events in doubt the store does not hold are written once it is back. */
  rewriteInDoubt?: boolean;
}

export function logUnavailable(detail: string): ProblemError {
  return new ProblemError(503, 'unavailable', detail, { headers: { 'retry-after': String(RETRY_AFTER_S) } });
}

export class GuardedStore implements EventStore {
  readonly kind: EventStore['kind'];
  host: OutageHost | undefined;
  /**
   * The sequence ID of the last event known stored: from the first append on, the event before its first (the
   * sequencer stamps on from the recovered log, which the exchange reads from the store itself).
   */
  private lastStored: number | undefined;
  private down: { reason: string; inDoubt: LogEvent[] } | null = null;
  private closed = false;

  constructor(
    private readonly inner: EventStore,
    private readonly faults: OutageFaults,
    private readonly warn: (m: string) => void,
  ) {
    this.kind = inner.kind;
  }

  get available(): boolean {
    return this.down === null;
  }

  /** Throws the 503 while the store is lost: called before an event is stamped. */
  refuseWhileDown(): void {
    if (this.down) throw logUnavailable(`the event log cannot be written (${this.down.reason}); nothing was changed`);
  }

  async readAll(): Promise<LogEvent[]> {
    const all = await this.inner.readAll();
    this.lastStored = all.at(-1)?.sequenceId ?? 0;
    return all;
  }

  async append(events: readonly LogEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.lastStored ??= events[0]!.sequenceId - 1;
    try {
      if (this.down) throw new Error('the store was lost before this append');
      await this.inner.append(events);
    } catch (error) {
      this.lost(error);
      throw logUnavailable(
        `the event log could not be written (${(error as Error).message}): not acknowledged; if the write reached the log before it was lost, it stands (a retry with the same clientOrderId answers the order)`,
      );
    }
    this.lastStored = Math.max(this.lastStored, events.at(-1)!.sequenceId);
  }

  private lost(error: unknown): void {
    if (this.down) return;
    const reason = (error as Error).message || String(error);
    this.warn(`event store lost (${reason}): answering 503 to writes until it is back`);
    // MUTANT log-loss-keeps-state: nothing is rolled back; the unstored events stay in the book and the sequence.
    const inDoubt = this.faults.keepStateOnLoss ? [] : this.host!.rollBackTo(this.lastStored!);
    this.down = { reason, inDoubt };
    this.inner.abandon?.();
    void this.recover();
  }

  /** Tries the store again until it answers; then settles the events in doubt by what it holds. */
  private async recover(): Promise<void> {
    while (!this.closed) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      if (this.closed) return;
      try {
        await this.inner.reopen?.();
        const found = await this.inner.readAfter(this.lastStored!);
        const inDoubt = this.down!.inDoubt;
        const held = found.filter((e, i) => JSON.stringify(e) === JSON.stringify(inDoubt[i]));
        if (held.length !== found.length)
          this.warn(
            `the store holds ${found.length} events after ${this.lastStored}, not a prefix of the ones in doubt`,
          );
        // MUTANT log-outage-rewrites-in-doubt: what the store does not hold is written now (answered 503 before).
        if (this.faults.rewriteInDoubt) {
          const missing = inDoubt.filter((e) => e.sequenceId > (found.at(-1)?.sequenceId ?? this.lastStored!));
          if (missing.length) await this.inner.append(missing);
          found.push(...missing);
        }
        if (!this.faults.keepStateOnLoss) this.host!.adopt(found);
        if (found.length) this.lastStored = found.at(-1)!.sequenceId;
        this.warn(`event store back: ${found.length} of ${inDoubt.length} events in doubt were stored`);
        this.down = null;
        return;
      } catch (error) {
        this.warn(`event store still lost: ${(error as Error).message}`);
        this.inner.abandon?.();
      }
    }
  }

  async readAfter(sequenceId: number): Promise<LogEvent[]> {
    return this.inner.readAfter(sequenceId);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
  }
}
