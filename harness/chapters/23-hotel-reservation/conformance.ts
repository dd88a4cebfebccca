// HR-C1..C4: every operation and every documented status, errors included. Each response is also validated against
// the spec by ctx.http, so a wrong status, content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  type Availability,
  availabilityBecomes,
  capacityOf,
  day,
  freshRoomType,
  type Hotel,
  hrApi,
  type NewReservation,
  nightsOf,
  okBody,
  type Reservation,
  type ReservationList,
  type RoomType,
  staffHeaders,
  uniqueId,
} from './api.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/v1/hotels' },
    { method: 'PATCH', path: '/v1/hotels/h1' },
    { method: 'GET', path: '/v1/hotels/h1/room-types' },
    { method: 'POST', path: '/v1/hotels/h1/room-types/t1/rates' },
    { method: 'PUT', path: '/v1/hotels/h1/room-types/t1/availability' },
    { method: 'PUT', path: '/v1/reservations' },
    { method: 'POST', path: '/v1/reservations/r1' },
  ]);
}

export async function hotelConformance(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const given = { name: 'Hôtel Ålesund 😀', address: '1 Quay Street, Zürich' };
  const cx = await api.createHotel(given);
  const h = okBody<Hotel>(ctx, cx, 201, 'creating a hotel');
  ctx.expect(h.name === given.name && h.address === given.address, 'the hotel created is not the one given', cx);
  const gx = await api.getHotel(h.hotelId);
  ctx.expect(JSON.stringify(okBody<Hotel>(ctx, gx, 200, 'reading it')) === JSON.stringify(h), 'read differs', gx);
  const other = okBody<Hotel>(ctx, await api.createHotel(given), 201, 'a second hotel of the same name');
  ctx.expect(other.hotelId !== h.hotelId, 'two hotels got one identifier');

  const rtBody = { name: 'Double', totalInventory: 37, rateMinor: 18_900, currency: 'NZD' };
  const rx = await api.createRoomType(h.hotelId, rtBody);
  const rt = okBody<RoomType>(ctx, rx, 201, 'creating a room type');
  ctx.expect(
    rt.hotelId === h.hotelId &&
      rt.name === rtBody.name &&
      rt.totalInventory === rtBody.totalInventory &&
      rt.rateMinor === rtBody.rateMinor &&
      rt.currency === rtBody.currency,
    `the room type created is not the one given: ${JSON.stringify(rt)}`,
    rx,
  );
  const rgx = await api.getRoomType(h.hotelId, rt.roomTypeId);
  ctx.expect(JSON.stringify(okBody<RoomType>(ctx, rgx, 200, 'reading it')) === JSON.stringify(rt), 'read differs', rgx);
  // A room type belongs to its hotel: through another hotel it is not found.
  ctx.expectStatus(await api.getRoomType(other.hotelId, rt.roomTypeId), 404, 'room_type_not_found');
  const zero = await api.createRoomType(h.hotelId, { ...rtBody, totalInventory: 0, rateMinor: 0 });
  ctx.expect(okBody<RoomType>(ctx, zero, 201, 'a room type of 0 rooms').totalInventory === 0, 'not 0 rooms', zero);

  const sx = await api.setRates(h.hotelId, rt.roomTypeId, [
    { date: day(3), rateMinor: 21_900 },
    { date: day(4), rateMinor: 0 },
  ]);
  ctx.expect(okBody<{ updated: number }>(ctx, sx, 200, 'setting two rates').updated === 2, 'updated is not 2', sx);

  const none = uniqueId('none');
  ctx.expectStatus(await api.getHotel(none), 404, 'hotel_not_found');
  ctx.expectStatus(await api.createRoomType(none, rtBody), 404, 'hotel_not_found');
  ctx.expectStatus(await api.getRoomType(none, rt.roomTypeId), 404, 'hotel_not_found');
  ctx.expectStatus(await api.getRoomType(h.hotelId, none), 404, 'room_type_not_found');
  ctx.expectStatus(await api.setRates(h.hotelId, none, [{ date: day(3), rateMinor: 1 }]), 404, 'room_type_not_found');

  // Bad bodies from hotel staff: what is graded is the 400, not the key.
  const send = (method: string, path: string, json: unknown) =>
    ctx.http.send({ method, path, json, headers: staffHeaders(ctx), validRequest: false });
  for (const bad of [{}, { name: '' }, { name: 'x', address: 'y'.repeat(201) }, { name: 'x', address: 'y', z: 1 }])
    ctx.expectStatus(await send('POST', '/v1/hotels', bad), 400, 'invalid_request');
  for (const bad of [
    { ...rtBody, totalInventory: -1 },
    { ...rtBody, totalInventory: 10_001 },
    { ...rtBody, totalInventory: 1.5 },
    { ...rtBody, totalInventory: '10' },
    { ...rtBody, currency: 'eur' },
    { ...rtBody, rateMinor: -1 },
    { name: 'x', totalInventory: 1, rateMinor: 1 },
  ])
    ctx.expectStatus(await send('POST', `/v1/hotels/${h.hotelId}/room-types`, bad), 400, 'invalid_request');
  for (const bad of [{ rates: [] }, { rates: [{ date: '2031-02-30', rateMinor: 1 }] }, { rates: [{ date: day(3) }] }])
    ctx.expectStatus(
      await send('PUT', `/v1/hotels/${h.hotelId}/room-types/${rt.roomTypeId}/rates`, bad),
      400,
      'invalid_request',
    );
  ctx.expectStatus(
    await ctx.http.send({ method: 'GET', path: '/v1/hotels/a%20b', validRequest: false }),
    400,
    'invalid_request',
  );
  const media = await ctx.http.send({
    method: 'POST',
    path: '/v1/hotels',
    headers: staffHeaders(ctx),
    rawBody: 'name=x',
    contentType: 'text/plain',
    validRequest: false,
  });
  ctx.expectStatus(media, 415, 'unsupported_media_type');
}

