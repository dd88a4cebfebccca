// HR-F2: the database restarted mid-transaction. The target is pointed at a PostgreSQL cluster the harness owns
// (harness/faults/private-postgres.ts) while clients keep reserving the same nights, so transactions are always
// holding or waiting for the nights' rows. First every connection inside a writing transaction is dropped
// (pg_terminate_backend), then the server crashes (`pg_ctl stop -m immediate`) and starts again. The clients also
// cancel some of their acknowledged reservations as they go, so cancellations are cut too. Survive means:
// every answer is 201 (and then the reservation is there) or a documented refusal (503, or 409 write_conflict),
// never a 500 or a hang, and a cancellation 200 or 503; 201 again within DB_BACK_BOUND_MS of the restart; every
// cancellation sent again answers 200 cancelled; every request sent again answers what its 201 said (200, the same
// reservation, cancelled if it was), a refused one is reserved once (201, or 200 when its commit had landed after
// all) and the same again on a second send; each night's count equals the confirmed reservations that exist (a cut
// cancellation gives back all of its rooms or none, then all once sent again), each listed once in the history.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import type { PrivatePostgres } from '../../faults/private-postgres.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import {
  availabilityBecomes,
  day,
  freshRoomType,
  type HrApi,
  hrApi,
  type NewReservation,
  nightsOf,
  type Reservation,
  type ReservationList,
  type RoomType,
  reservedDiffers,
  uniqueId,
} from './api.ts';
import { code, isFor, refused } from './fault-answers.ts';

/** After PostgreSQL is back, a reservation answers 201 again within this (HR-F2's stated bound). */
export const DB_BACK_BOUND_MS = 10_000;
/** How long the server stays down. */
const DOWN_MS = 1500;
/** Clients reserving at once, all on the same few nights. */
const CLIENTS = 6;
/** Never sold out by what the clients send: a 409 rooms_unavailable here is a wrong answer. */
const INVENTORY = 1000;
/** The nights reserved: day(FIRST) .. day(FIRST + SPAN - 1). */
const FIRST = 3;
const SPAN = 5;
/** Rounds of pg_terminate_backend, 50 ms apart, until at least TERMINATED_WANTED connections were dropped. */
const TERMINATE_ROUNDS = 60;
const TERMINATED_WANTED = 3;
/**
 * Sends of one request after the restart while it answers a documented "send it again" (503, or 409 write_conflict
 * with optimistic locking), each counted.
 */
const RETRIES_WHEN_REFUSED = 5;

interface Sent {
  body: NewReservation;
  /** The answer while the fault was on. */
  first: Exchange;
}

/** A cancellation of a reservation answered 201, sent while the fault was on. */
interface Cancel {
  reservationId: string;
  first: Exchange;
}

/** Every CANCEL_EVERY-th reservation a client gets 201 for, it cancels its oldest one still confirmed. */
const CANCEL_EVERY = 2;
/** Before the fault, the clients run until they have sent this many cancellations (so some are cut), or this long. */
const WARM_CANCELS = 2 * CLIENTS;
const WARM_MAX_MS = 10_000;
/** How long the crash waits for a cancellation to be in flight. */
const CANCEL_WAIT_MS = 5_000;
/** Crashes at most, until one cuts a cancellation (answered other than 200). */
const CRASH_ROUNDS = 3;
/** How long the cancellations in flight at a crash may take to answer once the database is back. */
const CANCEL_ANSWER_WAIT_MS = 10_000;

const sameReservation = (a: Reservation, b: Reservation) =>
  a.reservationId === b.reservationId &&
  a.roomCount === b.roomCount &&
  a.startDate === b.startDate &&
  a.endDate === b.endDate &&
  a.status === b.status &&
  a.totalMinor === b.totalMinor &&
  a.currency === b.currency &&
  a.createdAt === b.createdAt;

/**
 * CLIENTS loops reserving one new reservationId after another until stopped, and now and then cancelling one of their
 * own acknowledged ones; every request and answer kept.
 */
