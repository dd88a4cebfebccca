// SE-F1..F2: kill -9 of the exchange and recovery by replaying its event log (a file log's tail torn at the first
// kill: log-torn-tail.ts); the same order submitted many times at once. After the kill everything the exchange
// answered before is read again and compared byte for byte, then trading continues and is checked against the
// model; the market-data stream's snapshot is graded against the log around each kill, and a graceful stop must
// close its subscribers with 1001.

import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import {
  type Account,
  CASH,
  type EventPage,
  freshSymbol,
  freshUser,
  fund,
  type LogEvent,
  lastSequence,
  type Order,
  okBody,
  readLog,
  type SeApi,
  seApi,
} from './api.ts';
import { visibleTo } from './gateway-events.ts';
import { startAfterTear, type Tear, tearEvidence, tearLogTail } from './log-torn-tail.ts';
import { MdClient, MdLog } from './md-client.ts';
import { expectSnapshotFromLog } from './md-log-snapshot.ts';
import { commandsArb, runSession, type Session } from './session.ts';

/** Every read the exchange offers about a session, as the exact bytes it answered (SE-F1, SE-F3). */
export async function snapshot(
  ctx: CheckContext,
  api: SeApi,
  s: Pick<Session, 'ids' | 'users' | 'symbol'>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const read = async (name: string, x: Promise<import('../../core/http-client.ts').Exchange>) => {
    const r = await x;
    ctx.expect(r.status === 200, `${name}: got ${r.status ?? r.error}`, r);
    out[name] = r.bodyText;
  };
  for (const id of s.ids) await read(`order ${id}`, api.order(id));
  for (const u of s.users) await read(`account ${u}`, api.account(u));
  for (const u of s.users) await read(`executions of ${u}`, api.executions({ symbol: s.symbol }, u));
  await read('L2', api.l2(s.symbol, 1000));
  for (const resolution of [1, 60]) await read(`candles ${resolution}`, api.candles({ symbol: s.symbol, resolution }));
  const log = await readLog(ctx, api, 1);
  out['event log'] = JSON.stringify(log.events);
  // Each user's view of the log with their key: exactly their own account's events (the operator's log filtered by
  // the spec's rule), whose order owners a recovery must know as well as before it.
  const owners = new Map(log.events.flatMap((e) => (e.type === 'new' ? [[e.orderId, e.userId] as const] : [])));
  for (const u of s.users) {
    const name = `the event log as ${u} reads it`;
    const mine: LogEvent[] = [];
    for (let at = 1, page = 0; page < 1000; page++) {
      const x = await api.events(at, 1000, { as: u });
      const p = okBody<EventPage>(ctx, x, 200, `${u} reading the event log from ${at} with their key`);
      mine.push(...p.events);
      if (p.events.length < 1000) break;
      at = p.events.at(-1)!.sequenceId + 1;
    }
    const expected = log.events.filter((e) => e.sequenceId <= log.last && visibleTo(u, e, owners));
    const got = mine.filter((e) => e.sequenceId <= log.last);
    ctx.expect(
      JSON.stringify(got) === JSON.stringify(expected),
      `${name}: ${JSON.stringify(got.map((e) => `${e.sequenceId} ${e.type}`)).slice(0, 400)}; their own events (deposits, orders, cancels of their orders, fills they are in) are ${JSON.stringify(expected.map((e) => `${e.sequenceId} ${e.type}`)).slice(0, 400)}`,
    );
    out[name] = JSON.stringify(got);
  }
  return out;
}

const RICH = { cash: 1_000_000_000, shares: 1_000_000 };

