// SE-F5: the event store's answer to a write never comes, while more writes wait behind it. The target reaches its
// PostgreSQL through the wire-protocol proxy (harness/faults/pg-wire-proxy.ts, `holdReads`): the exchange's next
// statement after the hold reaches PostgreSQL and runs (an INSERT sent alone commits), and its answer waits in the
// proxy for as long as the check likes, as on a link that hangs. SE-F3's crash and SE-F4's reset land between
// requests; here the write landed and its client cannot know, and an order, a deposit and a cancel come in while the
// exchange waits on it (an implementation that batches them behind the first write must answer them all the same).
// Survive means (openapi.yaml, "The event log unavailable"; README fault 5): every write answered within the hang
// bound, acknowledged or 503 `unavailable` with Retry-After (never a hang, even for the writes queued behind);
// trading resumes on its own; every write acknowledged is in the log as answered, an order answered 503 is absent
// (its retry 201) or in the log (its retry 200 with it), a cancel's order is canceled exactly when the log holds
// the cancel; a subscriber's stream through it ends at the seq the log implies and at the REST book (the first
// write, which landed, published like any other); a kill -9 and restart read back the same state.
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import {
  CASH,
  freshSymbol,
  freshUser,
  fund,
  type NewOrder,
  type Order,
  okBody,
  patient,
  readLog,
  seApi,
} from './api.ts';
import { snapshot } from './faults.ts';
import { awaitWrites } from './log-lost-write.ts';
import { expectDocumented, expectLogHoldsAcknowledged, type Sent } from './log-outage.ts';
import { same, show } from './md-check-kit.ts';
import { MdClient, MdLog, replay } from './md-client.ts';
import { seqFromLog } from './md-log-snapshot.ts';

const FUNDS = 1_000_000;
const QUEUED_DEPOSIT = 777;
/** The resting sell the first order takes from, and the resting buy whose cancel comes while the exchange waits. */
const ASK = { price: 100, quantity: 10 };
const BID = { price: 50, quantity: 10 };

export async function lostAnswer(ctx: CheckContext): Promise<void> {
  await withPgWireProxy(ctx, 'a PostgreSQL-protocol proxy that holds answers', (proxy) => holdAnswer(ctx, proxy));
}