export async function availabilityConformance(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const inventory = 21;
  const rt = await freshRoomType(ctx, api, inventory, 12_345);
  const start = day(5);
  const end = day(9);
  // A second room type of the same hotel: its nights are its own, whatever the first one's show (or a cache holds).
  const siblingInventory = 7;
  const sibling = okBody<RoomType>(
    ctx,
    await api.createRoomType(rt.hotelId, {
      name: 'Single',
      totalInventory: siblingInventory,
      rateMinor: 4_321,
      currency: 'EUR',
    }),
    201,
    'a second room type in the same hotel',
  );
  okBody(ctx, await api.setRates(rt.hotelId, rt.roomTypeId, [{ date: day(6), rateMinor: 999 }]), 200, 'a rate');
  const x = await api.availability(rt.hotelId, rt.roomTypeId, start, end);
  const a = okBody<Availability>(ctx, x, 200, 'availability of a new room type');
  ctx.expect(a.hotelId === rt.hotelId && a.roomTypeId === rt.roomTypeId, 'availability names another room type', x);
  const want = nightsOf(start, end);
  ctx.expect(
    JSON.stringify(a.nights.map((n) => n.date)) === JSON.stringify(want),
    `nights ${a.nights.map((n) => n.date)} for ${start}..${end}; expected ${want} (the check-out day is not a night)`,
    x,
  );
  for (const n of a.nights) {
    ctx.expect(
      n.totalInventory === inventory && n.totalReserved === 0 && n.available === capacityOf(inventory),
      `${n.date}: ${n.totalReserved} reserved, ${n.available} available of ${n.totalInventory}; expected 0 and ${capacityOf(inventory)} (110%) of ${inventory}`,
      x,
    );
    const rate = n.date === day(6) ? 999 : 12_345;
    ctx.expect(n.rateMinor === rate, `${n.date}: rate ${n.rateMinor}, expected ${rate}`, x);
  }
  // After a reservation of 4 rooms for two nights, those nights show it.
  okBody(
    ctx,
    await api.reserve({
      reservationId: uniqueId('c3'),
      hotelId: rt.hotelId,
      roomTypeId: rt.roomTypeId,
      roomCount: 4,
      startDate: day(6),
      endDate: day(8),
      guestId: uniqueId('g'),
    }),
    201,
    'reserving 4 rooms',
  );
  const why = await availabilityBecomes(ctx, api, rt, start, end, (nights) => {
    const got = nights.map((n) => n.totalReserved).join();
    return got === '0,4,4,0' ? null : `reserved per night ${got}, expected 0,4,4,0`;
  });
  ctx.expect(why === null, `after reserving 4 rooms for ${day(6)}..${day(8)}: ${why}`);
  const sx = await api.availability(sibling.hotelId, sibling.roomTypeId, start, end);
  const s = okBody<Availability>(ctx, sx, 200, 'availability of the second room type');
  for (const n of s.nights)
    ctx.expect(
      n.totalInventory === siblingInventory &&
        n.totalReserved === 0 &&
        n.available === capacityOf(siblingInventory) &&
        n.rateMinor === 4_321,
      `${n.date} of the second room type of the hotel: ${n.totalReserved} reserved, ${n.available} available of ${n.totalInventory} at ${n.rateMinor}; expected 0, ${capacityOf(siblingInventory)} of ${siblingInventory} at 4321 (another room type's numbers?)`,
      sx,
    );

  for (const [s, e, what] of [
    [day(5), day(5), 'an empty range'],
    [day(9), day(5), 'end before start'],
    [day(-2), day(3), 'a start in the past'],
    [day(3), day(34), '31 nights'],
    [day(725), day(732), 'an end 732 days ahead'],
  ] as const) {
    const bad = await api.availability(rt.hotelId, rt.roomTypeId, s, e);
    ctx.expect(bad.status === 422, `${what} (${s}..${e}) answered ${bad.status ?? bad.error}, not 422`, bad);
    ctx.expectStatus(bad, 422, 'invalid_dates');
  }
  const longest = await api.availability(rt.hotelId, rt.roomTypeId, day(3), day(33));
  ctx.expect(okBody<Availability>(ctx, longest, 200, '30 nights').nights.length === 30, '30 nights not 30', longest);
  await horizonEdge(ctx, 'a search', (s, e) => api.availability(rt.hotelId, rt.roomTypeId, s, e));
  ctx.expectStatus(await api.availability(rt.hotelId, uniqueId('none'), start, end), 404, 'room_type_not_found');
  ctx.expectStatus(await api.availability(uniqueId('none'), rt.roomTypeId, start, end), 404, 'hotel_not_found');
  for (const q of [`startDate=${start}`, `startDate=${start}&endDate=2031-13-01`, `startDate=x&endDate=${end}`])
    ctx.expectStatus(
      await ctx.http.send({
        method: 'GET',
        path: `/v1/hotels/${rt.hotelId}/room-types/${rt.roomTypeId}/availability?${q}`,
        validRequest: false,
      }),
      400,
      'invalid_request',
    );
}

