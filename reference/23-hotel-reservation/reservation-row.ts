// A reservation as the relational store holds it (snake_case columns), and as the API answers it.
import type { Reservation } from './model.ts';

export interface ReservationRow {
  reservation_id: string;
  hotel_id: string;
  room_type_id: string;
  guest_id: string;
  start_date: string;
  end_date: string;
  room_count: number;
  status: 'confirmed' | 'cancelled';
  total_minor: number;
  currency: string;
  created_at: string;
}

export const toReservation = (r: ReservationRow): Reservation => ({
  reservationId: r.reservation_id,
  hotelId: r.hotel_id,
  roomTypeId: r.room_type_id,
  roomCount: Number(r.room_count),
  startDate: r.start_date,
  endDate: r.end_date,
  guestId: r.guest_id,
  status: r.status,
  totalMinor: Number(r.total_minor),
  currency: r.currency,
  createdAt: r.created_at,
});
