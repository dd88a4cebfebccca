// HR-F7: kill -9 of the service while its changes cannot reach the cache. The target is pointed at a Redis the
// harness owns (harness/faults/private-redis.ts). The nights are read (so cached) and one reservation made and seen;
// then Redis is paused (SIGSTOP) and more reservations are made (201: the database decides them), so their changes
// are still waiting in the service when it is killed. Redis is resumed, the service started again, and with nothing
// changing any more availability must come to count every reservation and stay so: what the killed service had not
// written to the cache must not stay missing from it (a cache kept warm across the restart keeps the old numbers).
// Then the same again, on another room type, with Redis still paused while the service starts and resumed
// AWAY_AT_START_MS after the start began: a service that empties what a predecessor left only when Redis answers at
// its start must not use Redis as it finds it once it is back. The Redis also holds another tenant's keys, more than
// one SCAN page visits (a shared Redis; the spec's cache is a namespace in it): emptying a namespace has to walk the
// whole keyspace, and a predecessor's entries a first page missed would stay; and only the namespace: after each start
// the other tenant's keys must all still be there (a FLUSHDB, or a pattern wider than the namespace, deletes them).
import { Redis } from 'ioredis';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PrivateRedis } from '../../faults/private-redis.ts';
import { withPrivateRedis } from '../../faults/target-on-private-service.ts';
import {
  availabilityBecomes,
  day,
  freshRoomType,
  type HrApi,
  hrApi,
  type NewReservation,
  nightsOf,
  type RoomType,
  reservedDiffers,
  uniqueId,
} from './api.ts';
import { PAUSED_BOUND_MS, REDIS_BACK_MS } from './stale-cache.ts';

const INVENTORY = 50;
/** The nights: day(FIRST) .. day(FIRST + SPAN - 1). */
const FIRST = 9;
const SPAN = 3;
/** Reservations made while Redis is paused, just before the kill. */
const WHILE_PAUSED = 4;
/** After the restart, availability must read right HOLD_MS in a row, beginning within REDIS_BACK_MS + 1 s (scaled). */
const HOLD_MS = 1500;

/** In the second round, Redis is resumed this long after the service's start began (it is paused all along). */
const AWAY_AT_START_MS = 4_000;

/** Another tenant's keys in the same Redis: twenty times a SCAN page of COUNT 1000, written 1000 at a time. */
const OTHER_TENANT_KEYS = 20_000;

const said = (x: Exchange) => `${x.status ?? x.error}`;

export async function cacheAfterKill(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  await withPrivateRedis(ctx, async (redis) => {
    ctx.evidence.otherTenantKeys = await fillAsAnotherTenant(redis.url);
    ctx.expect(
      (ctx.evidence.otherTenantKeys as number) >= OTHER_TENANT_KEYS,
      `the private Redis holds ${ctx.evidence.otherTenantKeys} keys after ${OTHER_TENANT_KEYS} were written: the setup did not bite`,
    );
    for (const awayAtStart of [false, true]) {
      await killedWithChangesPending(ctx, redis, awayAtStart);
      // A service empties its own namespace at start, nothing else: the other tenant's keys are all still there.
      const left = await otherTenantKeysLeft(redis.url);
      ctx.expect(
        left === OTHER_TENANT_KEYS,
        `after the service started again${awayAtStart ? ' with Redis paused' : ''}, ${left} of the ${OTHER_TENANT_KEYS} ` +
          `keys another tenant keeps in the same Redis were left: emptying its namespace deleted keys outside it`,
      );
    }
  });
}

