// The HTTP surface of chapter 23: handlers by operationId; routes, validation and errors come from the spec (kit).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import type { HotelAdmin, RoomTypeUpdate } from './hotel-admin.ts';
import type { NewReservation, Reservation, RoomType } from './model.ts';
import type { MutantName } from './mutants.ts';
import { requireStaff } from './staff-auth.ts';
import type { HotelStore } from './store.ts';

export const SPEC_URL = new URL('../../specs/23-hotel-reservation/openapi.yaml', import.meta.url);

export interface HotelAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  store: HotelStore;
  admin: HotelAdmin;
  /** The bearer key of hotel staff, needed by every ops write. */
  staffKey: string;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
  /** MUTANTs cancel-keeps-tonight and cancel-checked-before-transaction: their cancellation (cancel-variants.ts). */
  cancelVariant?: ((reservationId: string) => Promise<Reservation>) | undefined;
}

type Params = { hotelId: string; roomTypeId: string; reservationId: string };

export function buildApp({
  spec,
  readiness,
  store,
  admin,
  staffKey,
  mutant,
  logger,
  cancelVariant,
}: HotelAppOptions): FastifyInstance {
  // MUTANT staff-auth-skipped: every ops write is answered without the key.
  const comparison =
    mutant === 'staff-key-case-folded' ? 'case-folded' : mutant === 'staff-key-prefix-accepted' ? 'prefix' : 'exact';
  const staffOnly = (request: FastifyRequest) =>
    requireStaff(request.headers.authorization, staffKey, mutant === 'staff-auth-skipped', comparison);
  return createApp({
    spec,
    readiness,
    ...(logger !== undefined ? { logger } : {}),
    // MUTANT unvalidated-input: createRoomType's body and parameters reach the handler unchecked.
    unvalidated: mutant === 'unvalidated-input' ? ['createRoomType'] : [],
    handlers: {
      // MUTANT health-plain-text: readiness is not the documented body.
      ...(mutant === 'health-plain-text'
        ? { getReadiness: async (_q, reply) => reply.type('text/plain').send('ok') }
        : {}),
      createHotel: async (request, reply) => {
        staffOnly(request);
        const b = request.body as { name: string; address: string };
        return reply.code(201).send(await store.createHotel({ name: b.name, address: b.address }));
      },
      getHotel: async (request, reply) => {
        const { hotelId } = request.params as Params;
        return reply.code(200).send(await store.hotel(hotelId));
      },
      updateHotel: async (request, reply) => {
        staffOnly(request);
        const { hotelId } = request.params as Params;
        const b = request.body as { name: string; address: string };
        return reply.code(200).send(await admin.updateHotel(hotelId, { name: b.name, address: b.address }));
      },
      deleteHotel: async (request, reply) => {
        staffOnly(request);
        const { hotelId } = request.params as Params;
        await admin.deleteHotel(hotelId);
        return reply.code(204).send();
      },
      createRoomType: async (request, reply) => {
        staffOnly(request);
        const { hotelId } = request.params as Params;
        const b = request.body as Omit<RoomType, 'hotelId' | 'roomTypeId'>;
        const rt = await store.createRoomType(hotelId, {
          name: b.name,
          totalInventory: b.totalInventory,
          rateMinor: b.rateMinor,
          currency: b.currency,
        });
        return reply.code(201).send(rt);
      },
      getRoomType: async (request, reply) => {
        const { hotelId, roomTypeId } = request.params as Params;
        return reply.code(200).send(await store.roomType(hotelId, roomTypeId));
      },
      updateRoomType: async (request, reply) => {
        staffOnly(request);
        const { hotelId, roomTypeId } = request.params as Params;
        const b = request.body as RoomTypeUpdate;
        const u = { name: b.name, totalInventory: b.totalInventory, rateMinor: b.rateMinor };
        return reply.code(200).send(await admin.updateRoomType(hotelId, roomTypeId, u));
      },
      deleteRoomType: async (request, reply) => {
        staffOnly(request);
        const { hotelId, roomTypeId } = request.params as Params;
        await admin.deleteRoomType(hotelId, roomTypeId);
        return reply.code(204).send();
      },
      setRates: async (request, reply) => {
        staffOnly(request);
        const { hotelId, roomTypeId } = request.params as Params;
        const b = request.body as { rates: { date: string; rateMinor: number }[] };
        return reply.code(200).send({ updated: await store.setRates(hotelId, roomTypeId, b.rates) });
      },
      getAvailability: async (request, reply) => {
        const { hotelId, roomTypeId } = request.params as Params;
        const q = request.query as { startDate: string; endDate: string };
        const nights = await store.availability(hotelId, roomTypeId, q.startDate, q.endDate);
        return reply.code(200).send({ hotelId, roomTypeId, nights });
      },
      createReservation: async (request, reply) => {
        const b = request.body as NewReservation;
        const { created, reservation } = await store.reserveOrReplay({
          reservationId: b.reservationId,
          hotelId: b.hotelId,
          roomTypeId: b.roomTypeId,
          roomCount: b.roomCount,
          startDate: b.startDate,
          endDate: b.endDate,
          guestId: b.guestId,
        });
        // MUTANT replay-answers-201: a replay is answered as if the reservation were new.
        return reply.code(created || mutant === 'replay-answers-201' ? 201 : 200).send(reservation);
      },
      listReservations: async (request, reply) => {
        const { guestId } = request.query as { guestId: string };
        return reply.code(200).send({ reservations: await store.reservationsOf(guestId) });
      },
      getReservation: async (request, reply) => {
        const { reservationId } = request.params as Params;
        return reply.code(200).send(await store.reservation(reservationId));
      },
      cancelReservation: async (request, reply) => {
        const { reservationId } = request.params as Params;
        return reply.code(200).send(await (cancelVariant ?? ((id: string) => store.cancel(id)))(reservationId));
      },
    },
  });
}
