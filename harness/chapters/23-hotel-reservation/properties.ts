// HR-I2..I4: the chapter's invariants as fast-check properties over the wire, each with the check's seed and a
// shrunk counterexample when it fails. What a property asserts is read back from the service (availability,
// reservations, a guest's history) and compared with a model the harness keeps, never taken from the answer that
// claims it was done.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  availabilityBecomes,
  capacityOf,
  day,
  freshRoomType,
  type HrApi,
  hrApi,
  type NewReservation,
  nightsOf,
  okBody,
  type Reservation,
  type ReservationList,
  type RoomType,
  reservedDiffers,
  uniqueId,
} from './api.ts';

/** The window the generated ranges fall in: nights day(FIRST) .. day(FIRST + WINDOW - 1). */
const FIRST = 3;
const WINDOW = 10;

type Command =
  | { kind: 'reserve'; slot: number; count: number; start: number; nights: number }
  | { kind: 'fill'; slot: number; start: number; nights: number }
  | { kind: 'cancel'; slot: number; times: number }
  | { kind: 'rate'; at: number; rateMinor: number }
  | { kind: 'badRange'; start: number; nights: number };

const range = { start: fc.nat({ max: 6 }), nights: fc.integer({ min: 1, max: 4 }) };
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      slot: fc.nat({ max: 3 }),
      count: fc.integer({ min: 1, max: 6 }),
      ...range,
    }),
  },
  // Exactly the rooms left within 110% on the range (the model says how many): the limit itself is graded.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fill' as const), slot: fc.nat({ max: 3 }), ...range }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      slot: fc.nat({ max: 3 }),
      times: fc.integer({ min: 1, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rate' as const),
      at: fc.nat({ max: WINDOW - 1 }),
      rateMinor: fc.integer({ min: 0, max: 99_999 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('badRange' as const),
      start: fc.integer({ min: -3, max: 6 }),
      nights: fc.integer({ min: -2, max: 0 }),
    }),
  },
);

interface ModelReservation {
  body: NewReservation;
  status: 'confirmed' | 'cancelled';
  totalMinor: number;
}

/** The harness's own account of a room type: reserved rooms per night, reservations, rates. */
class Model {
  readonly reserved = new Map<string, number>();
  readonly reservations = new Map<string, ModelReservation>();
  readonly rates = new Map<string, number>();
  constructor(readonly rt: RoomType) {}

  fits(nights: string[], count: number): boolean {
    return nights.every((d) => (this.reserved.get(d) ?? 0) + count <= capacityOf(this.rt.totalInventory));
  }
  price(nights: string[], count: number): number {
    return nights.reduce((a, d) => a + (this.rates.get(d) ?? this.rt.rateMinor), 0) * count;
  }
  add(nights: string[], n: number): void {
    for (const d of nights) this.reserved.set(d, (this.reserved.get(d) ?? 0) + n);
  }
}

const sameRequest = (a: NewReservation, b: NewReservation) =>
  (Object.keys(b) as (keyof NewReservation)[]).every((k) => a[k] === b[k]);

function expectReservation(ctx: CheckContext, x: Exchange, want: ModelReservation, what: string): void {
  const got = x.body as Reservation;
  for (const k of Object.keys(want.body) as (keyof NewReservation)[])
    ctx.expect(got[k] === want.body[k], `${what}: ${k} is ${got[k]}, expected ${want.body[k]}`, x);
  ctx.expect(got.status === want.status, `${what}: status ${got.status}, expected ${want.status}`, x);
  ctx.expect(
    got.totalMinor === want.totalMinor,
    `${what}: total ${got.totalMinor}, expected ${want.totalMinor} (each night's rate at reservation time x rooms)`,
    x,
  );
}