async function killedWithChangesPending(ctx: CheckContext, redis: PrivateRedis, awayAtStart: boolean): Promise<void> {
  const api = hrApi(ctx);
  const rt = await freshRoomType(ctx, api, INVENTORY);
  const guest = uniqueId('g');
  const expected = new Map<string, number>();
  const reserve = async (i: number, when: string) => {
    const start = FIRST + (i % SPAN);
    const body: NewReservation = {
      reservationId: uniqueId('f7'),
      hotelId: rt.hotelId,
      roomTypeId: rt.roomTypeId,
      roomCount: 1 + (i % 2),
      startDate: day(start),
      endDate: day(start + 1),
      guestId: guest,
    };
    const x = await api.reserve(body);
    ctx.expect(x.status === 201, `reservation ${body.reservationId} ${when} answered ${said(x)}, not 201`, x);
    ctx.expect(x.durationMs < PAUSED_BOUND_MS, `reserving ${when} took ${Math.round(x.durationMs)} ms`, x);
    for (const d of nightsOf(body.startDate, body.endDate)) expected.set(d, (expected.get(d) ?? 0) + body.roomCount);
  };
  const right = (n: Parameters<typeof reservedDiffers>[0]) => reservedDiffers(n, expected, INVENTORY);
  // The nights cached, one reservation seen through the cache.
  await reserve(0, 'before the fault');
  const seen = await availabilityBecomes(ctx, api, rt, day(FIRST), day(FIRST + SPAN), right);
  ctx.expect(seen === null, `before the fault, availability did not show the first reservation: ${seen}`);
  redis.pause();
  try {
    for (let i = 1; i <= WHILE_PAUSED; i++) await reserve(i, 'while Redis was paused');
    await ctx.target.kill();
    if (awayAtStart) {
      // Resumed on a clock of its own: a service that waits for Redis before it is ready gets it back too.
      const resumed = ctx.sleep(AWAY_AT_START_MS).then(() => redis.resume());
      await Promise.all([ctx.target.start(), resumed]);
    }
  } finally {
    redis.resume();
  }
  if (!awayAtStart) await ctx.target.start();
  ctx.changed(
    awayAtStart
      ? `killed the service (kill -9) and started it again with Redis paused, resumed ${AWAY_AT_START_MS} ms later`
      : 'killed the service (kill -9) and started it again',
  );
  const why = await staysRight(ctx, api, rt, right);
  ctx.expect(
    why === null,
    `after the service was killed with ${WHILE_PAUSED} reservations' changes not yet in Redis (paused), ` +
      (awayAtStart
        ? `started again with Redis still paused and Redis resumed ${AWAY_AT_START_MS} ms after the start began`
        : 'Redis resumed and the service started again') +
      `, with nothing changing since, availability did not count every reservation for ${HOLD_MS} ms in a row, ` +
      `beginning within ${timeLimit(REDIS_BACK_MS + 1000)} ms: ${why}`,
  );
}

/** Reads until `right` holds HOLD_MS in a row; fails if that has not begun by REDIS_BACK_MS + 1 s (scaled). */
async function staysRight(
  ctx: CheckContext,
  api: HrApi,
  rt: RoomType,
  right: (n: Parameters<typeof reservedDiffers>[0]) => string | null,
): Promise<string | null> {
  const until = Date.now() + timeLimit(REDIS_BACK_MS + 1000);
  let since: number | undefined;
  for (;;) {
    const x = await api.availability(rt.hotelId, rt.roomTypeId, day(FIRST), day(FIRST + SPAN));
    if (x.status !== 200) return `availability answered ${said(x)}`;
    const why = right((x.body as { nights: Parameters<typeof reservedDiffers>[0] }).nights);
    if (why === null) {
      since ??= Date.now();
      if (Date.now() - since >= HOLD_MS) return null;
    } else {
      since = undefined;
      if (Date.now() >= until) return why;
    }
    await ctx.sleep(50);
  }
}

/** Writes OTHER_TENANT_KEYS keys no service reads (under a prefix of the harness's own) on a connection of its own. */
async function fillAsAnotherTenant(url: string): Promise<number> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  c.on('error', () => {});
  try {
    await c.connect();
    for (let i = 0; i < OTHER_TENANT_KEYS; i += 1000)
      await c.mset(...Array.from({ length: 1000 }, (_, j) => [`sdgrade-harness:other-tenant:${i + j}`, 'x']).flat());
    return await c.dbsize();
  } finally {
    c.disconnect();
  }
}

/** How many of the other tenant's keys are still in Redis (EXISTS, 1000 keys a call). */
async function otherTenantKeysLeft(url: string): Promise<number> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  c.on('error', () => {});
  try {
    await c.connect();
    let left = 0;
    for (let i = 0; i < OTHER_TENANT_KEYS; i += 1000)
      left += await c.exists(...Array.from({ length: 1000 }, (_, j) => `sdgrade-harness:other-tenant:${i + j}`));
    return left;
  } finally {
    c.disconnect();
  }
}
