// SE-F3: the event store's PostgreSQL crashes under trading and comes back. The target is pointed at a PostgreSQL
// cluster the harness owns (harness/faults/private-postgres.ts), killed as a crash kills it (`pg_ctl stop -m
// immediate`) while four users trade, and started again. Survive means (openapi.yaml, "The event log unavailable";
// README fault 3): every write answered meanwhile is acknowledged, refused as documented, or 503 `unavailable` with
// Retry-After, never a 500 or a hang, and at least one is 503 (the fault bit); reads go on answering; trading resumes
// within DB_BACK_BOUND_MS of the restart; then every order and cancel acknowledged is in the log, which has no gap,
// each order answered 503 is absent (its retry with the same clientOrderId is 201) or in the log (the retry 200
// with it), a subscriber's stream through the outage has no gap and ends at the REST book, and a kill -9 and restart
// read back every order, account, execution, the book, the candles and the log byte for byte.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PrivatePostgres } from '../../faults/private-postgres.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import { CASH, freshSymbol, freshUser, fund, type LogEvent, type NewOrder, type Order, readLog, seApi } from './api.ts';
import { snapshot } from './faults.ts';
import { same, show } from './md-check-kit.ts';
import { MdClient, MdLog, replay } from './md-client.ts';
import { expectSnapshotFromLog, seqFromLog } from './md-log-snapshot.ts';

/** After PostgreSQL is back, an order is acknowledged again within this (the check's stated bound). */
const DB_BACK_BOUND_MS = 10_000;
/** How long trading goes on before the crash, and the server stays down. */
const BEFORE_MS = 1000;
const DOWN_MS = 2500;
/** Between one user's requests: four users stay well within the default rate limit (100 per second each). */
const PACE_MS = 30;
const RETRY_AFTER = /^[1-9][0-9]*$/;

export type Phase = 'before' | 'down' | 'back';
export interface Sent {
  phase: Phase;
  what: string;
  order?: NewOrder;
  cancelOf?: number;
  x: Exchange;
}

export async function eventLogOutage(ctx: CheckContext): Promise<void> {
  await withPrivatePostgres(ctx, (pg) => tradeThroughCrash(ctx, pg));
}

async function tradeThroughCrash(ctx: CheckContext, pg: PrivatePostgres): Promise<void> {
  const api = seApi(ctx);
  const symbol = freshSymbol();
  const users = Array.from({ length: 4 }, (_, i) => freshUser(`f3${i}`));
  for (const u of users) await fund(ctx, api, u, { [CASH]: 1_000_000_000, [symbol]: 1_000_000 });
  const md = new MdLog(ctx);
  try {
    const watcher = await MdClient.open(ctx, md, symbol);
    const sent: Sent[] = [];
    let phase: Phase = 'before';
    let stop = false;
    const resumed = new Set<string>();
    // Each user alternates buys and sells around 100 (so they match, rest and partly fill) and cancels its last
    // order every third request; every order has a clientOrderId, so a 503 can be asked about afterwards.
    const trader = async (u: string, w: number) => {
      let last: number | undefined;
      for (let n = 0; !stop; n++) {
        const at = phase;
        if (n % 3 === 2 && last !== undefined) {
          sent.push({ phase: at, what: `${u} cancelling ${last}`, cancelOf: last, x: await api.cancel(last) });
        } else {
          const side = (n + w) % 2 === 0 ? 'buy' : 'sell';
          const order: NewOrder = {
            userId: u,
            clientOrderId: `f3-${n}`,
            symbol,
            side,
            price: 100 + (side === 'buy' ? 1 : -1) * ((n * 7 + w) % 4) - 1,
            quantity: 1 + ((n + w) % 5),
          };
          const x = await api.place(order);
          sent.push({ phase: at, what: `${u} placing ${order.clientOrderId}`, order, x });
          if (x.status === 201) last = (x.body as Order).id;
          if (at === 'back' && x.status === 201) resumed.add(u);
        }
        await sleep(PACE_MS);
      }
    };
    const traders = users.map((u, w) => trader(u, w));
    const reads: Exchange[] = [];
    try {
      await sleep(BEFORE_MS);
      await pg.crash();
      phase = 'down';
      const downAt = performance.now();
      // Reads go on answering from what the log holds while it is away.
      while (performance.now() - downAt < DOWN_MS) {
        const acked = sent.find((s) => s.x.status === 201);
        if (acked) reads.push(await api.order((acked.x.body as Order).id));
        reads.push(await api.l2(symbol));
        await sleep(200);
      }
      await pg.start();
      phase = 'back';
      const back = performance.now();
      const bound = checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS);
      while (resumed.size < users.length && performance.now() - back < bound) await sleep(100);
      ctx.evidence.resumedAfterMs = Math.round(performance.now() - back);
      ctx.expect(
        resumed.size === users.length,
        `within ${DB_BACK_BOUND_MS} ms of PostgreSQL coming back, ${users.length - resumed.size} of ${users.length} traders had no order acknowledged (201): trading did not resume`,
      );
      await sleep(500);
    } finally {
      stop = true;
      await Promise.all(traders);
    }
    const tally: Record<string, number> = {};
    for (const s of sent) {
      const x = s.x;
      const k = `${s.phase} ${x.status ?? x.error}`;
      tally[k] = (tally[k] ?? 0) + 1;
      expectDocumented(ctx, s);
    }
    ctx.evidence.answers = tally;
    ctx.expect(
      sent.some((s) => s.phase === 'down' && s.x.status === 503),
      'no order or cancel answered 503 while PostgreSQL was down: the fault did not bite',
    );
    for (const r of reads)
      ctx.expect(r.status === 200, `a read while the event log was away answered ${r.status ?? r.error}, not 200`, r);

    // Retries of the orders answered 503: each was not placed (201 now) or is in the log (200 with it).
    const retried: Sent[] = [];
    for (const s of sent.filter((s) => s.order && s.x.status === 503)) {
      retried.push({ ...s, what: `${s.what} again`, x: await api.place(s.order!) });
      await sleep(PACE_MS / users.length);
    }
    const { events } = await readLog(ctx, api, 1); // fails on any gap in the sequence
    expectLogHoldsAcknowledged(ctx, [...sent, ...retried], events);
    ctx.evidence.retriedAfter503 = retried.length;
    ctx.evidence.stoodAfter503 = retried.filter((r) => r.x.status === 200).length;

    // The stream through the outage: no gap, at the seq the log implies, its book the REST book.
    const want = seqFromLog(events, symbol);
    await watcher.until(() => replay(watcher.frames, symbol).lastSeq >= want, timeLimit(5000));
    const r = replay(watcher.frames, symbol);
    ctx.expect(r.errors.length === 0, `the market-data stream through the outage: ${r.errors.slice(0, 3).join('; ')}`);
    ctx.expect(r.lastSeq === want, `the stream ended at seq ${r.lastSeq}; the event log implies ${want}`);
    const l2 = await api.l2(symbol, 1000);
    const book = l2.body as { bids: unknown; asks: unknown };
    ctx.expect(
      same({ bids: r.bids, asks: r.asks }, { bids: book.bids, asks: book.asks }),
      `the book the stream gave through the outage is ${show({ bids: r.bids, asks: r.asks }).slice(0, 400)}; the REST L2 book is ${show(book).slice(0, 400)}`,
      l2,
    );
    watcher.close();

    // Everything read back the same after kill -9 and a restart: the state answered was the log's.
    const ids = [
      ...new Set([...sent, ...retried].flatMap((s) => (s.x.status === 201 ? [(s.x.body as Order).id] : []))),
    ];
    const session = { symbol, users, ids };
    const before = await snapshot(ctx, api, session);
    await ctx.target.kill();
    await ctx.target.start();
    ctx.changed('killed (kill -9) and restarted the exchange on the PostgreSQL that had crashed');
    const after = await snapshot(ctx, api, session);
    for (const [name, bytes] of Object.entries(before))
      ctx.expect(
        after[name] === bytes,
        `after the outage and a kill -9, ${name} differs from before (the exchange answered a state the log does not hold):\n  before: ${bytes.slice(0, 600)}\n  after:  ${after[name]?.slice(0, 600)}`,
      );
    // A new subscriber after it: the snapshot, top and day's candle at the seq the log implies.
    await expectSnapshotFromLog(ctx, api, md, symbol, 'after the outage and a kill -9');
    ctx.evidence.ordersCompared = ids.length;
  } catch (e) {
    for (const c of md.clients) c.terminate();
    throw e;
  }
  md.finish();
}

