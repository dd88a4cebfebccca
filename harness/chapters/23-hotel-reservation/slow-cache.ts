// HR-F6: a slow cache under bursts of reservations. The target is pointed at a proxy in front of its Redis
// (harness/faults/delay-proxy.ts) that holds every reply DELAY_MS (a cache on a far or busy host; well under any
// sane command timeout), so each write of changes to the cache is in flight for a while, and the reservations of a
// burst commit while one is. After each burst, with nothing changing any more, availability of the nights (all read
// once before, so the answer comes from the cache) must come to show every reservation of the burst, and keep
// showing it: a change that arrived while a write was in flight must not wait for a next change that never comes.
// The bound is not the spec's 1 s lag (the cache is slowed on purpose): right for HOLD_MS in a row, beginning within
// SETTLE_MS scaled for a busy machine; a change left waiting never arrives, however long.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { type DelayProxy, startDelayProxy } from '../../faults/delay-proxy.ts';
import { withDependencyThrough } from '../../faults/target-on-private-service.ts';
import {
  availabilitySettles,
  day,
  freshRoomType,
  hrApi,
  type NewReservation,
  nightsOf,
  reservedDiffers,
  uniqueId,
} from './api.ts';
import { said } from './fault-answers.ts';

/**
 * How long each reply from Redis is held: a write of changes is in flight at least this long (a loopback reply takes
 * well under 1 ms), yet far under any sane command timeout (the reference's: 250 ms), so on a busy machine too.
 */
const DELAY_MS = 25;
/** Bursts, each of CLIENTS clients sending PER_CLIENT reservations one after another. */
// Twelve: a burst leaves a change waiting only when its last change lands while a write is in flight, and five bursts
// let mutant stream-stalls-after-flush through once in five self-tests (2026-12-06).
const BURSTS = 12;
const CLIENTS = 4;
const PER_CLIENT = 4;
/** Never sold out: every reservation is 201. */
const INVENTORY = 500;
/** The nights reserved: day(FIRST) .. day(FIRST + SPAN - 1). */
const FIRST = 6;
const SPAN = 4;
/**
 * After a burst, availability must read right for HOLD_MS in a row, and begin to within SETTLE_MS (scaled). A slow
 * reply may make an implementation skip the cache for a while (the reference's breaker: 1 s, reads from the
 * database), so a right answer that turns wrong again is not yet a verdict; a change left waiting never turns right
 * for long, since the cache is read again once the skip ends.
 */
const SETTLE_MS = 3000;
const HOLD_MS = 2500;

export async function slowCacheBursts(ctx: CheckContext): Promise<void> {
  await withDependencyThrough(
    ctx,
    {
      dependency: 'redis',
      noun: 'Redis',
      proxy: (url) => startDelayProxy(url, DELAY_MS),
      what: 'a Redis proxy that holds every reply',
    },
    (proxy) => burstsSettle(ctx, proxy),
  );
}

async function burstsSettle(ctx: CheckContext, proxy: DelayProxy): Promise<void> {
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, INVENTORY);
  const guest = uniqueId('g');
  const expected = new Map<string, number>();
  const [from, to] = [day(FIRST), day(FIRST + SPAN)];
  // Every night read once, so it is cached and later reads are answered from the cache.
  const warm = await api.availability(rt.hotelId, rt.roomTypeId, from, to);
  ctx.expect(warm.status === 200, `availability ${from}..${to} answered ${said(warm)}`, warm);
  const heldBefore = proxy.held;
  let reservations = 0;
  const settledAfterMs: number[] = [];
  for (let b = 0; b < BURSTS; b++) {
    ctx.throwIfStopped();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; i < PER_CLIENT; i++) {
          const start = FIRST + ((b + c + i) % SPAN);
          const body: NewReservation = {
            reservationId: uniqueId('f6'),
            hotelId: rt.hotelId,
            roomTypeId: rt.roomTypeId,
            roomCount: 1 + ((c + i) % 2),
            startDate: day(start),
            endDate: day(start + 1),
            guestId: guest,
          };
          const x = await api.reserve(body);
          ctx.expect(x.status === 201, `reservation ${body.reservationId} answered ${said(x)}, not 201`, x);
          reservations++;
          for (const d of nightsOf(body.startDate, body.endDate))
            expected.set(d, (expected.get(d) ?? 0) + body.roomCount);
        }
      }),
    );
    const since = Date.now();
    const why = await availabilitySettles(
      ctx,
      api,
      rt,
      [day(FIRST), day(FIRST + SPAN)],
      (nights) => reservedDiffers(nights, expected, INVENTORY),
      { withinMs: timeLimit(SETTLE_MS), holdMs: HOLD_MS },
    );
    ctx.expect(
      why === null,
      `after burst ${b + 1} of ${CLIENTS} x ${PER_CLIENT} reservations (Redis replies held ${DELAY_MS} ms), with ` +
        `nothing changing since, availability did not count them all for ${HOLD_MS} ms in a row, beginning within ` +
        `${timeLimit(SETTLE_MS)} ms: ${why}`,
    );
    settledAfterMs.push(Date.now() - since - HOLD_MS);
  }
  ctx.evidence.reservations = reservations;
  ctx.evidence.repliesHeld = proxy.held - heldBefore;
  ctx.evidence.settledAfterMs = settledAfterMs;
  if (proxy.held === heldBefore) ctx.skip('no reply from Redis went through the proxy: the cache was not slowed');
}
