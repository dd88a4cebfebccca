// What the service stores and answers: hotels, room types, reservations and a night's availability.
export interface Hotel {
  hotelId: string;
  name: string;
  address: string;
}
export interface RoomType {
  hotelId: string;
  roomTypeId: string;
  name: string;
  totalInventory: number;
  rateMinor: number;
  currency: string;
}
export interface NewReservation {
  reservationId: string;
  hotelId: string;
  roomTypeId: string;
  roomCount: number;
  startDate: string;
  endDate: string;
  guestId: string;
}
export interface Reservation extends NewReservation {
  status: 'confirmed' | 'cancelled';
  totalMinor: number;
  currency: string;
  createdAt: string;
}
export interface Night {
  date: string;
  totalInventory: number;
  totalReserved: number;
  available: number;
  rateMinor: number;
}