/**
 * The horizon's edge: a range whose check-out day is 730 days from today is accepted (its last night is the 729th), one
 * whose check-out day is 731 days ahead is 422 invalid_dates (the 730 days count to the check-out day, not to the last
 * night). Near midnight UTC the day may turn between computing the dates and the answer, which moves the edge a day:
 * then a 2xx for the later range is the spec's answer, and that edge is not graded this time.
 */
async function horizonEdge(
  ctx: CheckContext,
  what: string,
  send: (startDate: string, endDate: string) => Promise<Exchange>,
): Promise<void> {
  const [today, from, beyond, lastFrom, lastEnd] = [day(0), day(724), day(731), day(723), day(730)];
  const past = await send(from, beyond);
  if (!(past.status != null && past.status < 300 && day(0) !== today)) {
    ctx.expect(
      past.status === 422,
      `${what} ending 731 days from today (${from}..${beyond}) answered ${past.status ?? past.error}, not 422 (the 730 days end on the check-out day)`,
      past,
    );
    ctx.expectStatus(past, 422, 'invalid_dates');
  }
  const last = await send(lastFrom, lastEnd);
  ctx.expect(
    last.status != null && last.status < 300,
    `${what} ending 730 days from today (${lastFrom}..${lastEnd}) answered ${last.status ?? last.error}, not 2xx`,
    last,
  );
}