export async function modelSequence(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const arb = fc.record({
    // Below 10 rooms 110% rounds down to the inventory itself; from 10 on the allowance is at least one room.
    inventory: fc.oneof(
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 9, max: 14 }),
      fc.integer({ min: 9, max: 14 }),
    ),
    commands: fc.array(commandArb, { minLength: 1, maxLength: 14 }),
  });
  let steps = 0;
  await ctx.property(arb, async ({ inventory, commands }) => {
    const rt = await freshRoomType(ctx, api, inventory, 10_000);
    const m = new Model(rt);
    const guest = uniqueId('g');
    const run = uniqueId('i2');
    for (const c of commands) {
      steps++;
      if (c.kind === 'reserve' || c.kind === 'fill') {
        const startDate = day(FIRST + c.start);
        const endDate = day(FIRST + c.start + c.nights);
        const nights = nightsOf(startDate, endDate);
        const left = Math.min(...nights.map((d) => capacityOf(inventory) - (m.reserved.get(d) ?? 0)));
        const body: NewReservation = {
          reservationId: `${run}-${c.slot}`,
          hotelId: rt.hotelId,
          roomTypeId: rt.roomTypeId,
          roomCount: c.kind === 'fill' ? Math.min(100, Math.max(1, left)) : c.count,
          startDate,
          endDate,
          guestId: guest,
        };
        const x = await api.reserve(body);
        const known = m.reservations.get(body.reservationId);
        if (known && sameRequest(known.body, body)) {
          ctx.expect(x.status === 200, `sending reservation ${body.reservationId} again: ${x.status}, not 200`, x);
          expectReservation(ctx, x, known, `the replay of ${body.reservationId}`);
        } else if (known) {
          ctx.expectStatus(x, 409, 'idempotency_key_reused');
        } else if (m.fits(nights, body.roomCount)) {
          const want: ModelReservation = { body, status: 'confirmed', totalMinor: m.price(nights, body.roomCount) };
          ctx.expect(
            x.status === 201,
            `${body.roomCount} rooms for ${body.startDate}..${body.endDate} fit within 110% of ${inventory} (reserved per night ${nights.map((d) => m.reserved.get(d) ?? 0)}), answered ${x.status}`,
            x,
          );
          expectReservation(ctx, x, want, `reservation ${body.reservationId}`);
          m.reservations.set(body.reservationId, want);
          m.add(nights, body.roomCount);
        } else {
          ctx.expect(
            x.status === 409,
            `${body.roomCount} rooms for ${body.startDate}..${body.endDate} exceed 110% of ${inventory} (reserved per night ${nights.map((d) => m.reserved.get(d) ?? 0)}), answered ${x.status}`,
            x,
          );
          ctx.expectStatus(x, 409, 'rooms_unavailable');
        }
      } else if (c.kind === 'cancel') {
        const id = `${run}-${c.slot}`;
        const known = m.reservations.get(id);
        for (let t = 0; t < c.times; t++) {
          const x = await api.cancel(id);
          if (!known) {
            ctx.expectStatus(x, 404, 'reservation_not_found');
            continue;
          }
          ctx.expect(x.status === 200, `cancelling ${id}: ${x.status}`, x);
          if (known.status === 'confirmed')
            m.add(nightsOf(known.body.startDate, known.body.endDate), -known.body.roomCount);
          known.status = 'cancelled';
          expectReservation(ctx, x, known, `cancelling ${id}`);
        }
      } else if (c.kind === 'rate') {
        okBody(
          ctx,
          await api.setRates(rt.hotelId, rt.roomTypeId, [{ date: day(FIRST + c.at), rateMinor: c.rateMinor }]),
          200,
          'setting a rate',
        );
        m.rates.set(day(FIRST + c.at), c.rateMinor);
      } else {
        const id = uniqueId('i2bad');
        const x = await api.reserve({
          reservationId: id,
          hotelId: rt.hotelId,
          roomTypeId: rt.roomTypeId,
          roomCount: 1,
          startDate: day(FIRST + c.start),
          endDate: day(FIRST + c.start + c.nights),
          guestId: guest,
        });
        ctx.expectStatus(x, 422, 'invalid_dates');
      }
    }
    // Read back: every night of the window, and every reservation with its status.
    const why = await availabilityBecomes(ctx, api, rt, day(FIRST), day(FIRST + WINDOW), (nights) =>
      reservedDiffers(nights, m.reserved, inventory),
    );
    ctx.expect(why === null, `availability after ${commands.length} steps differs from the model: ${why}`);
    for (const [id, want] of m.reservations) {
      const x = await api.getReservation(id);
      ctx.expect(x.status === 200, `reading ${id}: ${x.status}`, x);
      expectReservation(ctx, x, want, `reading ${id}`);
    }
    const lx = await api.list(guest);
    const listed = okBody<ReservationList>(ctx, lx, 200, "the guest's history").reservations.map(
      (r) => r.reservationId,
    );
    ctx.expect(
      listed.length === m.reservations.size && [...m.reservations.keys()].every((id) => listed.includes(id)),
      `the guest's history lists ${listed.length} reservations, ${m.reservations.size} were made`,
      lx,
    );
  });
  ctx.evidence.steps = steps;
}