export async function killAndReplay(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const api = seApi(ctx);
  await sweepResting(ctx, api);
  // A log longer than one page of anything (1,000 events): recovery must read all of it, not its first page.
  const LONG_LOG = 1200;
  const filler = freshUser('f1l');
  for (let at = await lastSequence(ctx, api); at < LONG_LOG; at += 20)
    await Promise.all(
      Array.from({ length: 20 }, async () =>
        okBody(ctx, await api.deposit(filler, CASH, 1), 200, 'a deposit lengthening the log'),
      ),
    );
  // A seeded session with partial fills and cancels (the check's own seed: the same run replays it).
  const commands = fc.sample(commandsArb({ users: 3, minPrice: 98, maxPrice: 102, maxQuantity: 10 }, 40), {
    seed: ctx.seed,
    numRuns: 1,
  })[0]!;
  commands.push(
    { kind: 'place', user: 0, side: 'sell', price: 100, quantity: 5 },
    { kind: 'place', user: 1, side: 'buy', price: 101, quantity: 3 },
    { kind: 'place', user: 2, side: 'buy', price: 99, quantity: 4 },
    { kind: 'cancel', pick: Number.MAX_SAFE_INTEGER },
  );
  const s = await runSession(ctx, api, [RICH, RICH, RICH], commands, 'f1');
  // One cancel that surely succeeds (the session's may all meet filled orders): a buy at 1 cent rests, then goes.
  const rest = okBody<Order>(
    ctx,
    await api.place({ userId: s.users[0]!, symbol: s.symbol, side: 'buy', price: 1, quantity: 2 }),
    201,
    'placing a resting buy at 1 cent',
  );
  okBody(ctx, await api.cancel(rest.id), 200, 'cancelling it');
  s.ids.push(rest.id);
  // The market-data stream across restarts: its snapshots are graded against the log (subscribers' frames are
  // validated against the frame schemas; the log fails the check on any violation at the end).
  const md = new MdLog(ctx);
  try {
    await killRounds(ctx, api, s, md);
    await gracefulStop(ctx, api, s, md);
  } catch (e) {
    for (const c of md.clients) c.terminate();
    throw e;
  }
  md.finish();
  ctx.evidence.ordersCompared = s.ids.length;
}

/** Resting sells of one share each that one order sweeps; more than 2,000 (a batch size stores may choose). */
const SWEEP = { sellers: 25, each: 81, price: 100 };

/**
 * One order whose fills alone pass 2,000 events (a store writing events in batches must still write and answer it
 * whole): SWEEP.sellers x SWEEP.each resting sells (each seller under the order rate limit), then one buy of them all.
 * Its events are part of the log the kills below read back.
 */
async function sweepResting(ctx: CheckContext, api: SeApi): Promise<void> {
  const symbol = freshSymbol();
  const sellers = Array.from({ length: SWEEP.sellers }, (_, i) => freshUser(`f1s${i}`));
  await Promise.all(
    sellers.map(async (u) => {
      await fund(ctx, api, u, { [symbol]: SWEEP.each });
      for (let i = 0; i < SWEEP.each; i++)
        okBody(
          ctx,
          await api.place({ userId: u, symbol, side: 'sell', price: SWEEP.price, quantity: 1 }),
          201,
          'a resting sell of one share',
        );
    }),
  );
  const n = SWEEP.sellers * SWEEP.each;
  const taker = freshUser('f1t');
  await fund(ctx, api, taker, { [CASH]: n * SWEEP.price });
  const x = await api.place({ userId: taker, symbol, side: 'buy', price: SWEEP.price, quantity: n });
  const o = okBody<Order>(ctx, x, 201, `an order sweeping ${n} resting sells (${n + 1} events)`);
  ctx.expect(
    o.status === 'filled' && o.filledQuantity === n,
    `the order sweeping ${n} resting sells is ${o.status} with ${o.filledQuantity} filled, not filled with ${n}`,
    x,
  );
  ctx.evidence.sweptOrders = n;
}

/**
 * A graceful stop (the manifest's SIGTERM) with a subscriber open: it is closed with 1001 (going away), and after
 * the start the stream begins where the log says.
 */
async function gracefulStop(ctx: CheckContext, api: SeApi, s: Session, md: MdLog): Promise<void> {
  const watcher = await MdClient.open(ctx, md, s.symbol);
  ctx.expect(await watcher.until(() => watcher.frames.length > 0), 'a subscriber got no snapshot within 5 s');
  await ctx.target.stop();
  await watcher.until(() => watcher.closed !== null, timeLimit(5000));
  await ctx.target.start();
  ctx.changed('stopped (SIGTERM) and started the exchange');
  ctx.expect(
    watcher.closed?.code === 1001,
    `a graceful stop (SIGTERM) closed a subscriber with ${watcher.closed ? `${watcher.closed.code} ${JSON.stringify(watcher.closed.reason)}` : 'nothing'}, not 1001 (openapi.yaml subscribeMarketData: a stopping server closes with 1001)`,
  );
  ctx.evidence.closeOnStop = watcher.closed?.code ?? null;
  await expectSnapshotFromLog(ctx, api, md, s.symbol, 'after a graceful stop and start');
}

