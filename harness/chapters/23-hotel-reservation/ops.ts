// HR-C5: the ops side of hotels and room types (the book's PUT and DELETE, "only available to ops"): the staff key,
// updates and deletes with their documented refusals. HR-C6 (ops-cache.ts) and HR-I5 (ops-interleaved.ts) use the
// helpers exported here. What is graded is read back (the hotel, the room type, availability, the reservations),
// never taken from the answer that claims it was done.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  type Auth,
  type Availability,
  availabilityBecomes,
  DEFAULT_STAFF_KEY,
  day,
  freshRoomType,
  type Hotel,
  type HrApi,
  hrApi,
  type NewReservation,
  okBody,
  type Reservation,
  type RoomType,
  reservedDiffers,
  staffHeaders,
  uniqueId,
} from './api.ts';

export const codeOf = (x: Exchange) => (x.body as { code?: string } | undefined)?.code ?? '';
/** An answer's status and problem code, for a message. */
const said = (x: Exchange) => [x.status ?? x.error, codeOf(x)].filter(Boolean).join(' ');

export function reservation(rt: RoomType, roomCount: number, start: number, end: number): NewReservation {
  return {
    reservationId: uniqueId('ops'),
    hotelId: rt.hotelId,
    roomTypeId: rt.roomTypeId,
    roomCount,
    startDate: day(start),
    endDate: day(end),
    guestId: uniqueId('g'),
  };
}

