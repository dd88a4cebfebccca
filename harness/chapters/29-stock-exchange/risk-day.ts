// SE-F6: the daily risk limit across a UTC midnight, on the exchange's clock held by the harness (clock control, as
// chapter 08's: openapi.yaml's info). A minute before midnight a user orders the day's 1,000,000 shares of a symbol;
// in the day's last second one more is still refused; at 00:00:00 the next day the count has started again. The log
// must agree (each order counted in the UTC day of its sequenced time), and so must its replay after a kill -9: the
// day comes from the sequenced time, never from the clock at replay. The clock only moves forward (the sequencer's
// time never goes back, so a step back would stall it) and is left running on from the last instant held.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import {
  type Account,
  CASH,
  DAILY_LIMIT,
  freshSymbol,
  freshUser,
  fund,
  lastSequence,
  type NewOrder,
  type Order,
  okBody,
  readLog,
  type SeApi,
  seApi,
} from './api.ts';

export const CLOCK_FILE = 'faketime.rc';
const DAY_MS = 86_400_000;
/** How far ahead of the exchange's time the midnight must be, so that a hold a minute before it is still ahead. */
const LEAD_MS = 120_000;

const iso = (ms: number) => new Date(ms).toISOString();
const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

/** The exchange's clock file: held at UTC seconds (libfaketime's absolute form), then let run from the last one. */
class ClockFile {
  last: number | null = null;
  constructor(private readonly file: string) {}

  hold(at: number): void {
    this.write(iso(at).slice(0, 19).replace('T', ' '));
    this.last = at;
  }

  /** Lets the clock run on from the last instant held (a relative offset to the host's); returns the offset, ms. */
  release(): number {
    if (this.last === null) return 0;
    const ahead = this.last - Date.now();
    this.write(`${ahead < 0 ? '-' : '+'}${(Math.abs(ahead) / 1000).toFixed(3)}`);
    return ahead;
  }

  private write(text: string): void {
    // Whole or not at all: a reader polling the file never sees half a line.
    writeFileSync(`${this.file}.tmp`, `${text}\n`);
    renameSync(`${this.file}.tmp`, this.file);
  }
}

export async function riskDayRollover(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const dir = ctx.target.dataDir?.();
  if (!dir) ctx.skip(`holding the clock needs the data directory of a manifest-started node (${CLOCK_FILE})`);
  const declared = ctx.setting('clockControl', false);
  const api = seApi(ctx);
  const clock = new ClockFile(join(dir, CLOCK_FILE));
  try {
    await acrossMidnight(ctx, api, clock, declared);
  } finally {
    const ahead = clock.release();
    if (clock.last !== null)
      ctx.changed(
        `left the exchange's clock running from ${iso(clock.last)}, ${(ahead / 3_600_000).toFixed(1)} h ahead of the host's (${CLOCK_FILE})`,
      );
  }
}

