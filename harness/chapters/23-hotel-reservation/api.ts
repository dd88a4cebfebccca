// The chapter's operations over the wire (every exchange validated against the spec by ctx.http), and what the spec
// fixes that the harness computes itself, never taking the implementation's word: the nights of a range, the 110%
// limit, the price of a stay.
import { randomBytes } from 'node:crypto';
import type { components } from '../../../specs/23-hotel-reservation/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient } from '../../core/http-client.ts';

export type Hotel = components['schemas']['Hotel'];
export type RoomType = components['schemas']['RoomType'];
export type Availability = components['schemas']['Availability'];
export type Night = components['schemas']['Night'];
export type Reservation = components['schemas']['Reservation'];
export type NewReservation = components['schemas']['NewReservation'];
export type ReservationList = components['schemas']['ReservationList'];

const DAY_MS = 86_400_000;

/** Today + offset days (UTC) as YYYY-MM-DD. Checks use offsets of 2 and more, so a run across midnight stays valid. */
export function day(offset: number): string {
  return new Date((Math.floor(Date.now() / DAY_MS) + offset) * DAY_MS).toISOString().slice(0, 10);
}

/** The nights of [start, end): the check-out day is not one. */
export function nightsOf(start: string, end: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t < Date.parse(`${end}T00:00:00Z`); t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Rooms a night may have reserved: 110% of its inventory, rounded down (the book's overbooking allowance). */
export function capacityOf(totalInventory: number): number {
  return Math.floor((totalInventory * 11) / 10);
}

/** An identifier no earlier check or run used on this target (hotels and reservations outlive a check). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** The spec's grading default for the staff key (setting `staffKey`). */
export const DEFAULT_STAFF_KEY = 'sdgrade-hotel-staff';

/** How an ops write authenticates: the staff key (default), none, or an Authorization header as given. */
export type Auth = { kind: 'staff' } | { kind: 'none' } | { kind: 'header'; value: string };

/** The Authorization header of hotel staff on this target. */
export function staffHeaders(ctx: CheckContext): Record<string, string> {
  return { authorization: `Bearer ${ctx.setting<string>('staffKey', DEFAULT_STAFF_KEY)}` };
}

export function hrApi(ctx: CheckContext, http: HttpClient = ctx.http) {
  const e = encodeURIComponent;
  const rt = (h: string, t: string) => `/v1/hotels/${e(h)}/room-types/${e(t)}`;
  const staff = staffHeaders(ctx);
  const as = (auth: Auth) =>
    auth.kind === 'staff'
      ? { headers: staff }
      : // A request without the staff key breaks the operation's security on purpose.
        { validRequest: false, ...(auth.kind === 'header' ? { headers: { authorization: auth.value } } : {}) };
  const ops = (method: string, path: string, auth: Auth, json?: unknown) =>
    http.send({ method, path, ...(json === undefined ? {} : { json }), ...as(auth) });
  return {
    createHotel: (body: Record<string, unknown>, auth: Auth = { kind: 'staff' }) =>
      ops('POST', '/v1/hotels', auth, body),
    getHotel: (h: string) => http.send({ method: 'GET', path: `/v1/hotels/${e(h)}` }),
    updateHotel: (h: string, body: Record<string, unknown>, auth: Auth = { kind: 'staff' }) =>
      ops('PUT', `/v1/hotels/${e(h)}`, auth, body),
    deleteHotel: (h: string, auth: Auth = { kind: 'staff' }) => ops('DELETE', `/v1/hotels/${e(h)}`, auth),
    createRoomType: (h: string, body: Record<string, unknown>, auth: Auth = { kind: 'staff' }) =>
      ops('POST', `/v1/hotels/${e(h)}/room-types`, auth, body),
    getRoomType: (h: string, t: string) => http.send({ method: 'GET', path: rt(h, t) }),
    updateRoomType: (h: string, t: string, body: Record<string, unknown>, auth: Auth = { kind: 'staff' }) =>
      ops('PUT', rt(h, t), auth, body),
    deleteRoomType: (h: string, t: string, auth: Auth = { kind: 'staff' }) => ops('DELETE', rt(h, t), auth),
    setRates: (h: string, t: string, rates: { date: string; rateMinor: number }[], auth: Auth = { kind: 'staff' }) =>
      ops('PUT', `${rt(h, t)}/rates`, auth, { rates }),
    availability: (h: string, t: string, startDate: string, endDate: string) =>
      http.send({
        method: 'GET',
        path: `${rt(h, t)}/availability?${new URLSearchParams({ startDate, endDate })}`,
      }),
    reserve: (body: NewReservation | Record<string, unknown>) =>
      http.send({ method: 'POST', path: '/v1/reservations', json: body }),
    getReservation: (id: string) => http.send({ method: 'GET', path: `/v1/reservations/${e(id)}` }),
    list: (guestId: string) =>
      http.send({ method: 'GET', path: `/v1/reservations?${new URLSearchParams({ guestId })}` }),
    cancel: (id: string) => http.send({ method: 'DELETE', path: `/v1/reservations/${e(id)}` }),
  };
}

export type HrApi = ReturnType<typeof hrApi>;

/** The body of an answer that must have `status`; fails the check otherwise. */
export function okBody<T>(ctx: CheckContext, x: Exchange, status: number, what: string): T {
  ctx.expect(x.status === status, `${what}: expected ${status}, got ${x.status ?? x.error}`, x);
  return x.body as T;
}

/** A fresh hotel with one room type of `inventory` rooms at `rateMinor` a night. */
export async function freshRoomType(
  ctx: CheckContext,
  api: HrApi,
  inventory: number,
  rateMinor = 10_000,
  currency = 'EUR',
): Promise<RoomType> {
  const h = okBody<Hotel>(
    ctx,
    await api.createHotel({ name: uniqueId('hotel'), address: 'Quay Street 1, Ålesund' }),
    201,
    'creating a hotel',
  );
  return okBody<RoomType>(
    ctx,
    await api.createRoomType(h.hotelId, { name: 'Double', totalInventory: inventory, rateMinor, currency }),
    201,
    'creating a room type',
  );
}

/**
 * Availability read until it shows what `want` expects: the spec lets the answer lag the database by at most 1 s
 * (the book's cache). Returns null when it matched, else what `want` said about the last answer.
 * With `holdMs`, once it matched it is read on for that long and must keep matching: a cache an implementation
 * skipped for a moment (a slow reply on a busy machine sends reads to the database) must not hide a stale one.
 */
export async function availabilityBecomes(
  ctx: CheckContext,
  api: HrApi,
  rt: RoomType,
  start: string,
  end: string,
  want: (nights: Night[]) => string | null,
  holdMs = 0,
): Promise<string | null> {
  const until = Date.now() + 1000;
  let matchedAt: number | undefined;
  for (;;) {
    const x = await api.availability(rt.hotelId, rt.roomTypeId, start, end);
    const a = okBody<Availability>(ctx, x, 200, `availability ${start}..${end}`);
    const why = want(a.nights);
    if (why === null) {
      matchedAt ??= Date.now();
      if (Date.now() - matchedAt >= holdMs) return null;
    } else if (matchedAt !== undefined) {
      return `right ${Date.now() - matchedAt} ms after it first was, then wrong again: ${why}`;
    } else if (Date.now() >= until) return why;
    await ctx.sleep(matchedAt === undefined ? 25 : 100);
  }
}

/**
 * Availability read, with nothing changing any more, until `want` holds `holdMs` in a row, beginning within
 * `withinMs` (the caller scales it): for faults whose lag is not the spec's 1 s (a cache slowed or restarted on
 * purpose). Right for a moment and then wrong again starts the count anew. Null, or why not.
 */
export async function availabilitySettles(
  ctx: CheckContext,
  api: HrApi,
  rt: RoomType,
  [start, end]: readonly [string, string],
  want: (nights: Night[]) => string | null,
  { withinMs, holdMs }: { withinMs: number; holdMs: number },
): Promise<string | null> {
  const until = Date.now() + withinMs;
  let matchedAt: number | undefined;
  let wasRight = false;
  for (;;) {
    const x = await api.availability(rt.hotelId, rt.roomTypeId, start, end);
    if (x.status !== 200) return `availability answered ${x.status ?? x.error}`;
    const why = want((x.body as Availability).nights);
    if (why === null) {
      matchedAt ??= Date.now();
      wasRight = true;
      if (Date.now() - matchedAt >= holdMs) return null;
    } else {
      matchedAt = undefined;
      if (Date.now() >= until) return `${wasRight ? 'right for a while, then wrong again: ' : ''}${why}`;
    }
    await ctx.sleep(50);
  }
}

/** Compares each night's reserved count with the expected one; null when all agree. */
export function reservedDiffers(nights: Night[], expected: Map<string, number>, inventory: number): string | null {
  const diffs: string[] = [];
  for (const n of nights) {
    const want = expected.get(n.date) ?? 0;
    const avail = Math.max(0, capacityOf(inventory) - want);
    if (n.totalReserved !== want || n.available !== avail || n.totalInventory !== inventory)
      diffs.push(
        `${n.date}: reserved ${n.totalReserved} available ${n.available} of ${n.totalInventory}, expected reserved ${want} available ${avail} of ${inventory}`,
      );
  }
  return diffs.length ? diffs.join('; ') : null;
}