/** One write's answer (SE-F3, SE-F5): acknowledged, refused as documented, or 503 unavailable with Retry-After; never slow. */
export function expectDocumented(ctx: CheckContext, s: Sent): void {
  const x = s.x;
  const ok = s.order ? [200, 201, 422, 429, 503] : [200, 404, 409, 429, 503];
  ctx.expect(
    x.status !== null && ok.includes(x.status),
    `${s.what} (${s.phase}) answered ${x.status ?? x.error}, not ${ok.join(', ')}`,
    x,
  );
  ctx.expect(
    x.durationMs < timeLimit(15_000),
    `${s.what} (${s.phase}) took ${Math.round(x.durationMs)} ms (a hang)`,
    x,
  );
  if (x.status !== 503) return;
  ctx.expect(
    (x.body as { code?: string } | undefined)?.code === 'unavailable',
    `${s.what} answered 503 with code ${(x.body as { code?: string } | undefined)?.code}, not unavailable`,
    x,
  );
  ctx.expect(
    RETRY_AFTER.test(x.headers['retry-after'] ?? ''),
    `${s.what}'s 503 says Retry-After: ${x.headers['retry-after'] ?? '(none)'}, not whole seconds of at least 1`,
    x,
  );
}

/** Every order and cancel acknowledged is in the log as answered; an order answered 503 and retried is consistent. */
export function expectLogHoldsAcknowledged(
  ctx: CheckContext,
  sent: readonly Sent[],
  events: readonly LogEvent[],
): void {
  const news = new Map<number, LogEvent & { type: 'new' }>();
  const cancels = new Set<number>();
  for (const e of events)
    if (e.type === 'new') news.set(e.orderId, e as LogEvent & { type: 'new' });
    else if (e.type === 'cancel') cancels.add(e.orderId);
  for (const s of sent) {
    if (s.x.status !== 200 && s.x.status !== 201) continue;
    if (s.cancelOf !== undefined) {
      ctx.expect(cancels.has(s.cancelOf), `${s.what} was acknowledged (200) but the log holds no cancel of it`, s.x);
      continue;
    }
    const o = s.x.body as Order;
    const e = news.get(o.id);
    const fields = (v: Partial<Order>) =>
      show([v.userId, v.clientOrderId, v.symbol, v.side, v.price, v.quantity, v.sequenceId]);
    ctx.expect(
      e !== undefined && fields(o) === fields({ ...e, sequenceId: e.sequenceId } as Partial<Order>),
      `${s.what} (${s.phase}) was answered ${s.x.status} with order ${o.id} ${fields(o)}, which the event log ${e ? `holds as ${fields(e as Partial<Order>)}` : 'does not hold'}`,
      s.x,
    );
  }
}
