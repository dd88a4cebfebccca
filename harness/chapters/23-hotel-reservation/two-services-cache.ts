// HR-C7: two services on one database and one Redis share one inventory cache (spec README section 3: its namespace
// is kept in the database). A range is read (so cached) through both; a reservation made through the second, then its
// cancellation, must show through the first within the 1 s the spec lets availability lag the database, and keep
// showing; then a reservation made through the first must show through the second. A service that caches under a
// namespace of its own (one per start, or per node) keeps answering the nights it cached at their old numbers.
import type { CheckContext } from '../../core/check-context.ts';
import {
  availabilityBecomes,
  day,
  freshRoomType,
  type HrApi,
  hrApi,
  type NewReservation,
  nightsOf,
  okBody,
  type Reservation,
  type RoomType,
  reservedDiffers,
  uniqueId,
} from './api.ts';

const INVENTORY = 12;
/** The nights read: day(FIRST) .. day(FIRST + SPAN - 1). */
const FIRST = 14;
const SPAN = 4;
/**
 * Once right, availability is read on this long and must stay right: a service can skip its cache for a moment (the
 * reference skips Redis for 1 s after a slow reply) and answer from the database, which would hide a stale entry.
 */
const HOLD_MS = 1000;

interface Service {
  node: string;
  api: HrApi;
}

export async function twoServicesShareTheCache(ctx: CheckContext): Promise<void> {
  const [n1, n2] = ctx.target.nodes;
  if (!n1 || !n2)
    ctx.skip(
      'needs two services on one database and one Redis: give a manifest with two nodes (the reference: manifest.two-nodes.json)',
    );
  const one: Service = { node: n1, api: hrApi(ctx, ctx.http.withBaseUrl(ctx.target.nodeUrl(n1))) };
  const two: Service = { node: n2, api: hrApi(ctx, ctx.http.withBaseUrl(ctx.target.nodeUrl(n2))) };
  const rt = await freshRoomType(ctx, one.api, INVENTORY);
  const found = await two.api.getRoomType(rt.hotelId, rt.roomTypeId);
  if (found.status === 404)
    ctx.skip(`the two nodes do not share one database: a room type made through ${n1} is 404 through ${n2}`);
  okBody(ctx, found, 200, `reading through ${n2} the room type made through ${n1}`);

  const reserved = new Map<string, number>();
  const take = (body: NewReservation, sign: 1 | -1) => {
    for (const d of nightsOf(body.startDate, body.endDate))
      reserved.set(d, (reserved.get(d) ?? 0) + sign * body.roomCount);
  };
  // Each service reads the range as it is, so each holds every night of it (a wider read would refresh nights).
  for (const s of [one, two]) await shows(ctx, s, rt, reserved, 0, 'before any reservation');

  const first = reservation(rt, 3, FIRST + 1, FIRST + 3);
  okBody<Reservation>(ctx, await two.api.reserve(first), 201, `reserving 3 rooms through ${n2}`);
  take(first, 1);
  await shows(ctx, one, rt, reserved, HOLD_MS, `after 3 rooms were reserved through ${n2}`);

  const cx = await two.api.cancel(first.reservationId);
  ctx.expect(okBody<Reservation>(ctx, cx, 200, `cancelling through ${n2}`).status === 'cancelled', 'not cancelled', cx);
  take(first, -1);
  await shows(ctx, one, rt, reserved, HOLD_MS, `after that reservation was cancelled through ${n2}`);

  const second = reservation(rt, 2, FIRST, FIRST + 2);
  okBody<Reservation>(ctx, await one.api.reserve(second), 201, `reserving 2 rooms through ${n1}`);
  take(second, 1);
  await shows(ctx, two, rt, reserved, HOLD_MS, `after 2 rooms were reserved through ${n1}`);
  ctx.evidence.services = [n1, n2];
}

/** Fails unless availability through `s` counts `reserved` within 1 s and then for `holdMs` in a row. */
async function shows(
  ctx: CheckContext,
  s: Service,
  rt: RoomType,
  reserved: ReadonlyMap<string, number>,
  holdMs: number,
  when: string,
): Promise<void> {
  const why = await availabilityBecomes(
    ctx,
    s.api,
    rt,
    day(FIRST),
    day(FIRST + SPAN),
    (nights) => reservedDiffers(nights, new Map(reserved), INVENTORY),
    holdMs,
  );
  ctx.expect(
    why === null,
    `${when}, availability through ${s.node} did not count it within 1 s${holdMs ? ` and for ${holdMs} ms after` : ''} ` +
      `(services on one database share one cache): ${why}`,
  );
}

function reservation(rt: RoomType, roomCount: number, from: number, to: number): NewReservation {
  return {
    reservationId: uniqueId('c7'),
    hotelId: rt.hotelId,
    roomTypeId: rt.roomTypeId,
    roomCount,
    startDate: day(from),
    endDate: day(to),
    guestId: uniqueId('g'),
  };
}
