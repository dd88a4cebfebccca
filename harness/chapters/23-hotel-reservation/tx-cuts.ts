// HR-F5: reservations cut inside their transaction, the database gone at that instant. The target is pointed at the
// harness's PostgreSQL-protocol proxy (harness/faults/pg-wire-proxy.ts) in front of its own database. Round after
// round, one reservation is sent with one cut armed: a statement a connection sends inside a transaction block (the
// first, second, third or fourth, by round) resets it (the statement never reaches PostgreSQL, the block rolls back),
// and from then on every connection is reset (the database is away) until the reservation is answered. Then the database is back and the same request
// is sent again until it is decided. All or nothing means: the first answer 201 or a documented refusal (503, or 409
// write_conflict), never a 500 or a hang; sent again, 201 (or 200 had it been reserved after all) with the
// reservation asked for, then 200 with the same one; and after each round the nights count every reservation that
// now exists exactly once: a reservation answered with, on retry, must have taken its rooms (a store that claims the
// reservationId in a step of its own before the rooms, and gives the claim back only when the database lets it, would
// answer the retry 200 with a reservation that took nothing). The guest's history lists each once.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import type { CutOptions, PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
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
  reservedDiffers,
  uniqueId,
} from './api.ts';
import { DB_BACK_BOUND_MS } from './db-restart.ts';
import { isFor, refused, said } from './fault-answers.ts';

/** Reservations whose transaction is cut (each a round). */
const ROUNDS = 12;
/**
 * Where round i cuts its transaction, POINTS[i % POINTS.length]: its first to fourth statement (a shorter transaction
 * is not cut in that round), its COMMIT (never reaching the server), and the COMMIT's answer (committed, the answer
 * lost). In every other pass over POINTS a reservation refused is not sent again, but read (GET): there or not, the
 * nights must count it so; but for a lost COMMIT answer, whose change reaches the cache only with the client's retry
 * (the spec does not say how fast a commit the service cannot know of reaches it).
 */
const POINTS: readonly CutOptions[] = [
  { after: 0 },
  { after: 1 },
  { after: 2 },
  { after: 3 },
  { at: 'commit' },
  { at: 'commit-answer' },
];
/** Rounds sent at most, cut or not. */
const MAX_ROUNDS = 3 * ROUNDS;
/** Never sold out by the rounds (at most 2 rooms each): a 409 rooms_unavailable here is a wrong answer. */
const INVENTORY = 20;
/** The nights reserved: day(FIRST) .. day(FIRST + SPAN - 1). */
const FIRST = 4;
const SPAN = 4;

export async function reservationsCutMidTransaction(ctx: CheckContext): Promise<void> {
  await withPgWireProxy(ctx, 'a PostgreSQL-protocol proxy', (proxy) => survivesCuts(ctx, proxy));
}

