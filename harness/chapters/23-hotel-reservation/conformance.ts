// HR-C1, HR-C2: readiness and unknown routes; hotels, room types and rates. Each response is also validated against
// the spec by ctx.http, so a wrong status, content type or body shape fails here too. HR-C3 (availability) is in
// search-conformance.ts, HR-C4 (reservations) in reservation-conformance.ts.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { day, type Hotel, hrApi, okBody, type RoomType, staffHeaders, uniqueId } from './api.ts';

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