async function acrossMidnight(ctx: CheckContext, api: SeApi, clock: ClockFile, declared: boolean): Promise<void> {
  const trader = freshUser('f6');
  const prober = freshUser('f6-probe');
  const [symbol, other, probeSymbol] = [freshSymbol(), freshSymbol(), freshSymbol()];
  await fund(ctx, api, trader, { [CASH]: 3 * DAILY_LIMIT });
  await fund(ctx, api, prober, { [CASH]: 10_000 });
  const from = (await lastSequence(ctx, api)) + 1;
  // A probe is one share at a cent on a symbol of its own: its creationTime is the sequencer's time.
  const probe = async (): Promise<number> => {
    const o = { userId: prober, symbol: probeSymbol, side: 'buy' as const, price: 1, quantity: 1 };
    return okBody<Order>(ctx, await api.place(o), 201, 'a probe order (one share at a cent)').creationTime;
  };
  const probes: number[] = []; // per hold, the probes it took to show
  /** Holds the clock at `at` and waits until an order is stamped there; the last probe's time otherwise. */
  const holdAt = async (at: number): Promise<number> => {
    clock.hold(at);
    const deadline = Date.now() + timeLimit(3000);
    probes.push(0);
    for (;;) {
      probes[probes.length - 1]!++;
      const t = await probe();
      if (t === at || Date.now() >= deadline) return t;
      await ctx.sleep(50);
    }
  };
  const midnight = (dayOf((await probe()) + LEAD_MS) + 1) * DAY_MS;
  const [lastMinute, lastSecond] = [midnight - 60_000, midnight - 1000];
  ctx.evidence.midnight = iso(midnight);
  ctx.evidence.probesPerHold = probes;

  const reached = await holdAt(lastMinute);
  if (reached !== lastMinute) {
    const why = `the exchange's clock, held at ${iso(lastMinute)} through ${CLOCK_FILE} in its data directory, did not show in its orders within 3 s, scaled (the last stamped ${iso(reached)})`;
    if (declared)
      ctx.fail(
        `${why}, though the target declares clockControl: it must follow the file (openapi.yaml, Clock control)`,
      );
    ctx.skip(
      `${why}: run it under libfaketime with FAKETIME_TIMESTAMP_FILE=\${dataDir}/${CLOCK_FILE} (FAKETIME_NO_CACHE=1, TZ=UTC), or read that file; the target does not declare clockControl`,
    );
  }
  const buy = (s: string, quantity: number): NewOrder => ({
    userId: trader,
    symbol: s,
    side: 'buy',
    price: 1,
    quantity,
  });
  const place = async (s: string, quantity: number, what: string): Promise<Order> =>
    okBody<Order>(ctx, await api.place(buy(s, quantity)), 201, what);
  const refused = async (when: string, ordered: number) => {
    const before = await lastSequence(ctx, api);
    const x = await api.place(buy(symbol, 1));
    ctx.expect(
      x.status === 422,
      `${when}, one more share after ${ordered} ordered that day answered ${x.status ?? x.error}, not 422 risk_limit_exceeded`,
      x,
    );
    ctx.expectStatus(x, 422, 'risk_limit_exceeded');
    ctx.expect((await lastSequence(ctx, api)) === before, `${when}, an order refused by the risk check was sequenced`);
  };
  const tradedToday = async (when: string, want: Record<string, number>) => {
    const a = okBody<Account>(ctx, await api.account(trader), 200, `reading the account ${when}`);
    const expected = Object.entries(want)
      .map(([s, quantity]) => ({ symbol: s, quantity }))
      .sort((p, q) => (p.symbol < q.symbol ? -1 : 1));
    ctx.expect(
      JSON.stringify(a.tradedToday) === JSON.stringify(expected),
      `${when}, tradedToday is ${JSON.stringify(a.tradedToday)}, not ${JSON.stringify(expected)} (the UTC day of the exchange's time)`,
    );
  };

  // The day's limit a minute before its end: a canceled order still counts, the limit itself is allowed.
  const day1 = [await place(symbol, 600_000, 'ordering 600,000 shares at 23:59:00')];
  const canceled = await place(symbol, 399_999, 'ordering 399,999 more at 23:59:00');
  okBody(ctx, await api.cancel(canceled.id), 200, 'cancelling it (it still counts)');
  day1.push(canceled, await place(symbol, 1, 'ordering the 1,000,000th share at 23:59:00'));
  day1.push(await place(other, 10, 'ordering 10 shares of another symbol at 23:59:00'));
  await refused('at 23:59:00', DAILY_LIMIT);
  await tradedToday('at 23:59:00', { [symbol]: DAILY_LIMIT, [other]: 10 });
  expectStampedAt(ctx, await holdAt(lastSecond), lastSecond);
  await refused(`at ${iso(lastSecond)} (the day's last second)`, DAILY_LIMIT);
  await tradedToday('at 23:59:59', { [symbol]: DAILY_LIMIT, [other]: 10 });

  // The next day: its count starts at 00:00:00.000.
  expectStampedAt(ctx, await holdAt(midnight), midnight);
  await tradedToday(`at ${iso(midnight)}, before any order that day`, {});
  const day2 = [await place(symbol, 400_000, `ordering 400,000 shares at ${iso(midnight)}, a new day`)];
  await tradedToday('after it', { [symbol]: 400_000 });
  const logged = await expectLogCounts(ctx, api, from, trader, [...day1, ...day2]);

  // The replay: the clock still stands at the new day, the log holds both; each order counts in its own day.
  await ctx.target.kill();
  await ctx.target.start();
  ctx.changed('killed (kill -9) and restarted the exchange');
  const replayed = await readLog(ctx, api, from);
  ctx.expect(
    JSON.stringify(replayed.events.slice(0, logged.length)) === JSON.stringify(logged),
    `after kill -9 the event log from ${from} differs from before (${replayed.events.length} events, ${logged.length} before)`,
  );
  await tradedToday('after kill -9 and the replay of the log', { [symbol]: 400_000 });
  day2.push(await place(symbol, 600_000, 'after the replay, ordering the rest of the new day (600,000)'));
  await refused('after the replay', DAILY_LIMIT);
  await expectLogCounts(ctx, api, from, trader, [...day1, ...day2]);
  ctx.evidence.ordersPerDay = [day1.length, day2.length];
}

function expectStampedAt(ctx: CheckContext, got: number, at: number): void {
  ctx.expect(
    got === at,
    `the exchange followed the clock file once but an order sent while it was held at ${iso(at)} was stamped ${iso(got)}`,
  );
}

/**
 * The log read by the harness (operator) from `from`: every accepted order of the trader is there with its
 * creationTime as its sequenced time, and per symbol and UTC day of that time the orders sum to at most the limit.
 */
async function expectLogCounts(
  ctx: CheckContext,
  api: SeApi,
  from: number,
  trader: string,
  accepted: readonly Order[],
): Promise<unknown[]> {
  const { events } = await readLog(ctx, api, from);
  const perDay = new Map<string, number>();
  const times = new Map<number, number>();
  for (const e of events) {
    if (e.type !== 'new' || e.userId !== trader) continue;
    times.set(e.orderId, e.time);
    const k = `${e.symbol} on ${iso(dayOf(e.time) * DAY_MS).slice(0, 10)}`;
    perDay.set(k, (perDay.get(k) ?? 0) + e.quantity);
  }
  for (const o of accepted)
    ctx.expect(
      times.get(o.id) === o.creationTime,
      `order ${o.id} (creationTime ${iso(o.creationTime)}) is ${times.has(o.id) ? `logged at ${iso(times.get(o.id)!)}` : 'not in the log'}`,
    );
  ctx.expect(
    times.size === accepted.length,
    `the log holds ${times.size} orders of the trader; ${accepted.length} were accepted`,
  );
  for (const [k, n] of perDay)
    ctx.expect(n <= DAILY_LIMIT, `the log holds ${n} shares ordered by one user of ${k} (UTC), past ${DAILY_LIMIT}`);
  ctx.evidence.loggedPerDay = Object.fromEntries(perDay);
  return events;
}