async function survivesCuts(ctx: CheckContext, proxy: PgWireProxy): Promise<void> {
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, INVENTORY);
  const guest = uniqueId('g');
  const expected = new Map<string, number>();
  const made: NewReservation[] = [];
  const firsts: Record<string, number> = {};
  let bitten = 0;
  let notSentAgain = 0;
  let i = 0;
  for (; bitten < ROUNDS && i < MAX_ROUNDS; i++) {
    ctx.throwIfStopped();
    const start = FIRST + (i % (SPAN - 1));
    const body: NewReservation = {
      reservationId: uniqueId('f5'),
      hotelId: rt.hotelId,
      roomTypeId: rt.roomTypeId,
      roomCount: 1 + (i % 2),
      startDate: day(start),
      endDate: day(Math.min(FIRST + SPAN, start + 1 + (i % 2))),
      guestId: guest,
    };
    const cutsBefore = proxy.cuts;
    const point = POINTS[i % POINTS.length]!;
    const abandon = Math.floor(i / POINTS.length) % 2 === 1 && point.at !== 'commit-answer';
    proxy.cutInTransaction(1, undefined, { ...point, down: true });
    let first: Exchange;
    try {
      first = await api.reserve(body);
    } finally {
      proxy.disarm();
      proxy.up();
    }
    const bit = proxy.cuts > cutsBefore;
    firsts[said(first)] = (firsts[said(first)] ?? 0) + 1;
    ctx.expect(
      first.status === 201 ? isFor(first.body as Reservation, body) : refused(first),
      `reservation ${body.reservationId}, cut inside its transaction with the database gone, answered ${said(first)}: ` +
        'not 201 with it, 503 or 409 write_conflict',
      first,
    );
    ctx.expect(first.durationMs < 10_000, `reserving took ${Math.round(first.durationMs)} ms while cut`, first);
    if (bit) bitten++;

    // The database is back: the same request until it is decided, then once more; or, abandoned, read.
    const readOnly = abandon && first.status !== 201;
    if (readOnly) notSentAgain++;
    const then = readOnly ? await readBack(ctx, api, body) : await sendAgain(ctx, api, body, first);
    if (then.exists) {
      made.push(body);
      for (const d of nightsOf(body.startDate, body.endDate)) expected.set(d, (expected.get(d) ?? 0) + body.roomCount);
    }
    // All or nothing: every reservation there took its rooms, once; one not there took none.
    const why = await availabilityBecomes(ctx, api, rt, day(FIRST), day(FIRST + SPAN), (n) =>
      reservedDiffers(n, expected, INVENTORY),
    );
    ctx.expect(
      why === null,
      `after ${body.reservationId} was cut (${point.at ?? `statement ${(point.after ?? 0) + 1}`}, answered ` +
        `${said(first)}) and ${then.what}, the nights do not count the ${made.length} reservations that exist once ` +
        `each: ${why}`,
    );
  }
  ctx.evidence.rounds = i;
  ctx.evidence.notSentAgain = notSentAgain;
  ctx.evidence.transactionsCut = proxy.cuts;
  ctx.evidence.firstAnswers = firsts;
  ctx.evidence.cutStatements = [...new Set(proxy.cutLog.map((c) => c.statement.slice(0, 60)))].slice(0, 6);

  const lx = await api.list(guest);
  ctx.expect(lx.status === 200, `the guest's history answered ${said(lx)}`, lx);
  const listed = (lx.body as ReservationList).reservations.map((r) => r.reservationId);
  ctx.expect(
    listed.length === made.length && made.every((b) => listed.includes(b.reservationId)),
    `the guest's history lists ${listed.length} reservations; ${made.length} were reserved once each`,
    lx,
  );
  if (bitten < ROUNDS)
    ctx.skip(
      `the fault bit short: ${bitten} of ${ROUNDS} reservations were cut in ${i} rounds (the reservation may not use ` +
        'a transaction)',
    );
}

/** The request sent again until decided (201, or 200 had it been reserved after all), then once more (200). */
async function sendAgain(
  ctx: CheckContext,
  api: HrApi,
  body: NewReservation,
  first: Exchange,
): Promise<{ exists: true; what: string }> {
  const again = first.status === 201 ? first : await sendUntilDecided(ctx, api, body);
  ctx.expect(
    (again.status === 201 || again.status === 200) && isFor(again.body as Reservation, body),
    `${body.reservationId} (${said(first)} when cut) sent again with the database back answered ${said(again)}, ` +
      'not 201 (or 200 had it been reserved after all) with the reservation asked for',
    again,
  );
  const twice = await api.reserve(body);
  ctx.expect(
    twice.status === 200 && isFor(twice.body as Reservation, body),
    `${body.reservationId} sent once more answered ${said(twice)}, not 200 with the same reservation`,
    twice,
  );
  return { exists: true, what: `sent again (${said(again)} with the reservation)` };
}

/** A refused reservation not sent again: read, it is there (200, as asked) or not (404). */
async function readBack(
  ctx: CheckContext,
  api: HrApi,
  body: NewReservation,
): Promise<{ exists: boolean; what: string }> {
  const x = await api.getReservation(body.reservationId);
  ctx.expect(
    x.status === 404 || (x.status === 200 && isFor(x.body as Reservation, body)),
    `${body.reservationId}, refused when cut and not sent again, reads ${said(x)}: not 404, nor 200 with it`,
    x,
  );
  return { exists: x.status === 200, what: `was not sent again (it reads ${x.status})` };
}

/** Sends `body` while it answers a documented refusal, up to DB_BACK_BOUND_MS (plus the scheduling delay measured). */
async function sendUntilDecided(ctx: CheckContext, api: HrApi, body: NewReservation): Promise<Exchange> {
  const since = Date.now();
  for (;;) {
    const x = await api.reserve(body);
    if (!refused(x) || Date.now() - since >= checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS)) return x;
    await ctx.sleep(100);
  }
}
