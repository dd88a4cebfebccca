// HR-C3: availability answers one entry per night of [startDate, endDate) with the inventory, 110% of it available
// and each night's rate, shows a reservation within the 1 s lag, keeps a sibling room type's nights its own, and
// refuses bad ranges (422) and unknown room types (404). Every response is validated against the spec by ctx.http.
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Availability,
  availabilityBecomes,
  capacityOf,
  day,
  freshRoomType,
  hrApi,
  nightsOf,
  okBody,
  type RoomType,
  uniqueId,
} from './api.ts';
import { horizonEdge } from './horizon-edge.ts';

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