async function killRounds(ctx: CheckContext, api: SeApi, s: Session, md: MdLog): Promise<void> {
  const rounds = 2;
  let tear: Tear | string | null = null;
  for (let round = 1; round <= rounds; round++) {
    // Right before the kill: an order with a clientOrderId, then a sell that trades, so the log ends with a fill
    // (the sequence must resume after the fills, not after the last inbound event).
    const keyed = {
      userId: s.users[0]!,
      clientOrderId: `f1-${round}`,
      symbol: s.symbol,
      side: 'buy' as const,
      price: 1,
      quantity: 1,
    };
    const k = okBody<Order>(ctx, await api.place(keyed), 201, 'placing a buy at 1 cent with a clientOrderId');
    const sx = await api.place({ userId: s.users[1]!, symbol: s.symbol, side: 'sell', price: 1, quantity: 1 });
    const trade = okBody<Order>(ctx, sx, 201, 'a sell at 1 cent crossing the best bid');
    ctx.expect(trade.filledQuantity === 1, 'a sell at 1 cent did not trade with the best bid', sx);
    s.ids.push(k.id, trade.id);
    const before = await snapshot(ctx, api, s);
    const logged = JSON.parse(before['event log']!) as LogEvent[];
    const lastLogged = logged.at(-1)?.sequenceId ?? 0;
    const loggedOrderIds = new Set(logged.flatMap((e) => (e.type === 'new' ? [e.orderId] : [])));
    ctx.expect(logged.at(-1)?.type === 'fill', `the log before kill ${round} does not end with the fill just made`);
    const streamed = await expectSnapshotFromLog(ctx, api, md, s.symbol, `before kill -9 ${round}`);
    await ctx.target.kill();
    const down = await api.order(s.ids[0]!);
    ctx.expect(down.status === null, 'the exchange still answered after kill -9: the fault did not bite');
    // The first kill also leaves a torn write at the end of a file log (the second restart reads what came after).
    if (round === 1) {
      tear = tearLogTail(ctx, lastLogged + 1);
      ctx.evidence.tornTail = tearEvidence(tear);
    }
    await startAfterTear(ctx, tear, round);
    ctx.changed('killed (kill -9) and restarted the exchange');
    const after = await snapshot(ctx, api, s);
    for (const [name, bytes] of Object.entries(before))
      ctx.expect(
        after[name] === bytes,
        `after kill -9 ${round}, ${name} differs from before (the replay of the event log diverged):\n  before: ${bytes.slice(0, 600)}\n  after:  ${after[name]?.slice(0, 600)}`,
      );
    // The market data publisher rebuilt from the log: a new subscriber's snapshot is the one before the kill (the
    // same seq: it is a function of the log, as the frame schemas define it).
    const recovered = await expectSnapshotFromLog(ctx, api, md, s.symbol, `after kill -9 ${round}`);
    ctx.expect(
      JSON.stringify(recovered) === JSON.stringify(streamed),
      `after kill -9 ${round} a new subscriber's snapshot is ${JSON.stringify(recovered).slice(0, 400)}; before the kill it was ${JSON.stringify(streamed).slice(0, 400)}`,
    );
    // A retry of the keyed order after the restart is that order, not a new one (the clientOrderIds recovered).
    const retry = await api.place(keyed);
    ctx.expect(
      retry.status === 200 && (retry.body as Order).id === k.id,
      `after kill -9 ${round}, a retry of clientOrderId ${keyed.clientOrderId} answered ${retry.status ?? retry.error} order ${(retry.body as Order | undefined)?.id}, not 200 with order ${k.id}`,
      retry,
    );
    // Trading continues: the next order takes the next sequence ID and matches against the recovered book.
    const last = await lastSequence(ctx, api);
    ctx.expect(
      last === lastLogged,
      `after kill -9 ${round} the last sequence ID is ${last}; the log before the kill ended at ${lastLogged}`,
    );
    const more = await runSession(
      ctx,
      api,
      [RICH],
      [{ kind: 'place', user: 0, side: 'buy', price: 100, quantity: 1 }],
      'f1',
    );
    const o = okBody<Order>(ctx, await api.order(more.ids[0]!), 200, 'reading the order placed after the restart');
    ctx.expect(
      o.sequenceId > lastLogged,
      `an order placed after the restart got sequence ID ${o.sequenceId}, not after ${lastLogged} (the log before the kill)`,
    );
    ctx.expect(
      !loggedOrderIds.has(o.id),
      `an order placed after kill -9 ${round} got ID ${o.id}, which an order acknowledged before the kill has`,
    );
    await readLog(ctx, api, 1);
    // The recovered book still matches: a crossing order on the session's symbol trades with the best resting one.
    const l2 = okBody<{ asks: { price: number }[]; bids: { price: number }[] }>(
      ctx,
      await api.l2(s.symbol, 1),
      200,
      'L2',
    );
    if (l2.asks[0]) {
      const buyer = freshUser('f1');
      await fund(ctx, api, buyer, { [CASH]: 1_000_000 });
      const x = await api.place({ userId: buyer, symbol: s.symbol, side: 'buy', price: l2.asks[0].price, quantity: 1 });
      const t = okBody<Order>(ctx, x, 201, 'a buy crossing the recovered book');
      ctx.expect(t.filledQuantity === 1, `a buy at the recovered best ask ${l2.asks[0].price} did not trade`, x);
    }
  }
  ctx.evidence.kills = rounds;
}