export async function reservationConformance(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const inventory = 10;
  const rt = await freshRoomType(ctx, api, inventory, 5_000, 'JPY');
  const guest = uniqueId('g');
  const body = {
    reservationId: uniqueId('c4'),
    hotelId: rt.hotelId,
    roomTypeId: rt.roomTypeId,
    roomCount: 3,
    startDate: day(10),
    endDate: day(13),
    guestId: guest,
  };
  const cx = await api.reserve(body);
  const r = okBody<Reservation>(ctx, cx, 201, 'reserving');
  for (const k of Object.keys(body) as (keyof typeof body)[])
    ctx.expect(r[k] === body[k], `the reservation's ${k} is ${r[k]}, not ${body[k]}`, cx);
  ctx.expect(r.status === 'confirmed', `a new reservation is ${r.status}`, cx);
  ctx.expect(
    r.totalMinor === 3 * 3 * 5_000 && r.currency === 'JPY',
    `3 rooms for 3 nights at 5000 JPY: total ${r.totalMinor} ${r.currency}, expected 45000 JPY`,
    cx,
  );
  // The same request again: 200 and the same reservation, nothing more reserved.
  const again = await api.reserve(body);
  ctx.expect(
    JSON.stringify(okBody<Reservation>(ctx, again, 200, 'the same reservation again')) === JSON.stringify(r),
    'the replay answered another reservation',
    again,
  );
  // Ops changes a night's rate of the stay: the same request is still the same request (its fields are the key's
  // terms, the price is the reservation's), answered 200 with the reservation as it was made, never refused.
  okBody(ctx, await api.setRates(rt.hotelId, rt.roomTypeId, [{ date: day(11), rateMinor: 7_000 }]), 200, 'a new rate');
  const repriced = await api.reserve(body);
  ctx.expect(
    repriced.status === 200 && JSON.stringify(repriced.body) === JSON.stringify(r),
    `the same request sent again after a night of its stay was repriced answered ${repriced.status ?? repriced.error}` +
      `${repriced.status === 200 ? ' with another reservation' : ''}, not 200 with the reservation made`,
    repriced,
  );
  const reused = await api.reserve({ ...body, roomCount: 2 });
  ctx.expectStatus(reused, 409, 'idempotency_key_reused');
  // Every field is part of the request: the same key from another guest is not a replay either.
  ctx.expectStatus(await api.reserve({ ...body, guestId: uniqueId('g') }), 409, 'idempotency_key_reused');
  await keyReusedForOtherStays(ctx, rt, body);
  const gx = await api.getReservation(r.reservationId);
  ctx.expect(JSON.stringify(okBody<Reservation>(ctx, gx, 200, 'reading it')) === JSON.stringify(r), 'read differs', gx);

  // 110% of 10 is 11: 3 taken, 8 more fit, then no more.
  const full = await api.reserve({ ...body, reservationId: uniqueId('c4'), roomCount: 9 });
  ctx.expectStatus(full, 409, 'rooms_unavailable');
  const eight = { ...body, reservationId: uniqueId('c4'), roomCount: 8, startDate: day(12), endDate: day(14) };
  okBody<Reservation>(ctx, await api.reserve(eight), 201, '8 more rooms, up to 110%');
  ctx.expectStatus(
    await api.reserve({ ...body, reservationId: uniqueId('c4'), roomCount: 1, startDate: day(12), endDate: day(13) }),
    409,
    'rooms_unavailable',
  );
  // A reservation that ends on the day the full night begins does not touch it.
  okBody<Reservation>(
    ctx,
    await api.reserve({ ...body, reservationId: uniqueId('c4'), roomCount: 8, startDate: day(10), endDate: day(12) }),
    201,
    'the nights before the full one',
  );

  // The first accepted start is today (UTC). Near midnight the day may turn between computing it and the answer;
  // then a 422 is the spec's answer for what became yesterday, and the edge is not graded this time.
  const today = day(0);
  const fromToday = await api.reserve({
    ...body,
    reservationId: uniqueId('c4'),
    roomCount: 1,
    startDate: today,
    endDate: day(1),
    guestId: uniqueId('g'),
  });
  if (!(fromToday.status === 422 && day(0) !== today))
    okBody<Reservation>(ctx, fromToday, 201, `a stay that starts today (${today}, UTC)`);

  for (const [s, e] of [
    [day(10), day(10)],
    [day(11), day(10)],
    [day(-1), day(2)],
    [day(2), day(33)],
  ] as const) {
    const id = uniqueId('c4');
    ctx.expectStatus(await api.reserve({ ...body, reservationId: id, startDate: s, endDate: e }), 422, 'invalid_dates');
    ctx.expectStatus(await api.getReservation(id), 404, 'reservation_not_found');
  }
  // The horizon's edge, as a reservation (one room, another guest; the range is far from the nights above).
  await horizonEdge(ctx, 'a reservation', (s, e) =>
    api.reserve({
      ...body,
      reservationId: uniqueId('c4'),
      roomCount: 1,
      startDate: s,
      endDate: e,
      guestId: uniqueId('g'),
    }),
  );
  ctx.expectStatus(await api.reserve({ ...body, reservationId: uniqueId('c4'), roomTypeId: uniqueId('x') }), 404);
  ctx.expectStatus(await api.getReservation(uniqueId('none')), 404, 'reservation_not_found');
  ctx.expectStatus(await api.cancel(uniqueId('none')), 404, 'reservation_not_found');
  for (const bad of [
    { ...body, roomCount: 0 },
    { ...body, roomCount: 101 },
    { ...body, roomCount: '3' },
    { ...body, startDate: '2031-02-29' },
    { ...body, reservationId: 'has space' },
    { ...body, extra: 1 },
    { hotelId: rt.hotelId },
  ])
    ctx.expectStatus(
      await ctx.http.send({ method: 'POST', path: '/v1/reservations', json: bad, validRequest: false }),
      400,
      'invalid_request',
    );

  // Cancelling: 200 cancelled, twice; the history lists every reservation of the guest, oldest first.
  const c1 = await api.cancel(r.reservationId);
  const cancelled = okBody<Reservation>(ctx, c1, 200, 'cancelling');
  ctx.expect(cancelled.status === 'cancelled', `after cancelling, status ${cancelled.status}`, c1);
  const c2 = await api.cancel(r.reservationId);
  ctx.expect(okBody<Reservation>(ctx, c2, 200, 'cancelling again').status === 'cancelled', 'not cancelled', c2);
  const replay = await api.reserve(body);
  ctx.expect(
    okBody<Reservation>(ctx, replay, 200, 'the cancelled reservation sent again').status === 'cancelled',
    'sending a cancelled reservation again did not answer it cancelled',
    replay,
  );
  const lx = await api.list(guest);
  const list = okBody<ReservationList>(ctx, lx, 200, "listing the guest's reservations").reservations;
  ctx.expect(
    list.length === 3 && list[0]!.reservationId === r.reservationId && list[0]!.status === 'cancelled',
    `the guest's history has ${list.length} reservations (expected 3, the cancelled one first)`,
    lx,
  );
  const empty = await api.list(uniqueId('nobody'));
  ctx.expect(
    okBody<ReservationList>(ctx, empty, 200, 'an unknown guest').reservations.length === 0,
    'not empty',
    empty,
  );
  ctx.expectStatus(
    await ctx.http.send({ method: 'GET', path: '/v1/reservations', validRequest: false }),
    400,
    'invalid_request',
  );
}

