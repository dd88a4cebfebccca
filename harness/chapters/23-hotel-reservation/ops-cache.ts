// HR-C6: after inventory changes, exactly the cached nights (one of them with its only reservation cancelled) show the
// new totals within 1 s and keep showing them, and reservations are held to the new 110% at once (the ops API, ops.ts).
import type { CheckContext } from '../../core/check-context.ts';
import {
  availabilityBecomes,
  capacityOf,
  day,
  freshRoomType,
  hrApi,
  nightsOf,
  okBody,
  reservedDiffers,
} from './api.ts';

import { reservation } from './ops.ts';

/**
 * Once availability shows the new totals it is read on this long and must keep showing them: a cache that never
 * heard of the change can be skipped for a moment (the reference skips Redis for 1 s after a slow reply), and the
 * database's right answer then would hide it.
 */
const HOLD_MS = 1500;

export async function cacheAfterInventoryChange(ctx: CheckContext): Promise<void> {
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, 20);
  const [start, end] = [day(4), day(8)];
  okBody(ctx, await api.reserve(reservation(rt, 5, 4, 7)), 201, 'reserving 5 rooms');
  // The last night's only reservation cancelled: its row has nothing reserved, and must take each new total too.
  const gone = reservation(rt, 2, 7, 8);
  okBody(ctx, await api.reserve(gone), 201, 'reserving 2 rooms on the last night');
  okBody(ctx, await api.cancel(gone.reservationId), 200, 'cancelling them');
  const taken = new Map(nightsOf(day(4), day(7)).map((d) => [d, 5]));
  // Exactly the reserved nights, read (so a cache holds every one) as they are before the change: a wider range would
  // also read nights no cache has, and that read of the database could refresh the cached ones and hide a lost change.
  const before = await availabilityBecomes(ctx, api, rt, start, end, (n) => reservedDiffers(n, taken, 20));
  ctx.expect(before === null, `before the inventory change: ${before}`);
  let changes = 0;
  for (const total of [8, 30, 5]) {
    const x = await api.updateRoomType(rt.hotelId, rt.roomTypeId, {
      name: rt.name,
      totalInventory: total,
      rateMinor: rt.rateMinor,
    });
    okBody(ctx, x, 200, `changing the inventory to ${total} (5 reserved, 110% of it is ${capacityOf(total)})`);
    changes++;
    const why = await availabilityBecomes(ctx, api, rt, start, end, (n) => reservedDiffers(n, taken, total), HOLD_MS);
    ctx.expect(
      why === null,
      `after the inventory changed to ${total} (1 s allowed), availability shows another: ${why}`,
    );
  }
  // The reservation check is held to the new limit at once: 110% of 5 is 5, all taken on the reserved nights.
  const over = await api.reserve(reservation(rt, 1, 4, 5));
  ctx.expect(
    over.status === 409,
    `a room past 110% of the new inventory of 5 answered ${over.status ?? over.error}, not 409`,
    over,
  );
  ctx.expectStatus(over, 409, 'rooms_unavailable');
  // The night whose reservation was cancelled is held to it too: 6 rooms are past it, its 5 rooms are not.
  ctx.expectStatus(await api.reserve(reservation(rt, 6, 7, 8)), 409, 'rooms_unavailable');
  okBody(ctx, await api.reserve(reservation(rt, 5, 7, 8)), 201, 'the 5 rooms of a night with nothing reserved');
  ctx.evidence.inventoryChanges = changes;
  await changedRightAfterCreation(ctx, api);
}

/** The last check-out day a range may have: 730 days from today (the spec's horizon). */
const HORIZON_DAYS = 730;
/** Nights per availability read: the spec's longest range. */
const READ_NIGHTS = 30;

/**
 * A room type's inventory changed the moment it was made (lowered, then raised) applies to every night up to the
 * horizon: however an implementation makes its nights ahead (all with the room type, or some after the answer), none
 * is made with the inventory from before the change. Read a moment after the change (time for nights made after an
 * answer to be made), every night of the horizon, 30 at a time.
 */
async function changedRightAfterCreation(ctx: CheckContext, api: ReturnType<typeof hrApi>): Promise<void> {
  let nightsRead = 0;
  // Four room types: nights made after an answer race the change, and a round may meet the gap only late in them.
  for (const [made, total] of [
    [4, 2],
    [2, 6],
    [5, 3],
    [3, 7],
  ] as const) {
    const rt = await freshRoomType(ctx, api, made);
    const x = await api.updateRoomType(rt.hotelId, rt.roomTypeId, {
      name: rt.name,
      totalInventory: total,
      rateMinor: rt.rateMinor,
    });
    okBody(ctx, x, 200, `changing a new room type's inventory from ${made} to ${total} as soon as it was made`);
    await ctx.sleep(1000);
    const wrong: string[] = [];
    // From day 2: a run across midnight UTC keeps every range valid.
    for (let from = 2; from < HORIZON_DAYS; from += READ_NIGHTS) {
      const [start, end] = [day(from), day(Math.min(from + READ_NIGHTS, HORIZON_DAYS))];
      const why = await availabilityBecomes(ctx, api, rt, start, end, (n) => reservedDiffers(n, new Map(), total));
      nightsRead += READ_NIGHTS;
      if (why !== null && wrong.push(`${start}..${end}: ${why.slice(0, 160)}`) >= 3) break;
    }
    ctx.expect(
      wrong.length === 0,
      `a room type made with ${made} rooms and changed to ${total} at once shows the old inventory on ${wrong.length} range(s) of 30 nights (1 s allowed): ${wrong.slice(0, 2).join('; ')}`,
    );
  }
  ctx.evidence.nightsReadAfterCreation = nightsRead;
}