async function holdAnswer(ctx: CheckContext, proxy: PgWireProxy): Promise<void> {
  const api = seApi(ctx, patient(ctx));
  const symbol = freshSymbol();
  const buyer = freshUser('f5b');
  const seller = freshUser('f5s');
  await fund(ctx, api, buyer, { [CASH]: FUNDS });
  await fund(ctx, api, seller, { [symbol]: 100 });
  okBody<Order>(ctx, await api.place({ userId: seller, symbol, side: 'sell', ...ASK }), 201, 'placing the ask');
  const bid = okBody<Order>(ctx, await api.place({ userId: buyer, symbol, side: 'buy', ...BID }), 201, 'the bid');
  const md = new MdLog(ctx);
  try {
    const watcher = await MdClient.open(ctx, md, symbol);
    // The first order takes 4 of the ask (one fill); the second, queued behind it, would take 3 more.
    const first: NewOrder = { userId: buyer, clientOrderId: 'f5-first', symbol, side: 'buy', price: 100, quantity: 4 };
    const second: NewOrder = { ...first, clientOrderId: 'f5-second', quantity: 3 };
    proxy.holdReads(true);
    const firstAnswer = api.place(first);
    const at = performance.now();
    while (proxy.heldReads === 0 && performance.now() - at < timeLimit(5000)) await sleep(10);
    proxy.holdReads(false); // one answer held: the reconnection and everything after it pass
    if (proxy.heldReads === 0) {
      await firstAnswer;
      ctx.skip(
        'the exchange sent PostgreSQL no statement outside a transaction block for an order within 5 s, so no answer could be held (the proxy holds a statement that commits alone)',
      );
    }
    // Sent while the first write's answer is awaited: each one's write can only follow it.
    const queued = [
      { what: 'an order sent while the first write was unanswered', order: second, x: api.place(second) },
      { what: 'a deposit sent while the first write was unanswered', x: api.deposit(buyer, CASH, QUEUED_DEPOSIT) },
      {
        what: `a cancel of the bid ${bid.id} sent while the first write was unanswered`,
        cancelOf: bid.id,
        x: api.cancel(bid.id),
      },
    ];
    const sent: Sent[] = [
      { phase: 'down', what: 'the order whose write went unanswered', order: first, x: await firstAnswer },
    ];
    for (const q of queued) sent.push({ ...q, phase: 'down', x: await q.x });
    for (const s of sent) expectDocumented(ctx, s);
    ctx.evidence.answers = sent.map((s) => `${s.what}: ${s.x.status ?? s.x.error} in ${Math.round(s.x.durationMs)} ms`);
    ctx.expect(
      sent[0]!.x.status !== 201,
      'the order whose write PostgreSQL never answered was acknowledged (201): the fault did not bite',
      sent[0]!.x,
    );
    const probes = await awaitWrites(ctx, api, buyer, 1);

    // Retries of the orders answered 503: each not placed (201 now) or in the log (200 with it).
    const retried: Sent[] = [];
    for (const s of sent.filter((s) => s.order && s.x.status === 503))
      retried.push({ ...s, phase: 'back', what: `${s.what}, retried`, x: await api.place(s.order!) });
    const { events } = await readLog(ctx, api, 1); // fails on any gap
    expectLogHoldsAcknowledged(
      ctx,
      [...sent, ...retried].filter((s) => s.order || s.cancelOf !== undefined),
      events,
    );
    ctx.evidence.firstWriteLanded = events.some(
      (e) => e.type === 'new' && e.userId === buyer && e.clientOrderId === 'f5-first',
    );
    const cancelLogged = events.some((e) => e.type === 'cancel' && e.orderId === bid.id);
    const read = okBody<Order>(ctx, await api.order(bid.id), 200, 'reading the bid back');
    ctx.expect(
      (read.status === 'canceled') === cancelLogged,
      `the bid ${bid.id} reads ${read.status}, but the event log ${cancelLogged ? 'holds' : 'holds no'} cancel of it (its cancel answered ${sent[3]!.x.status ?? sent[3]!.x.error})`,
      sent[3]!.x,
    );
    const deposited = events.filter((e) => e.type === 'deposit' && e.userId === buyer && e.amount === QUEUED_DEPOSIT);
    ctx.expect(
      sent[2]!.x.status !== 200 || deposited.length === 1,
      `the deposit of ${QUEUED_DEPOSIT} was acknowledged (200) but the event log holds ${deposited.length} of it`,
      sent[2]!.x,
    );
    ctx.evidence.probes = probes;

    // The stream through it: the seq the log implies (the first write landed, so it is published), the REST book.
    const want = seqFromLog(events, symbol);
    await watcher.until(() => replay(watcher.frames, symbol).lastSeq >= want, timeLimit(5000));
    const r = replay(watcher.frames, symbol);
    ctx.expect(r.errors.length === 0, `the market-data stream through it: ${r.errors.slice(0, 3).join('; ')}`);
    ctx.expect(r.lastSeq === want, `the stream ended at seq ${r.lastSeq}; the event log implies ${want}`);
    const l2 = await api.l2(symbol, 1000);
    const book = l2.body as { bids: unknown; asks: unknown };
    ctx.expect(
      same({ bids: r.bids, asks: r.asks }, { bids: book.bids, asks: book.asks }),
      `the book the stream gave is ${show({ bids: r.bids, asks: r.asks })}; the REST L2 book is ${show(book)}`,
      l2,
    );
    watcher.close();

    // The state answered was the log's: read back the same after a kill -9 and a restart.
    const ids = [
      bid.id,
      ...[...sent, ...retried].flatMap((s) => (s.order && s.x.status === 201 ? [(s.x.body as Order).id] : [])),
    ];
    const session = { symbol, users: [buyer, seller], ids };
    const before = await snapshot(ctx, api, session);
    await ctx.target.kill();
    await ctx.target.start();
    ctx.changed('killed (kill -9) and restarted the exchange behind the PostgreSQL proxy');
    const after = await snapshot(ctx, api, session);
    for (const [name, bytes] of Object.entries(before))
      ctx.expect(
        after[name] === bytes,
        `after a kill -9, ${name} differs from before (the exchange answered a state the log does not hold):\n  before: ${bytes.slice(0, 600)}\n  after:  ${after[name]?.slice(0, 600)}`,
      );
  } catch (e) {
    for (const c of md.clients) c.terminate();
    throw e;
  }
  md.finish();
}