/** SE-F2's cancels raced by a crossing sell. */
const CANCEL_RACES = 12;

export async function duplicateSubmissions(ctx: CheckContext): Promise<void> {
  const api = seApi(ctx);
  const copies = 16;
  const rounds = 4;
  for (let round = 0; round < rounds; round++) {
    const user = freshUser('f2');
    await fund(ctx, api, user, { [CASH]: 10_000_000 });
    const from = (await lastSequence(ctx, api)) + 1;
    const symbol = 'DUPE';
    const body = { userId: user, clientOrderId: `dup-${round}`, symbol, side: 'buy' as const, price: 1, quantity: 100 };
    const answers = await Promise.all(Array.from({ length: copies }, () => api.place(body)));
    const ids = new Set<number>();
    let created = 0;
    for (const x of answers) {
      ctx.expect(x.status === 201 || x.status === 200, `a duplicate submission answered ${x.status ?? x.error}`, x);
      if (x.status === 201) created++;
      ids.add((x.body as Order).id);
    }
    ctx.expect(
      ids.size === 1 && created === 1,
      `${copies} submissions with one clientOrderId created ${ids.size} orders (${created} answered 201)`,
    );
    const a = okBody<Account>(ctx, await api.account(user), 200, 'reading the account');
    const cash = a.balances.find((b) => b.asset === CASH);
    ctx.expect(cash?.held === 100, `the order's hold of 100 cents is held as ${cash?.held}`);
    const page = okBody<EventPage>(ctx, await api.events(from, 1000), 200, 'reading the log');
    const news = page.events.filter((e) => e.type === 'new' && e.userId === user);
    ctx.expect(news.length === 1, `the order was sequenced ${news.length} times`);
  }
  ctx.evidence.copies = copies;
  ctx.evidence.rounds = rounds;
  ctx.evidence.cancelRaces = await cancelRacingFill(ctx, api);
}

/**
 * A cancel of a resting bid and a sell that would fill all of it, sent at once, in CANCEL_RACES rounds. Either may
 * come first, but the answers must agree with one order of the two: the cancel answered 200 means the bid left the
 * book before any fill (it reads canceled, nothing filled), and a bid the sell filled means the cancel was 409
 * order_not_open. A cancel answered once its write is stored but applied to the book only then lets a sell that
 * arrives meanwhile fill an order its cancel is about to report canceled (blind bug cancel-applied-after-stored).
 */
async function cancelRacingFill(ctx: CheckContext, api: SeApi): Promise<Record<string, number>> {
  const symbol = freshSymbol();
  const buyer = freshUser('f2c');
  const seller = freshUser('f2s');
  await fund(ctx, api, buyer, { [CASH]: 10_000_000 });
  await fund(ctx, api, seller, { [symbol]: 10_000 });
  const tally = { canceled: 0, filled: 0 };
  for (let round = 0; round < CANCEL_RACES; round++) {
    // A lower price each round: the sells left resting by earlier rounds never meet this round's bid.
    const price = 1_000 - round;
    const bid = okBody<Order>(
      ctx,
      await api.place({ userId: buyer, symbol, side: 'buy', price, quantity: 5 }),
      201,
      'placing the bid to cancel',
    );
    const [cancel, sell] = await Promise.all([
      api.cancel(bid.id),
      api.place({ userId: seller, symbol, side: 'sell', price, quantity: 5 }),
    ]);
    ctx.expect(sell.status === 201, `the sell sent with the cancel answered ${sell.status ?? sell.error}`, sell);
    const read = okBody<Order>(ctx, await api.order(bid.id), 200, 'reading the bid back');
    if (cancel.status === 200) {
      tally.canceled++;
      ctx.expect(
        read.status === 'canceled' && read.filledQuantity === 0,
        `round ${round + 1}: the cancel of bid ${bid.id} answered 200, but the bid reads ${read.status} with ${read.filledQuantity} filled: the sell sent with the cancel filled an order its cancel reported canceled`,
        cancel,
      );
    } else {
      ctx.expect(
        cancel.status === 409,
        `round ${round + 1}: the cancel of bid ${bid.id} sent with a crossing sell answered ${cancel.status ?? cancel.error}, not 200 or 409`,
        cancel,
      );
      tally.filled++;
      ctx.expect(
        read.status === 'filled',
        `round ${round + 1}: the cancel of bid ${bid.id} answered 409 (not open), but the bid reads ${read.status}`,
        cancel,
      );
    }
  }
  return tally;
}