/** The room type read back must be `want`, field by field. */
export async function expectRoomType(ctx: CheckContext, api: HrApi, want: RoomType, what: string): Promise<void> {
  const x = await api.getRoomType(want.hotelId, want.roomTypeId);
  const got = okBody<RoomType>(ctx, x, 200, `reading the room type ${what}`);
  ctx.expect(
    JSON.stringify(got) === JSON.stringify(want),
    `the room type ${what} reads ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
    x,
  );
}

export async function opsConformance(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, 10, 7_000, 'CHF');
  const hotel = okBody<Hotel>(ctx, await api.getHotel(rt.hotelId), 200, 'reading the hotel');
  const mine: string[] = [];
  const book = async (b: NewReservation) => {
    const x = await api.reserve(b);
    if (x.status === 201) mine.push(b.reservationId);
    return x;
  };

  // Without the staff key, or with another, every ops write is 401 and changes nothing. "Another" includes keys next to
  // the configured one: a prefix of it, it with a character more, and it in other letter case (a key is compared as
  // it is, whole).
  const key = ctx.setting<string>('staffKey', DEFAULT_STAFF_KEY);
  const near = [key.slice(0, -1), `${key}x`, key.toUpperCase(), key.toLowerCase()].filter((k) => k && k !== key);
  const auths: Auth[] = [
    { kind: 'none' },
    { kind: 'header', value: 'Bearer not-the-staff-key' },
    ...near.map((k) => ({ kind: 'header' as const, value: `Bearer ${k}` })),
  ];
  for (const auth of auths) {
    const how = auth.kind === 'header' ? `with another key (${auth.value})` : 'without a key';
    const refused: [string, Exchange][] = [
      ['createHotel', await api.createHotel({ name: 'x', address: 'y' }, auth)],
      ['updateHotel', await api.updateHotel(rt.hotelId, { name: 'Taken over', address: 'y' }, auth)],
      [
        'createRoomType',
        await api.createRoomType(rt.hotelId, { name: 'x', totalInventory: 1, rateMinor: 1, currency: 'CHF' }, auth),
      ],
      [
        'updateRoomType',
        await api.updateRoomType(rt.hotelId, rt.roomTypeId, { name: 'x', totalInventory: 99, rateMinor: 1 }, auth),
      ],
      ['setRates', await api.setRates(rt.hotelId, rt.roomTypeId, [{ date: day(5), rateMinor: 1 }], auth)],
      ['deleteRoomType', await api.deleteRoomType(rt.hotelId, rt.roomTypeId, auth)],
      ['deleteHotel', await api.deleteHotel(rt.hotelId, auth)],
    ];
    for (const [op, x] of refused) {
      ctx.expect(x.status === 401, `${op} ${how} answered ${x.status ?? x.error}, not 401`, x);
      ctx.expectStatus(x, 401, 'unauthorized');
    }
    const hx = await api.getHotel(rt.hotelId);
    ctx.expect(
      JSON.stringify(okBody<Hotel>(ctx, hx, 200, `the hotel after ops writes ${how}`)) === JSON.stringify(hotel),
      `ops writes ${how} changed the hotel`,
      hx,
    );
    await expectRoomType(ctx, api, rt, `after ops writes ${how}`);
    const ax = await api.availability(rt.hotelId, rt.roomTypeId, day(5), day(6));
    ctx.expect(
      okBody<Availability>(ctx, ax, 200, 'availability')?.nights?.[0]?.rateMinor === 7_000,
      `setRates ${how} changed the rate`,
      ax,
    );
  }

  // Updating a hotel: 200 with it, read back so; unknown 404; bad bodies 400.
  const newHotel = { name: 'Hôtel du Lac 🏨', address: '2 Quai, Genève' };
  const ux = await api.updateHotel(rt.hotelId, newHotel);
  ctx.expect(
    JSON.stringify(okBody<Hotel>(ctx, ux, 200, 'updating the hotel')) ===
      JSON.stringify({ hotelId: rt.hotelId, ...newHotel }),
    'the updated hotel is not the one given',
    ux,
  );
  const hx = await api.getHotel(rt.hotelId);
  ctx.expect(
    JSON.stringify(okBody<Hotel>(ctx, hx, 200, 'reading it')) === JSON.stringify({ hotelId: rt.hotelId, ...newHotel }),
    'the hotel does not read as updated',
    hx,
  );
  ctx.expectStatus(await api.updateHotel(uniqueId('none'), newHotel), 404, 'hotel_not_found');

  // Updating a room type: its name, rooms and default rate; the currency stays.
  const first: RoomType = { ...rt, name: 'Double Deluxe', totalInventory: 12, rateMinor: 8_100 };
  const rx = await api.updateRoomType(rt.hotelId, rt.roomTypeId, {
    name: first.name,
    totalInventory: 12,
    rateMinor: 8_100,
  });
  ctx.expect(
    JSON.stringify(okBody<RoomType>(ctx, rx, 200, 'updating the room type')) === JSON.stringify(first),
    `the updated room type is not ${JSON.stringify(first)}`,
    rx,
  );
  await expectRoomType(ctx, api, first, 'after the update');
  ctx.expectStatus(
    await api.updateRoomType(rt.hotelId, uniqueId('none'), { name: 'x', totalInventory: 1, rateMinor: 1 }),
    404,
    'room_type_not_found',
  );
  ctx.expectStatus(
    await api.updateRoomType(uniqueId('none'), rt.roomTypeId, { name: 'x', totalInventory: 1, rateMinor: 1 }),
    404,
    'hotel_not_found',
  );
  const send = (method: string, path: string, json: unknown) =>
    ctx.http.send({
      method,
      path,
      json,
      headers: staffHeaders(ctx),
      validRequest: false,
    });
  const rtPath = `/v1/hotels/${rt.hotelId}/room-types/${rt.roomTypeId}`;
  for (const bad of [
    { name: 'x', totalInventory: 1, rateMinor: 1, currency: 'EUR' },
    { name: 'x', totalInventory: -1, rateMinor: 1 },
    { name: 'x', totalInventory: 10_001, rateMinor: 1 },
    { name: 'x', rateMinor: 1 },
  ])
    ctx.expectStatus(await send('PUT', rtPath, bad), 400, 'invalid_request');
  ctx.expectStatus(await send('PUT', `/v1/hotels/${rt.hotelId}`, { name: 'x' }), 400, 'invalid_request');
  await expectRoomType(ctx, api, first, 'after refused updates');

  // 110% of 12 is 13: 3 rooms, then 9 more on one night, leave 12 reserved there. 110% of 10 is 11 (< 12): 409, nothing
  // changed; 110% of 11 is 12: 200.
  const guest = reservation(rt, 3, 5, 7);
  const r = okBody<Reservation>(ctx, await book(guest), 201, 'reserving 3 rooms');
  okBody(ctx, await book(reservation(rt, 9, 6, 7)), 201, 'reserving 9 more rooms on one night');
  const below = await api.updateRoomType(rt.hotelId, rt.roomTypeId, { name: 'x', totalInventory: 10, rateMinor: 1 });
  ctx.expect(
    below.status === 409,
    `lowering the inventory to 10 with 12 reserved on ${day(6)} answered ${below.status ?? below.error}, not 409`,
    below,
  );
  ctx.expectStatus(below, 409, 'inventory_below_reserved');
  await expectRoomType(ctx, api, first, 'after a refused inventory change');
  const still = await availabilityBecomes(ctx, api, rt, day(5), day(8), (n) =>
    reservedDiffers(
      n,
      new Map([
        [day(5), 3],
        [day(6), 12],
      ]),
      12,
    ),
  );
  ctx.expect(still === null, `after a refused inventory change: ${still}`);
  const eleven: RoomType = { ...first, totalInventory: 11 };
  okBody(
    ctx,
    await api.updateRoomType(rt.hotelId, rt.roomTypeId, {
      name: first.name,
      totalInventory: 11,
      rateMinor: first.rateMinor,
    }),
    200,
    'lowering the inventory to 11 (110% is 12, as reserved)',
  );
  await expectRoomType(ctx, api, eleven, 'at 11 rooms');
  // The night is full at the new limit; the night before has 9 left.
  ctx.expectStatus(await book(reservation(rt, 1, 6, 7)), 409, 'rooms_unavailable');
  okBody(ctx, await book(reservation(rt, 9, 5, 6)), 201, `reserving the 9 rooms left on ${day(5)} within 110% of 11`);
  ctx.expectStatus(await book(reservation(rt, 1, 5, 6)), 409, 'rooms_unavailable');

  // A room type or hotel with a confirmed reservation to come is not deleted; the reservation stays.
  const sibling = okBody<RoomType>(
    ctx,
    await api.createRoomType(rt.hotelId, { name: 'Single', totalInventory: 4, rateMinor: 3_000, currency: 'CHF' }),
    201,
    'a second room type',
  );
  const dx = await api.deleteRoomType(rt.hotelId, rt.roomTypeId);
  ctx.expect(
    dx.status === 409,
    `deleting a room type with confirmed reservations to come answered ${dx.status ?? dx.error}, not 409`,
    dx,
  );
  ctx.expectStatus(dx, 409, 'room_type_has_reservations');
  const hdx = await api.deleteHotel(rt.hotelId);
  ctx.expect(
    hdx.status === 409,
    `deleting a hotel with confirmed reservations to come answered ${hdx.status ?? hdx.error}, not 409`,
    hdx,
  );
  ctx.expectStatus(hdx, 409, 'hotel_has_reservations');
  await expectRoomType(ctx, api, eleven, 'after refused deletes');
  okBody(ctx, await api.getReservation(r.reservationId), 200, 'the reservation after refused deletes');

  // A room type with no reservation: 204, then 404 everywhere; a second delete 404.
  const sx = await api.deleteRoomType(sibling.hotelId, sibling.roomTypeId);
  ctx.expect(
    sx.status === 204,
    `deleting a room type with no reservation answered ${sx.status ?? sx.error}, not 204`,
    sx,
  );
  ctx.expectStatus(await api.getRoomType(sibling.hotelId, sibling.roomTypeId), 404, 'room_type_not_found');
  ctx.expectStatus(await api.deleteRoomType(sibling.hotelId, sibling.roomTypeId), 404, 'room_type_not_found');
  ctx.expectStatus(await book(reservation(sibling, 1, 5, 6)), 404, 'room_type_not_found');
  ctx.expectStatus(
    await api.availability(sibling.hotelId, sibling.roomTypeId, day(5), day(6)),
    404,
    'room_type_not_found',
  );

  // Cancelled, the reservations no longer hold the room type: it and then the hotel go; the reservation stays readable.
  const all = okBody<{ reservations: Reservation[] }>(ctx, await api.list(guest.guestId), 200, "the guest's history");
  ctx.expect(all.reservations.length === 1, `the guest's history lists ${all.reservations.length} reservations, not 1`);
  for (const id of mine) okBody(ctx, await api.cancel(id), 200, `cancelling ${id}`);
  const gone = await api.deleteRoomType(rt.hotelId, rt.roomTypeId);
  ctx.expect(
    gone.status === 204,
    `deleting the room type once its reservations were cancelled answered ${gone.status ?? gone.error}, not 204`,
    gone,
  );
  ctx.expectStatus(await api.getRoomType(rt.hotelId, rt.roomTypeId), 404, 'room_type_not_found');
  const kept = okBody<Reservation>(
    ctx,
    await api.getReservation(r.reservationId),
    200,
    'a cancelled reservation of a deleted room type',
  );
  ctx.expect(kept.status === 'cancelled', `it reads ${kept.status}`);
  // Sent again, its request is a replay (200, the cancelled reservation), not a new one checked against today's room
  // types (404 room_type_not_found).
  const replayed = await api.reserve(guest);
  ctx.expect(
    replayed.status === 200,
    `the request of a cancelled reservation, sent again after ops deleted its room type, answered ${replayed.status ?? replayed.error}, not 200 with the reservation`,
    replayed,
  );
  ctx.expect(
    JSON.stringify(replayed.body) === JSON.stringify(kept),
    'the request sent again was not answered with the cancelled reservation',
    replayed,
  );
  const other = okBody<RoomType>(
    ctx,
    await api.createRoomType(rt.hotelId, { name: 'Suite', totalInventory: 2, rateMinor: 9_000, currency: 'CHF' }),
    201,
    'a room type with nothing reserved',
  );
  const hg = await api.deleteHotel(rt.hotelId);
  ctx.expect(
    hg.status === 204,
    `deleting a hotel with no reservation to come answered ${hg.status ?? hg.error}, not 204`,
    hg,
  );
  ctx.expectStatus(await api.getHotel(rt.hotelId), 404, 'hotel_not_found');
  ctx.expectStatus(await api.getRoomType(other.hotelId, other.roomTypeId), 404, 'hotel_not_found');
  ctx.expectStatus(await api.deleteHotel(rt.hotelId), 404, 'hotel_not_found');
  ctx.expectStatus(await api.updateHotel(rt.hotelId, newHotel), 404, 'hotel_not_found');
  await limitEdges(ctx, api);
  await todayEdges(ctx, api);
  ctx.changed('hotels and room types made and deleted by HR-C5');
}

/**
 * Lowering at the edges of the 110% rule, in integers: 110% of 5 is 5 (5.5 rounded down), so 6 reserved refuse it;
 * 110% of 10 is exactly 11, so 11 reserved allow it, and then hold the night full.
 */
async function limitEdges(ctx: CheckContext, api: HrApi): Promise<void> {
  const rt = await freshRoomType(ctx, api, 12);
  const lower = (to: number) =>
    api.updateRoomType(rt.hotelId, rt.roomTypeId, { name: rt.name, totalInventory: to, rateMinor: rt.rateMinor });
  okBody(ctx, await api.reserve(reservation(rt, 6, 3, 4)), 201, 'reserving 6 of 12 rooms');
  const five = await lower(5);
  ctx.expect(
    five.status === 409,
    `lowering the inventory to 5 with 6 reserved (110% of 5 is 5, rounded down) answered ${five.status ?? five.error}, not 409`,
    five,
  );
  ctx.expectStatus(five, 409, 'inventory_below_reserved');
  okBody(ctx, await api.reserve(reservation(rt, 5, 3, 4)), 201, 'reserving 5 more (11 of 12)');
  const ten = await lower(10);
  ctx.expect(
    ten.status === 200,
    `lowering the inventory to 10 with 11 reserved (exactly 110% of 10) answered ${ten.status ?? ten.error}, not 200`,
    ten,
  );
  await expectRoomType(ctx, api, { ...rt, totalInventory: 10 }, 'lowered to exactly its reserved 110%');
  ctx.expectStatus(await api.reserve(reservation(rt, 1, 3, 4)), 409, 'rooms_unavailable');
}

/**
 * The edges at today (UTC): a stay that starts today is not over (its check-out day is after today), so it blocks
 * deleting its room type and hotel; tonight is a night "from today on", so lowering the inventory under tonight's
 * reservations is refused. A run that crosses midnight UTC grades none of it (today moved under the requests).
 */
async function todayEdges(ctx: CheckContext, api: HrApi): Promise<void> {
  const today = day(0);
  const rt = await freshRoomType(ctx, api, 2);
  const tonight = reservation(rt, 2, 0, 1);
  const outcomes: [boolean, string, Exchange][] = [];
  const expect = (ok: boolean, why: string, x: Exchange) => outcomes.push([ok, why, x]);
  const made = await api.reserve(tonight);
  expect(made.status === 201, `reserving 2 rooms for tonight (${today}) answered ${made.status ?? made.error}`, made);
  const lowered = await api.updateRoomType(rt.hotelId, rt.roomTypeId, {
    name: rt.name,
    totalInventory: 1,
    rateMinor: rt.rateMinor,
  });
  expect(
    lowered.status === 409 && codeOf(lowered) === 'inventory_below_reserved',
    `lowering the inventory to 1 with 2 reserved tonight (${today}) answered ${said(lowered)}, not 409 inventory_below_reserved`,
    lowered,
  );
  const rtx = await api.deleteRoomType(rt.hotelId, rt.roomTypeId);
  expect(
    rtx.status === 409 && codeOf(rtx) === 'room_type_has_reservations',
    `deleting a room type with a stay starting today answered ${said(rtx)}, not 409 room_type_has_reservations`,
    rtx,
  );
  const hx = await api.deleteHotel(rt.hotelId);
  expect(
    hx.status === 409 && codeOf(hx) === 'hotel_has_reservations',
    `deleting a hotel with a stay starting today answered ${said(hx)}, not 409 hotel_has_reservations`,
    hx,
  );
  const kept = await api.getRoomType(rt.hotelId, rt.roomTypeId);
  expect(kept.status === 200, `the room type after refused deletes answered ${kept.status ?? kept.error}`, kept);
  // Cancelled, a stay that started today gives tonight's rooms back too (every night it covered): availability
  // (read first, so a cache holds tonight) shows none reserved, and the lowering refused above is now accepted.
  await api.availability(rt.hotelId, rt.roomTypeId, today, day(1));
  const cancelled = await api.cancel(tonight.reservationId);
  expect(cancelled.status === 200, `cancelling tonight's reservation answered ${said(cancelled)}`, cancelled);
  const back = await availabilityBecomes(ctx, api, rt, today, day(1), (n) => reservedDiffers(n, new Map(), 2));
  expect(back === null, `after tonight's reservation was cancelled, tonight (1 s allowed): ${back}`, cancelled);
  const lowerNow = await api.updateRoomType(rt.hotelId, rt.roomTypeId, {
    name: rt.name,
    totalInventory: 1,
    rateMinor: rt.rateMinor,
  });
  expect(
    lowerNow.status === 200,
    `lowering the inventory to 1 once tonight's 2 rooms were cancelled answered ${said(lowerNow)}, not 200: the cancellation kept tonight's rooms`,
    lowerNow,
  );
  if (day(0) !== today) {
    ctx.evidence.todayEdges = `not graded: the UTC day changed from ${today} during the check`;
    return;
  }
  for (const [ok, why, x] of outcomes) ctx.expect(ok, why, x);
  ctx.evidence.todayEdges = `graded on ${today}`;
}
