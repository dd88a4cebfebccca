// WC-F4's load on a target that keeps its state in PostgreSQL: every pooled connection kept busy, so each statement
// the crawler sends waits for whichever connection comes back next. Many HTTP readers alone do not do that: their
// statements are fast and the service's one event loop is the bottleneck, so its pool is seldom out of connections,
// and a pool with one idle hands the connection just released back to the next statement (pg's pool: last in, first
// out). A store that sends a transaction's statements through the pool (mutant tx-on-pool) then behaves as one
// transaction, and whether a run saw it depended on the moments the pool ran dry (CI missed it twice in three days).
//
// Here the PostgreSQL-protocol proxy holds the answer of every statement sent outside a transaction block (the
// readers' listings, any read or lone write; never a block's own statements, so a real transaction runs at once once
// it has its connection) and lets the oldest go only once no new statement has been held for a tick: by then every
// connection the service opened waits on a held answer, and the connection let go goes to a caller queued in the
// pool, never back to the statement that just released it. A service holding its connection for its transaction is
// only slowed; one whose "transaction" is statements on whichever connection comes next spreads them over
// connections, some in another caller's open block, where the readers see rows one connection shows and another does
// not, and a kill rolls back what no COMMIT reached.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import type { PgWireProxy } from '../../faults/pg-wire-types.ts';

/** How often the keeper looks (ms). */
const TICK_MS = 1;
/**
 * Ticks without a new held statement after which the oldest answer goes anyway: a service whose connections are not
 * all waiting on held answers (several transactions open at once) still moves, only slower.
 */
const STILL_TICKS = 5;
/**
 * Answers let go per tick once the pool is dry: fewer than the readers queued behind the pool (32 readers, a pool of
 * 20), so it stays dry. One a tick was too slow on a loaded machine (a tick of 50 ms at a load average of 44): the
 * crawler's statements, queued behind the readers', waited past its pool's 2 s connection timeout.
 */
const RELEASE_PER_TICK = 4;
/**
 * No answer is held longer (ms, not scaled: a longer hold is the harm): on a loaded machine the keeper's ticks come
 * late, the pool's queue stops moving, and at a load average of 48 the reference's statements waited past its pool's
 * 2 s connection timeout (503s, a crawl that stalled). Aged answers go whatever the pool, so a queued statement waits
 * about this long at most.
 */
const MAX_HOLD_MS = 250;

export interface BusyPool {
  /** Holds no more, lets every held answer go, and waits for the keeper to end; returns what it did. */
  stop(): Promise<{ held: number; released: number; dry: number; aged: number }>;
}

/**
 * Starts holding read answers at the proxy and letting them go one at a time, each once the pool has run dry: every
 * connection the service opened but one (its transaction's) waits on a held answer, or none was held for a while.
 */
export function keepPoolBusy(ctx: CheckContext, proxy: PgWireProxy): BusyPool {
  const heldBefore = proxy.readsHeld;
  let on = true;
  let released = 0;
  let dry = 0;
  let aged = 0;
  proxy.holdReads(true);
  // When each answer still held was held (the proxy lets the oldest go first), to let none wait past MAX_HOLD_MS.
  const heldAt: number[] = [];
  const release = () => {
    if (!proxy.releaseRead()) return false;
    heldAt.shift();
    released++;
    return true;
  };
  const keeper = (async () => {
    let last = proxy.readsHeld;
    let still = 0;
    while (on) {
      await ctx.sleep(TICK_MS);
      const now = proxy.readsHeld;
      for (let i = last; i < now; i++) heldAt.push(performance.now());
      // Answers the proxy dropped with their connection are no longer held.
      heldAt.splice(0, Math.max(0, heldAt.length - proxy.heldReads));
      still = now === last ? still + 1 : 0;
      last = now;
      if (proxy.heldReads === 0) continue;
      while (heldAt.length > 0 && performance.now() - heldAt[0]! > MAX_HOLD_MS && release()) aged++;
      // The proxy's connections are all the service's (it was started on the proxy); one may be in a transaction.
      if (proxy.heldReads >= proxy.connections - 1) dry++;
      else if (still < STILL_TICKS) continue;
      for (let i = 0; i < RELEASE_PER_TICK && release(); i++);
      still = 0;
    }
  })();
  return {
    async stop() {
      on = false;
      proxy.releaseReads();
      await keeper.catch(() => undefined);
      return { held: proxy.readsHeld - heldBefore, released, dry, aged };
    },
  };
}