/**
 * HR-C4: the same reservationId naming another room type of the hotel, other dates, or another hotel is 409
 * `idempotency_key_reused`, never a replay (StrykerJS found the hotel left out of the comparison unnoticed). Another
 * hotel is named with this room type, which it does not have: that request may instead be refused 404
 * `room_type_not_found` (which comes first is the implementation's), but never answered as the reservation.
 */
async function keyReusedForOtherStays(ctx: CheckContext, rt: RoomType, body: NewReservation) {
  const api = hrApi(ctx);
  const sibling = okBody<RoomType>(
    ctx,
    await api.createRoomType(rt.hotelId, { name: 'Twin', totalInventory: 4, rateMinor: 5_000, currency: 'JPY' }),
    201,
    'creating a second room type of the hotel',
  );
  for (const [changed, what] of [
    [{ roomTypeId: sibling.roomTypeId }, 'another room type of the hotel'],
    [{ startDate: day(11) }, 'a later start'],
    [{ endDate: day(12) }, 'an earlier end'],
  ] as const) {
    const x = await api.reserve({ ...body, ...changed });
    const code = (x.body as { code?: string } | undefined)?.code;
    ctx.expect(
      x.status === 409 && code === 'idempotency_key_reused',
      `the same reservationId for ${what} answered ${x.status ?? x.error}${code ? ` ${code}` : ''}, not 409 idempotency_key_reused`,
      x,
    );
  }
  const elsewhere = await freshRoomType(ctx, api, 4);
  const x = await api.reserve({ ...body, hotelId: elsewhere.hotelId });
  const code = (x.body as { code?: string } | undefined)?.code;
  ctx.expect(
    (x.status === 409 && code === 'idempotency_key_reused') || (x.status === 404 && code === 'room_type_not_found'),
    `the same reservationId for another hotel answered ${x.status ?? x.error}${code ? ` ${code}` : ''}, not 409 idempotency_key_reused (or 404 room_type_not_found): taken as a replay of the reservation in the first hotel`,
    x,
  );
}