/** Sends every request at once and waits for all the answers. */
function all<T>(items: readonly T[], send: (t: T) => Promise<Exchange>): Promise<Exchange[]> {
  return Promise.all(items.map(send));
}

export async function raceForLastRooms(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const arb = fc.record({
    inventory: fc.integer({ min: 1, max: 12 }),
    left: fc.integer({ min: 1, max: 3 }),
    clients: fc.array(
      fc.record({
        count: fc.integer({ min: 1, max: 2 }),
        start: fc.nat({ max: 2 }),
        nights: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 12, maxLength: 24 },
    ),
  });
  let sent = 0;
  let accepted = 0;
  await ctx.property(arb, async ({ inventory, left, clients }) => {
    const rt = await freshRoomType(ctx, api, inventory);
    const cap = capacityOf(inventory);
    const window = nightsOf(day(FIRST), day(FIRST + 5));
    const reserved = new Map<string, number>();
    // Fill the window up to `left` rooms below 110%, one reservation at a time, and read it once (so a cache has it).
    const pre = Math.max(0, cap - left);
    if (pre > 0) {
      const x = await api.reserve({
        reservationId: uniqueId('i3pre'),
        hotelId: rt.hotelId,
        roomTypeId: rt.roomTypeId,
        roomCount: pre,
        startDate: window[0]!,
        endDate: day(FIRST + 5),
        guestId: uniqueId('g'),
      });
      okBody(ctx, x, 201, `reserving ${pre} of ${cap} rooms first`);
      for (const d of window) reserved.set(d, pre);
    }
    await api.availability(rt.hotelId, rt.roomTypeId, window[0]!, day(FIRST + 5));
    const bodies = clients.map((c) => ({
      reservationId: uniqueId('i3'),
      hotelId: rt.hotelId,
      roomTypeId: rt.roomTypeId,
      roomCount: c.count,
      startDate: day(FIRST + c.start),
      endDate: day(FIRST + c.start + c.nights),
      guestId: uniqueId('g'),
    }));
    const answers = await all(bodies, (b) => api.reserve(b));
    sent += bodies.length;
    answers.forEach((x, i) => {
      const b = bodies[i]!;
      if (x.status === 201) {
        accepted++;
        for (const d of nightsOf(b.startDate, b.endDate)) reserved.set(d, (reserved.get(d) ?? 0) + b.roomCount);
      } else {
        ctx.expect(
          x.status === 409 &&
            ['rooms_unavailable', 'write_conflict'].includes((x.body as { code?: string })?.code ?? ''),
          `a racing reservation answered ${x.status ?? x.error} ${(x.body as { code?: string })?.code ?? ''}, not 201 or 409 rooms_unavailable / write_conflict`,
          x,
        );
      }
    });
    // The acknowledged reservations alone may not exceed 110% on any night...
    const over = window.filter((d) => (reserved.get(d) ?? 0) > cap);
    ctx.expect(
      over.length === 0,
      `overbooked: ${over.map((d) => `${d} has ${reserved.get(d)} rooms acknowledged`).join(', ')}; 110% of ${inventory} is ${cap}`,
    );
    // ...and each night's count read back is exactly what the acknowledged ones took.
    const why = await availabilityBecomes(ctx, api, rt, window[0]!, day(FIRST + 5), (nights) =>
      reservedDiffers(nights, reserved, inventory),
    );
    ctx.expect(why === null, `after ${bodies.length} clients raced: ${why}`);
    for (const [i, x] of answers.entries()) {
      if (x.status !== 201) continue;
      const r = await api.getReservation(bodies[i]!.reservationId);
      ctx.expect(
        r.status === 200 && (r.body as Reservation).status === 'confirmed',
        `acknowledged ${bodies[i]!.reservationId} reads ${r.status}`,
        r,
      );
    }
  });
  ctx.evidence.sent = sent;
  ctx.evidence.accepted = accepted;
}

export async function duplicatesAtOnce(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const arb = fc.record({
    copies: fc.integer({ min: 4, max: 16 }),
    count: fc.integer({ min: 1, max: 5 }),
    nights: fc.integer({ min: 1, max: 4 }),
  });
  let copiesSent = 0;
  await ctx.property(arb, async ({ copies, count, nights }) => {
    // Once with rooms to spare, once with exactly the reservation's rooms: copies that passed a lookup before the
    // first one's transaction and waited behind its lock must still be answered as replays, not refused as full.
    for (const inventory of [50, count]) {
      await copiesOfOne(ctx, api, { copies, count, nights, inventory });
      copiesSent += copies;
    }
  });
  ctx.evidence.copiesSent = copiesSent;
}

/** One reservation sent `copies` times at once on a fresh room type: one 201, the rest 200, its rooms taken once. */
async function copiesOfOne(
  ctx: CheckContext,
  api: HrApi,
  { copies, count, nights, inventory }: { copies: number; count: number; nights: number; inventory: number },
): Promise<void> {
  const rt = await freshRoomType(ctx, api, inventory);
  const body = {
    reservationId: uniqueId('i4'),
    hotelId: rt.hotelId,
    roomTypeId: rt.roomTypeId,
    roomCount: count,
    startDate: day(FIRST),
    endDate: day(FIRST + nights),
    guestId: uniqueId('g'),
  };
  const answers = await all(Array.from({ length: copies }), () => api.reserve(body));
  const statuses = answers.map((x) => x.status);
  const of = `${copies} copies of one reservation of ${count} rooms (${inventory} in the room type)`;
  ctx.expect(
    statuses.filter((s) => s === 201).length === 1 && statuses.filter((s) => s === 200).length === copies - 1,
    `${of} sent at once answered ${statuses.join(',')}: expected one 201 and the rest 200`,
    answers.find((x) => x.status !== 200 && x.status !== 201),
  );
  const first = answers.find((x) => x.status === 201)?.body as Reservation | undefined;
  for (const x of answers)
    ctx.expect(JSON.stringify(x.body) === JSON.stringify(first), `${of}: answered with different reservations`, x);
  const expected = new Map(nightsOf(body.startDate, body.endDate).map((d) => [d, count]));
  const why = await availabilityBecomes(ctx, api, rt, day(FIRST), day(FIRST + 5), (n) =>
    reservedDiffers(n, expected, inventory),
  );
  ctx.expect(why === null, `after ${of}: ${why}`);
  const lx = await api.list(body.guestId);
  const listed = okBody<ReservationList>(ctx, lx, 200, "the guest's history").reservations;
  ctx.expect(listed.length === 1, `the guest's history lists the reservation ${listed.length} times`, lx);
  // Cancelling, sent as many times at once (a double click, a retry racing the first), gives the rooms back once.
  for (const x of await all(Array.from({ length: copies }), () => api.cancel(body.reservationId)))
    ctx.expect(
      x.status === 200 && (x.body as Reservation).status === 'cancelled',
      `${of}: its cancellation sent ${copies} times at once answered ${x.status ?? x.error} ${(x.body as Reservation | undefined)?.status ?? ''}`,
      x,
    );
  // First exactly the nights it covered: every one of them was read above (a cache may hold them all), so a
  // cancellation the cache never hears of shows here; a wider range would also read nights no cache has.
  const own = await availabilityBecomes(ctx, api, rt, body.startDate, body.endDate, (n) =>
    reservedDiffers(n, new Map(), inventory),
  );
  ctx.expect(own === null, `after cancelling it, its own nights ${body.startDate}..${body.endDate}: ${own}`);
  const back = await availabilityBecomes(ctx, api, rt, day(FIRST), day(FIRST + 5), (n) =>
    reservedDiffers(n, new Map(), inventory),
  );
  ctx.expect(back === null, `after cancelling it: ${back}`);
}

export type { HrApi };
