// HR-F8: a search whose database read is answered late (fault 9). The target is pointed at the harness's
// PostgreSQL-protocol proxy (harness/faults/pg-wire-proxy.ts), which holds the answer to each statement a search sends
// outside a transaction block (it has run: what it read is the database as it was then) while the check reserves one
// of the searched nights on another connection, waits the spec's 1 s lag, so the reservation has reached whatever
// cache the service keeps, then lets the answer go. A cache filled from that answer (a read-through) must not put the
// older numbers back over the newer ones: once the search is answered, availability must come to count every
// reservation within the 1 s lag and keep counting it. Each round searches nights nobody read or reserved before (a
// cache miss), and its last night is never reserved during the search, so some night stays a miss to read through.
// Then the same fault on inventory changes: a lowering that fits is sent, and while any answer it waits for is held a
// room of its night is reserved, taking the night over 110% of the lowered total: refused 409, never accepted.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import {
  availabilityBecomes,
  day,
  freshRoomType,
  type HrApi,
  hrApi,
  type NewReservation,
  type RoomType,
  reservedDiffers,
  uniqueId,
} from './api.ts';
import { said } from './fault-answers.ts';

/** Searches made, each of SPAN fresh nights. */
const ROUNDS = 4;
const SPAN = 6;
/** The first round's first night (a run across midnight UTC stays valid). */
const FIRST = 3;
/** Never sold out: every reservation is 201. */
const INVENTORY = 10;
/** The spec's lag (availability within 1 s of a commit), and a little over it, while an answer is held. */
const LAG_MS = 1000;
const HELD_FOR_MS = LAG_MS + 200;
/** How long a reservation may wait while an answer is held (a service with one connection waits for it: released). */
const RESERVE_BOUND_MS = 5000;
/** How long the check waits for the search's next statement or its answer, between two held answers. */
const NEXT_BOUND_MS = 10_000;
/** The search's own bound: its answers are held a while each (the spec's 1 s lag and a reservation). */
const SEARCH_BOUND_MS = 60_000;
/** Inventory changes sent with their answers held (the second part). */
const LOWERINGS = 3;
/** Once the search is answered, availability must be right for this long in a row (a skipped cache hides nothing). */
const RIGHT_FOR_MS = 500;

export async function searchReadAnsweredLate(ctx: CheckContext): Promise<void> {
  await withPgWireProxy(ctx, 'a PostgreSQL-protocol proxy that holds the answers to reads', (proxy) =>
    lateReads(ctx, proxy),
  );
}

async function lateReads(ctx: CheckContext, proxy: PgWireProxy): Promise<void> {
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, INVENTORY);
  const guest = uniqueId('g');
  const expected = new Map<string, number>();
  let reservedWhileHeld = 0;
  for (let r = 0; r < ROUNDS; r++) {
    ctx.throwIfStopped();
    const [from, to] = [day(FIRST + r * SPAN), day(FIRST + (r + 1) * SPAN)];
    let answered: Exchange | undefined;
    proxy.holdReads(true);
    const search = searchHeld(ctx, rt, from, to).then((x) => {
      answered = x;
      return x;
    });
    let held = 0;
    try {
      for (;;) {
        const since = Date.now();
        while (!answered && proxy.heldReads === 0 && Date.now() - since < timeLimit(NEXT_BOUND_MS)) await ctx.sleep(5);
        if (answered || proxy.heldReads === 0) break;
        // A statement of the search has run and its answer waits: reserve one night of the range meanwhile (the last
        // night never, so a night stays uncached), and give the change the spec's lag to reach any cache.
        proxy.holdReads(false);
        if (held < SPAN - 1) {
          const night = FIRST + r * SPAN + held;
          const raced = await reserveNight(ctx, api, rt, proxy, night, guest);
          expected.set(day(night), (expected.get(day(night)) ?? 0) + 1);
          if (raced) {
            reservedWhileHeld++;
            await ctx.sleep(HELD_FOR_MS);
          }
        }
        held++;
        proxy.holdReads(true);
        proxy.releaseRead();
      }
    } finally {
      proxy.releaseReads();
    }
    const x = await search;
    ctx.expect(x.status === 200, `the search of ${from}..${to}, its database answers held, answered ${said(x)}`, x);
    const why = await availabilityBecomes(
      ctx,
      api,
      rt,
      from,
      to,
      (n) => reservedDiffers(n, expected, INVENTORY),
      RIGHT_FOR_MS,
    );
    ctx.expect(
      why === null,
      `after a search of ${from}..${to} whose ${held} database answers were each held while a night was reserved ` +
        `(and ${HELD_FOR_MS} ms more), availability did not come to count the reservations within 1 s and stay so: ${why}`,
    );
  }
  // Everything acknowledged in the run, once more: no round's search put older numbers back over another's.
  const [from, to] = [day(FIRST), day(FIRST + ROUNDS * SPAN)];
  const why = await availabilityBecomes(ctx, api, rt, from, to, (n) => reservedDiffers(n, expected, INVENTORY));
  ctx.expect(why === null, `at the end, availability of ${from}..${to} does not count every reservation: ${why}`);
  const lowerings = await loweringsReadLate(ctx, api, proxy, guest);
  ctx.evidence.reservedWhileHeld = reservedWhileHeld;
  ctx.evidence.loweringsHeld = lowerings.held;
  if (reservedWhileHeld === 0)
    ctx.skip(
      'no search sent the database a statement outside a transaction block whose answer could be held while a ' +
        'night was reserved (the target may read inside transactions, or answer searches without the database)',
    );
}

