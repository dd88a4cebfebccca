// The answers the database faults (HR-F2: a restart, HR-F5: cuts inside a transaction) accept, judged the same way.
import type { Exchange } from '../../core/http-client.ts';
import type { NewReservation, Reservation } from './api.ts';

export const code = (x: Exchange) => (x.body as { code?: string } | undefined)?.code;

/** The status (or transport error) and problem code of an answer, for messages and evidence. */
export const said = (x: Exchange) => `${x.status ?? x.error}${code(x) ? ` ${code(x)}` : ''}`;

/** A documented "send it again": the database is unavailable, or (optimistic locking) a write conflict. */
export const refused = (x: Exchange) => x.status === 503 || (x.status === 409 && code(x) === 'write_conflict');

/** The reservation answered is the one asked for, confirmed. */
export function isFor(r: Reservation | undefined, b: NewReservation): boolean {
  return (
    r?.reservationId === b.reservationId &&
    r.hotelId === b.hotelId &&
    r.roomTypeId === b.roomTypeId &&
    r.roomCount === b.roomCount &&
    r.startDate === b.startDate &&
    r.endDate === b.endDate &&
    r.guestId === b.guestId &&
    r.status === 'confirmed'
  );
}
