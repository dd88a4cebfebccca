// PAY-F5's second outage: many transactions broken at once. A connection that breaks inside a transaction must be
// given back to the pool (which discards it) or replaced; a service that keeps such a client checked out loses one
// connection per broken transaction, and once an outage has broken as many as its pool holds it answers 503 for
// good, though PostgreSQL is back (blind bug `pg-client-leak-on-error`). One cut while a couple of requests run breaks
// too few to show it, so here the link is first slowed until the database holds many of the service's transactions
// open at once (read from pg_stat_activity, not guessed from a sleep), and then cut.

import pg from 'pg';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import type { DependencyHandle } from '../../core/target.ts';
import { newEvent, type PaymentEvent, payApi } from './api.ts';
import { answersAgain } from './db-restart.ts';
import { orderIds } from './flow.ts';

/** Concurrent createPayment requests sent into the slowed link: more than a pool of 20 (the usual default) holds. */
const BURST = 48;
/** The latency added to each direction's data on the database link while the burst piles up. */
const SLOW_MS = 600;
/** Open transactions to wait for before the cut: as many as the reference's pool (20) could leak. */
const OPEN_WANTED = 20;
/**
 * Else the cut comes this long after the burst was sent, with what is open then (a smaller pool is full; a loaded
 * machine makes the slowed connections slowly: at load 20 the count has stayed at 2 for 6 s before jumping to 19).
 * Not scaled: the burst's requests must still be waiting for their answers (the harness gives each 15 s).
 */
const CUT_BY_MS = 12_000;

export async function breakManyTransactions(ctx: CheckContext, db: DependencyHandle): Promise<void> {
  const api = payApi(ctx);
  const slow = await db.addToxic({ type: 'latency', attributes: { latency: SLOW_MS } });
  let removed = false;
  const unslow = async () => {
    if (!removed) await db.removeToxic(slow);
    removed = true;
  };
  let burst: Promise<{ event: ReturnType<typeof newEvent>; x: Exchange }>[] = [];
  try {
    burst = Array.from({ length: BURST }, (_, i) => {
      const event = newEvent(`f5d_${i}`, ['3.10']);
      return api.create(event).then((x) => ({ event, x }));
    });
    const open = await waitOpenTransactions(ctx, db.url);
    ctx.evidence.openTransactionsAtCut = open;
    await db.setReachable(false);
    await sleep(300);
    await unslow();
  } finally {
    await unslow().catch(() => {});
    await db.setReachable(true);
  }
  const back = Date.now();
  const answers = await Promise.all(burst);
  ctx.evidence.burstStatuses = countBy(answers.map((a) => String(a.x.status ?? a.x.error)));
  for (const { x } of answers)
    ctx.expect(
      x.status === 201 || x.status === 503,
      `createPayment answered ${x.status ?? x.error} when its transaction's connection was cut, not 201 or 503`,
      x,
    );
  ctx.expect(
    answers.some((a) => a.x.status === 503),
    `no createPayment of the burst answered 503 when ${ctx.evidence.openTransactionsAtCut} open transactions were cut: the fault did not bite`,
  );
  ctx.evidence.answersAgainAfterBurstMs = await answersAgain(ctx, api, back, 'f5e');
  // Acknowledged is durable: each event of the burst answered 201 is there.
  const acknowledged = answers.filter((a) => a.x.status === 201).map((a) => a.x.body as PaymentEvent);
  for (const id of orderIds(acknowledged)) {
    const x = await api.order(id);
    ctx.expect(x.status === 200, `payment order ${id}, acknowledged with 201 before the cut, is gone (${x.status})`, x);
  }
}

/**
 * Polls the service's database (through the same slowed link) for its open transactions until OPEN_WANTED are open
 * or CUT_BY_MS has passed; returns the count at the last poll. A link too slow to show any is an error.
 */
async function waitOpenTransactions(ctx: CheckContext, url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = Date.now();
    const deadline = started + CUT_BY_MS;
    let best = 0;
    while (Date.now() < deadline) {
      const r = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
      );
      const n = r.rows[0]?.n ?? 0;
      ctx.log(`open transactions of the service: ${n}`);
      if (n >= OPEN_WANTED) return n;
      best = n;
    }
    if (best === 0)
      throw new Error(`no transaction of the service was open on the slowed database link within ${CUT_BY_MS} ms`);
    return best;
  } finally {
    await client.end().catch(() => {});
  }
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