/**
 * The same fault on an inventory change: a room type of INVENTORY rooms with half of them reserved on one night is
 * lowered to half, which fits (5 of 5.5); while any answer the change waits for is held, one more room of that night
 * is reserved (6: over 110% of 5). The change is in one transaction with the reservations (the spec), so it must see
 * that room: refused 409 `inventory_below_reserved` with the night unchanged, never accepted with the night over.
 * A change that reads nothing outside a transaction has nothing held (the reference's): the reservation then waits
 * for nothing, and the change, sent first, is judged the same way.
 */
async function loweringsReadLate(
  ctx: CheckContext,
  api: HrApi,
  proxy: PgWireProxy,
  guest: string,
): Promise<{ held: number }> {
  let held = 0;
  for (let r = 0; r < LOWERINGS; r++) {
    ctx.throwIfStopped();
    const rt = await freshRoomType(ctx, api, INVENTORY);
    const offset = FIRST + r;
    await reserveNight(ctx, api, rt, proxy, offset, guest, INVENTORY / 2);
    let answered: Exchange | undefined;
    proxy.holdReads(true);
    const change = api
      .updateRoomType(rt.hotelId, rt.roomTypeId, {
        name: rt.name,
        totalInventory: INVENTORY / 2,
        rateMinor: rt.rateMinor,
      })
      .then((x) => {
        answered = x;
        return x;
      });
    let reserved = INVENTORY / 2;
    try {
      for (;;) {
        const since = Date.now();
        while (!answered && proxy.heldReads === 0 && Date.now() - since < timeLimit(NEXT_BOUND_MS)) await ctx.sleep(5);
        if (answered || proxy.heldReads === 0) break;
        proxy.holdReads(false);
        if (reserved === INVENTORY / 2) {
          await reserveNight(ctx, api, rt, proxy, offset, guest);
          reserved++;
          held++;
        }
        proxy.holdReads(true);
        proxy.releaseRead();
      }
    } finally {
      proxy.releaseReads();
    }
    const x = await change;
    // No hold (the change read nothing outside a transaction): the room is reserved after the change, as a race.
    if (reserved === INVENTORY / 2) {
      const y = await reserveOrRefuse(ctx, api, rt, offset, guest);
      if (y) reserved++;
    }
    const total = x.status === 200 ? INVENTORY / 2 : INVENTORY;
    ctx.expect(
      (x.status === 200 || (x.status === 409 && said(x) === '409 inventory_below_reserved')) &&
        reserved * 10 <= total * 11,
      `lowering a room type from ${INVENTORY} to ${INVENTORY / 2} rooms, its answers held while a room was reserved ` +
        `on ${day(offset)} (${reserved} reserved there), answered ${said(x)}: the night is over 110% of ${total}`,
      x,
    );
    const why = await availabilityBecomes(ctx, api, rt, day(offset), day(offset + 1), (n) =>
      reservedDiffers(n, new Map([[day(offset), reserved]]), total),
    );
    ctx.expect(why === null, `after the lowering answered ${said(x)}, availability of ${day(offset)}: ${why}`);
  }
  return { held };
}

/** One more room on day(offset) after a lowering: 201 if it fits what the room type now has, else 409. */
async function reserveOrRefuse(
  ctx: CheckContext,
  api: HrApi,
  rt: RoomType,
  offset: number,
  guest: string,
): Promise<boolean> {
  const x = await api.reserve({
    reservationId: uniqueId('f8'),
    hotelId: rt.hotelId,
    roomTypeId: rt.roomTypeId,
    roomCount: 1,
    startDate: day(offset),
    endDate: day(offset + 1),
    guestId: guest,
  });
  ctx.expect(x.status === 201 || said(x) === '409 rooms_unavailable', `a reservation answered ${said(x)}`, x);
  return x.status === 201;
}

/** Availability of [from, to) with a bound of its own: its database answers are held on purpose. */
function searchHeld(ctx: CheckContext, rt: RoomType, from: string, to: string): Promise<Exchange> {
  const e = encodeURIComponent;
  return ctx.http.send({
    method: 'GET',
    path: `/v1/hotels/${e(rt.hotelId)}/room-types/${e(rt.roomTypeId)}/availability?${new URLSearchParams({ startDate: from, endDate: to })}`,
    timeoutMs: timeLimit(SEARCH_BOUND_MS),
  });
}

/**
 * One room on night day(offset), which must be answered 201; true if it was answered while the search's answer was
 * held, false if it waited for it (then let go, so nothing hangs).
 */
async function reserveNight(
  ctx: CheckContext,
  api: HrApi,
  rt: RoomType,
  proxy: PgWireProxy,
  offset: number,
  guest: string,
  roomCount = 1,
): Promise<boolean> {
  const body: NewReservation = {
    reservationId: uniqueId('f8'),
    hotelId: rt.hotelId,
    roomTypeId: rt.roomTypeId,
    roomCount,
    startDate: day(offset),
    endDate: day(offset + 1),
    guestId: guest,
  };
  const sent = api.reserve(body);
  const inTime = await Promise.race([sent, ctx.sleep(timeLimit(RESERVE_BOUND_MS)).then(() => undefined)]);
  if (!inTime) proxy.releaseRead();
  const x = await sent;
  ctx.expect(
    x.status === 201,
    `reservation ${body.reservationId} of ${body.startDate} answered ${said(x)}, not 201`,
    x,
  );
  return inTime !== undefined;
}
