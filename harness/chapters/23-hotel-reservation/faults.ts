// HR-F1: kill -9 of the service right after acknowledged reservations and cancellations, then a restart. After
// each crash everything acknowledged in the whole check is read back (each reservation and its status, each
// night's reserved count: one night first, then the window, so the window is read with a cache partly filled),
// every reservation is sent again (a replay must reserve nothing more), and new reservations are made.
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

interface Acked {
  body: NewReservation;
  status: 'confirmed' | 'cancelled';
}

async function crash(ctx: CheckContext, api: HrApi, rt: RoomType): Promise<void> {
  await ctx.target.kill();
  const down = await api.getRoomType(rt.hotelId, rt.roomTypeId);
  ctx.expect(down.status === null, 'the service still answered after kill -9: the fault did not bite');
  await ctx.target.start();
  ctx.changed('killed (kill -9) and restarted the service');
}

function reservedBy(acked: readonly Acked[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of acked)
    if (a.status === 'confirmed')
      for (const d of nightsOf(a.body.startDate, a.body.endDate)) m.set(d, (m.get(d) ?? 0) + a.body.roomCount);
  return m;
}

async function verifyAcked(ctx: CheckContext, api: HrApi, rt: RoomType, acked: readonly Acked[], when: string) {
  for (const a of acked) {
    const x = await api.getReservation(a.body.reservationId);
    ctx.expect(x.status === 200, `${when}: acknowledged reservation ${a.body.reservationId} reads ${x.status}`, x);
    const r = x.body as Reservation;
    ctx.expect(
      r.status === a.status && r.roomCount === a.body.roomCount && r.startDate === a.body.startDate,
      `${when}: ${a.body.reservationId} reads ${r.status} ${r.roomCount} rooms from ${r.startDate}; acknowledged ${a.status} ${a.body.roomCount} from ${a.body.startDate}`,
      x,
    );
  }
  // One night first, then the whole window: after a restart a cache holds only what was read since, so the window
  // is read partly cached (a cache's gaps must be read from the database, not shown as nothing reserved).
  for (const [start, end] of [
    [day(3), day(4)],
    [day(3), day(13)],
  ] as const) {
    const why = await availabilityBecomes(ctx, api, rt, start, end, (n) =>
      reservedDiffers(n, reservedBy(acked), rt.totalInventory),
    );
    ctx.expect(
      why === null,
      `${when}: the inventory ${start}..${end} is not what the acknowledged reservations took: ${why}`,
    );
  }
}

export async function killService(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, 40);
  const guest = uniqueId('g');
  const acked: Acked[] = [];
  const rounds = 2;
  for (let round = 0; round < rounds; round++) {
    const when = `after kill -9 ${round + 1}`;
    for (let i = 0; i < 8; i++) {
      const start = 3 + ((i * 3 + round) % 7);
      const body: NewReservation = {
        reservationId: uniqueId('f1'),
        hotelId: rt.hotelId,
        roomTypeId: rt.roomTypeId,
        roomCount: 1 + (i % 3),
        startDate: day(start),
        endDate: day(start + 1 + (i % 3)),
        guestId: guest,
      };
      okBody<Reservation>(ctx, await api.reserve(body), 201, `${when}: reserving`);
      acked.push({ body, status: 'confirmed' });
    }
    // Cancel two of this round's, the last answer right before the kill.
    for (const a of acked.slice(-3, -1)) {
      okBody<Reservation>(ctx, await api.cancel(a.body.reservationId), 200, `${when}: cancelling`);
      a.status = 'cancelled';
    }
    await crash(ctx, api, rt);
    await verifyAcked(ctx, api, rt, acked, when);
    // Every reservation sent again: 200, the same status, and nothing reserved twice.
    for (const a of acked) {
      const x = await api.reserve(a.body);
      ctx.expect(x.status === 200, `${when}: sending ${a.body.reservationId} again answered ${x.status}, not 200`, x);
      ctx.expect(
        (x.body as Reservation).status === a.status,
        `${when}: the replay of ${a.body.reservationId} is ${(x.body as Reservation).status}`,
        x,
      );
    }
    await verifyAcked(ctx, api, rt, acked, `${when}, after every replay`);
  }
  // Writing after the last restart: a new reservation is taken on top of everything acknowledged before it.
  const fresh: NewReservation = {
    reservationId: uniqueId('f1'),
    hotelId: rt.hotelId,
    roomTypeId: rt.roomTypeId,
    roomCount: 2,
    startDate: day(4),
    endDate: day(6),
    guestId: guest,
  };
  okBody<Reservation>(ctx, await api.reserve(fresh), 201, 'reserving after the last restart');
  acked.push({ body: fresh, status: 'confirmed' });
  await verifyAcked(ctx, api, rt, acked, 'at the end');
  const lx = await api.list(guest);
  ctx.expect(
    okBody<{ reservations: Reservation[] }>(ctx, lx, 200, "the guest's history").reservations.length === acked.length,
    `the guest's history does not list the ${acked.length} reservations acknowledged`,
    lx,
  );
  ctx.evidence.acknowledged = acked.length;
  ctx.evidence.kills = rounds;
}