function reserveUntilStopped(
  ctx: CheckContext,
  api: HrApi,
  rt: RoomType,
  guest: string,
  sent: Sent[],
  cancels: Cancel[],
) {
  let stopping = false;
  let cancelsInFlight = 0;
  const loop = async (c: number) => {
    const mine: string[] = [];
    let taken = 0;
    for (let i = 0; !stopping; i++) {
      ctx.throwIfStopped();
      const start = FIRST + ((c + i) % (SPAN - 1));
      const body: NewReservation = {
        reservationId: uniqueId('f2'),
        hotelId: rt.hotelId,
        roomTypeId: rt.roomTypeId,
        roomCount: 1 + (i % 2),
        startDate: day(start),
        endDate: day(Math.min(FIRST + SPAN, start + 1 + ((c + i) % 3))),
        guestId: guest,
      };
      const first = await api.reserve(body);
      sent.push({ body, first });
      // While the database is away, a pause between refusals (they come at once) keeps the retries below bounded.
      if (first.status !== 201) {
        await ctx.sleep(100);
        continue;
      }
      mine.push(body.reservationId);
      if (++taken % CANCEL_EVERY !== 0 || stopping) continue;
      const reservationId = mine.shift()!;
      cancelsInFlight++;
      const x = await api.cancel(reservationId).finally(() => cancelsInFlight--);
      cancels.push({ reservationId, first: x });
      if (x.status !== 200) await ctx.sleep(100);
    }
  };
  const loops = Array.from({ length: CLIENTS }, (_, c) => loop(c));
  return {
    /** Whether a cancellation has been sent and not answered yet. */
    cancelling: () => cancelsInFlight > 0,
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

export async function databaseRestartMidTransaction(ctx: CheckContext): Promise<void> {
  await withPrivatePostgres(ctx, (pg) => survivesRestart(ctx, pg));
}

async function survivesRestart(ctx: CheckContext, pg: PrivatePostgres): Promise<void> {
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, INVENTORY);
  const guest = uniqueId('g');
  const sent: Sent[] = [];
  const cancels: Cancel[] = [];
  const load = reserveUntilStopped(ctx, api, rt, guest, sent, cancels);
  let back: number;
  try {
    // 0. The clients reserve and cancel for a while first, so cancellations are under way when the fault comes.
    for (const until = Date.now() + WARM_MAX_MS; cancels.length < WARM_CANCELS && Date.now() < until; )
      await ctx.sleep(50);
    // 1. Connections dropped inside their transactions.
    let terminated = 0;
    for (let i = 0; i < TERMINATE_ROUNDS && terminated < TERMINATED_WANTED; i++) {
      await ctx.sleep(50);
      terminated += await pg.terminateWriting();
    }
    ctx.evidence.terminatedMidTransaction = terminated;
    if (terminated === 0)
      throw new Error('no connection was inside a writing transaction when terminated: the fault did not bite');
    // 2. The server crashes with reservations and a cancellation in flight (waited for, up to CANCEL_WAIT_MS: a store
    // that cancels in two steps loses the rooms only if the crash falls between them), stays down, and starts again
    // (recovery from its WAL).
    // A crash that cut no cancellation (none answered 503: each landed before or after it, as a busy machine makes
    // likely) proved nothing about them: crashed again, up to CRASH_ROUNDS times.
    await ctx.sleep(200);
    const beforeCrash = sent.length;
    let rounds = 0;
    let cancellationCut = false;
    do {
      rounds++;
      const from = cancels.length;
      for (const until = Date.now() + CANCEL_WAIT_MS; !load.cancelling() && Date.now() < until; ) await ctx.sleep(2);
      ctx.evidence.cancellationInFlightAtCrash = load.cancelling();
      await pg.crash();
      await ctx.sleep(DOWN_MS);
      await pg.start();
      back = Date.now();
      // The cancellations in flight at the crash answer once the database is back (or their time-out).
      for (const until = Date.now() + CANCEL_ANSWER_WAIT_MS; load.cancelling() && Date.now() < until; )
        await ctx.sleep(20);
      cancellationCut = cancels.slice(from).some((c) => c.first.status !== 200);
    } while (!cancellationCut && rounds < CRASH_ROUNDS);
    ctx.evidence.crashes = rounds;
    ctx.evidence.cancellationCut = cancellationCut;
    ctx.evidence.sentBeforeCrash = beforeCrash;
  } finally {
    await load.stop();
  }
  const statuses: Record<string, number> = {};
  for (const s of sent) {
    const key = `${s.first.status ?? s.first.error}${code(s.first) ? ` ${code(s.first)}` : ''}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  ctx.evidence.statusesDuringFault = statuses;
  for (const s of sent) {
    const x = s.first;
    if (x.status === 201)
      ctx.expect(
        isFor(x.body as Reservation, s.body),
        `reservation ${s.body.reservationId} answered 201 with another reservation`,
        x,
      );
    else
      ctx.expect(
        refused(x),
        `reserving around the PostgreSQL fault answered ${x.status ?? x.error}${code(x) ? ` ${code(x)}` : ''}: not 201, 503 or 409 write_conflict`,
        x,
      );
  }
  ctx.expect(
    sent.some((s) => s.first.status === 503),
    'no reservation answered 503 while PostgreSQL was down: the fault did not bite',
  );
  for (const c of cancels)
    ctx.expect(
      (c.first.status === 200 && (c.first.body as Reservation).status === 'cancelled') || c.first.status === 503,
      `cancelling ${c.reservationId} around the PostgreSQL fault answered ${c.first.status ?? c.first.error}${code(c.first) ? ` ${code(c.first)}` : ''}: not 200 cancelled or 503`,
      c.first,
    );
  ctx.evidence.answersAgainAfterMs = await answersAgain(ctx, api, rt, guest, sent, back);

  // Every cancellation sent again: 200 cancelled (a 503 may or may not have landed; either way it gives back once).
  const cancelled = new Set<string>();
  await eachAtOnce(cancels, CLIENTS, async (c) => {
    let x: Exchange;
    for (let n = 0; ; n++) {
      x = await api.cancel(c.reservationId);
      if (x.status !== 503 || n >= RETRIES_WHEN_REFUSED) break;
      await ctx.sleep(100 + Math.random() * 200);
    }
    ctx.expect(
      x.status === 200 && (x.body as Reservation).status === 'cancelled',
      `cancelling ${c.reservationId} again after the restart answered ${x.status ?? x.error}${code(x) ? ` ${code(x)}` : ''}, not 200 cancelled`,
      x,
    );
    cancelled.add(c.reservationId);
  });
  ctx.expect(cancels.length > 0, 'no cancellation was sent while the fault was on: cancellations were not graded');
  ctx.evidence.cancellations = cancels.length;
  const statusOf = (id: string) => (cancelled.has(id) ? 'cancelled' : 'confirmed');
  const asNow = (r: Reservation): Reservation => ({ ...r, status: statusOf(r.reservationId) });

  // Nothing acknowledged is lost: every 201 reads back as it was answered.
  const acked = sent.filter((s) => s.first.status === 201);
  await eachAtOnce(acked, CLIENTS, async (s) => {
    const x = await api.getReservation(s.body.reservationId);
    ctx.expect(
      x.status === 200 && sameReservation(x.body as Reservation, asNow(s.first.body as Reservation)),
      `reservation ${s.body.reservationId}, acknowledged with 201 around the PostgreSQL fault${cancelled.has(s.body.reservationId) ? ' and cancelled' : ''}, reads ${x.status}${x.status === 200 ? ' with other fields' : ''} after the restart`,
      x,
    );
  });
  ctx.evidence.acknowledged = acked.length;

  // Every request sent again: the same answer as its 201; a refused one reserved once; then the same again.
  let lostCommits = 0;
  let retries = 0;
  const sendAgain = async (b: NewReservation): Promise<Exchange> => {
    for (let n = 0; ; n++) {
      const x = await api.reserve(b);
      if (!refused(x) || n >= RETRIES_WHEN_REFUSED) return x;
      retries++;
      await ctx.sleep(100 + Math.random() * 200);
    }
  };
  await eachAtOnce(sent, CLIENTS, async (s) => {
    const again = await sendAgain(s.body);
    if (s.first.status === 201) {
      ctx.expect(
        again.status === 200 && sameReservation(again.body as Reservation, asNow(s.first.body as Reservation)),
        `${s.body.reservationId} (201 around the fault) sent again after the restart answered ${again.status ?? again.error}${again.status === 200 ? ' with another reservation' : ''}, not 200 with the same one`,
        again,
      );
    } else {
      ctx.expect(
        (again.status === 201 || again.status === 200) && isFor(again.body as Reservation, s.body),
        `${s.body.reservationId} (${s.first.status} around the fault) sent again after the restart answered ${again.status ?? again.error}${code(again) ? ` ${code(again)}` : ''}, not 201 (or 200 had it been reserved after all)`,
        again,
      );
      if (again.status === 200) lostCommits++;
    }
    const twice = await sendAgain(s.body);
    ctx.expect(
      twice.status === 200 && sameReservation(twice.body as Reservation, again.body as Reservation),
      `${s.body.reservationId} sent a second time after the restart answered ${twice.status ?? twice.error}, not 200 with what the first answered`,
      twice,
    );
  });
  ctx.evidence.refusedButReserved = lostCommits;
  ctx.evidence.retriesWhenRefused = retries;

  // Never double-booked: each night holds exactly the rooms of the reservations that now exist, once each, and
  // nothing of the cancelled ones.
  const expected = new Map<string, number>();
  for (const s of sent.filter((x) => !cancelled.has(x.body.reservationId)))
    for (const d of nightsOf(s.body.startDate, s.body.endDate))
      expected.set(d, (expected.get(d) ?? 0) + s.body.roomCount);
  const why = await availabilityBecomes(ctx, api, rt, day(FIRST), day(FIRST + SPAN), (n) =>
    reservedDiffers(n, expected, INVENTORY),
  );
  ctx.expect(why === null, `after the PostgreSQL restart and every request sent again: ${why}`);
  const lx = await api.list(guest);
  ctx.expect(lx.status === 200, `the guest's history answered ${lx.status ?? lx.error}`, lx);
  const listed = (lx.body as ReservationList).reservations.map((r) => r.reservationId);
  const twiceListed = listed.filter((id, i) => listed.indexOf(id) !== i);
  ctx.expect(
    listed.length === sent.length &&
      twiceListed.length === 0 &&
      sent.every((s) => listed.includes(s.body.reservationId)),
    `the guest's history lists ${listed.length} reservations${twiceListed.length ? ` (${twiceListed.slice(0, 3).join(', ')} more than once)` : ''}; ${sent.length} reservationIds were reserved once each`,
    lx,
  );
  ctx.evidence.reservations = sent.length;
}

/**
 * Reserves with fresh reservationIds until one answers 201; fails past DB_BACK_BOUND_MS (plus the scheduling delay
 * measured, at most 5 s). Each one sent joins `sent`. Returns the time it took.
 */
async function answersAgain(
  ctx: CheckContext,
  api: HrApi,
  rt: RoomType,
  guest: string,
  sent: Sent[],
  since: number,
): Promise<number> {
  let last: Exchange | undefined;
  while (Date.now() - since < checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS)) {
    const body: NewReservation = {
      reservationId: uniqueId('f2b'),
      hotelId: rt.hotelId,
      roomTypeId: rt.roomTypeId,
      roomCount: 1,
      startDate: day(FIRST),
      endDate: day(FIRST + 1),
      guestId: guest,
    };
    last = await api.reserve(body);
    sent.push({ body, first: last });
    if (last.status === 201) return Date.now() - since;
    ctx.expect(refused(last), `after PostgreSQL came back, reserving answered ${last.status ?? last.error}`, last);
    await ctx.sleep(200);
  }
  return ctx.fail(
    `no reservation answered 201 within ${DB_BACK_BOUND_MS} ms after PostgreSQL came back (last: ${last?.status})`,
    last ? { exchange: last } : {},
  );
}

/** Runs fn over items, `width` at a time. */
async function eachAtOnce<T>(items: readonly T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
