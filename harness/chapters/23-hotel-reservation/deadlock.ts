// HR-F4: a room type's nights locked in two orders at once, on a PostgreSQL whose planner has the table's statistics.
// An inventory change locks a room type's nights in date order; a store that takes a stay's rooms with one range
// UPDATE locks them in the order the plan visits them, which, once the table has statistics (autovacuum gathers them
// within a minute of enough changes on any busy database), is a scan in table order. The nights are made in reverse
// date order (one single-night stay each, last night first), so the table holds them that way round; then long stays
// race inventory changes of the same nights, round after round, all of them fitting. The database aborts one side of
// each deadlock: a store must run it again (or lock in date order), never answer it 500. The target runs on a
// PostgreSQL the harness owns, so the statistics can be gathered at once (ANALYZE) rather than waited for.
import type { CheckContext } from '../../core/check-context.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import { availabilityBecomes, day, freshRoomType, hrApi, nightsOf, okBody, reservedDiffers } from './api.ts';
import { codeOf, reservation } from './ops.ts';

const ROUNDS = 16;
/** The nights the long stays cover: [day(FIRST), day(LAST)), 26 nights (the spec allows 30). */
const FIRST = 2;
const LAST = 28;
/** Every stay fits on every night whatever the order: 16 rounds of 4 stays and the 26 single nights stay far below. */
const INVENTORY = 100;

/** HR-F4: long stays racing inventory changes of the same nights on PostgreSQL with statistics: no 5xx. */
export async function nightsLockedInTwoOrders(ctx: CheckContext): Promise<void> {
  await withPrivatePostgres(ctx, async (pg) => {
    const api = hrApi(ctx);
    const rt = await freshRoomType(ctx, api, INVENTORY);
    const totalIn = (round: number) => INVENTORY + (round % 2);
    const reserved = new Map<string, number>();
    const add = (nights: string[]) => {
      for (const d of nights) reserved.set(d, (reserved.get(d) ?? 0) + 1);
    };
    for (let night = LAST - 1; night >= FIRST; night--) {
      okBody(ctx, await api.reserve(reservation(rt, 1, night, night + 1)), 201, `making the night ${day(night)}`);
      add([day(night)]);
    }
    await pg.analyze();
    const deadlocksBefore = await pg.deadlocks();
    let stays = 0;
    let staysTaken = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Four overlapping stays of 23-26 nights and two changes of the total to the same number (100 or 101 by round),
      // sent 0-7 ms after the stays so that over the rounds they meet the stays mid-way.
      const bodies = Array.from({ length: 4 }, (_, j) =>
        reservation(rt, 1, FIRST + ((round + j) % 4), LAST - ((round + 2 * j) % 3)),
      );
      const change = async (k: number) => {
        await ctx.sleep((round + 3 * k) % 8);
        return await api.updateRoomType(rt.hotelId, rt.roomTypeId, {
          name: rt.name,
          totalInventory: totalIn(round),
          rateMinor: rt.rateMinor,
        });
      };
      const [c1, c2, ...answers] = await Promise.all([change(0), change(1), ...bodies.map((b) => api.reserve(b))]);
      const what = `round ${round + 1} (4 stays of up to ${LAST - FIRST} nights sent at once with 2 inventory changes of those nights)`;
      for (const [k, x] of [c1!, c2!].entries())
        ctx.expect(
          x.status === 200,
          `${what}: inventory change ${k + 1}, which every night's reservations fit, answered ${x.status ?? x.error} ${codeOf(x)}, not 200`,
          x,
        );
      answers.forEach((x, j) => {
        stays++;
        const b = bodies[j]!;
        if (x.status === 201) {
          staysTaken++;
          add(nightsOf(b.startDate, b.endDate));
        } else
          ctx.expect(
            x.status === 409 && codeOf(x) === 'write_conflict',
            `${what}: a stay of ${b.startDate}..${b.endDate}, which fits, answered ${x.status ?? x.error} ${codeOf(x)}, not 201 (or 409 write_conflict)`,
            x,
          );
      });
    }
    ctx.evidence.stays = stays;
    ctx.evidence.staysTaken = staysTaken;
    ctx.evidence.inventoryChanges = 2 * ROUNDS;
    // How often the database broke a deadlock meanwhile: > 0 shows the race was met (a store locking in date order
    // meets none).
    ctx.evidence.deadlocksDetected = (await pg.deadlocks()) - deadlocksBefore;
    const why = await availabilityBecomes(ctx, api, rt, day(FIRST), day(LAST), (n) =>
      reservedDiffers(n, reserved, totalIn(ROUNDS - 1)),
    );
    ctx.expect(why === null, `after ${ROUNDS} rounds of long stays and inventory changes: ${why}`);
  });
}
