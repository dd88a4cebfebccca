// HR-C5: the ops side of hotels and room types (the book's PUT and DELETE, "only available to ops"): the staff key,
// updates and deletes with their documented refusals. HR-C6 (ops-cache.ts) and HR-I5 (ops-interleaved.ts) use the
// helpers exported here. What is graded is read back (the hotel, the room type, availability, the reservations),
// never taken from the answer that claims it was done.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  type Availability,
  availabilityBecomes,
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

  // Without the staff key, or with another, every ops write is 401 and changes nothing.
  for (const auth of [{ kind: 'none' }, { kind: 'header', value: 'Bearer not-the-staff-key' }] as const) {
    const how = auth.kind === 'none' ? 'without a key' : 'with another key';
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
  ctx.changed('hotels and room types made and deleted by HR-C5');
}
