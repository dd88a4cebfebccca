// HR-F7: kill -9 of the service while its changes cannot reach the cache. The target is pointed at a Redis the
// harness owns (harness/faults/private-redis.ts). The nights are read (so cached) and one reservation made and seen,
// and the cache copied as it stands (every key but another tenant's, below); then Redis is paused (SIGSTOP) and more
// reservations are made (201: the database decides them), so their changes are still waiting in the service when it
// is killed. Redis is then restarted and given back that copy: resuming the paused Redis is not enough, because what
// the service sent it while paused (a retry of its waiting changes) sits in Redis's socket buffer and would run once
// Redis runs again, and whether a retry went out after the last reservation depends on the machine's speed (CI missed
// the mutant redis-namespace-kept that way). The restart makes those writes never happen, so the cache holds exactly
// what a predecessor left without them, on every run. The service is started again, and with nothing changing any
// more availability must come to count every reservation and stay so: what the killed service had not written to
// the cache must not stay missing from it (a cache kept warm across the restart keeps the old numbers).
// Then the same again, on another room type, with Redis paused again while the service starts and resumed
// AWAY_AT_START_MS after the start began: a service that empties what a predecessor left only when Redis answers at
// its start must not use Redis as it finds it once it is back. The Redis also holds another tenant's keys, more than
// one SCAN page visits (a shared Redis; the spec's cache is a namespace in it): emptying a namespace has to walk the
// whole keyspace, and a predecessor's entries a first page missed would stay; and only the namespace: after each start
// the other tenant's keys must all still be there (a FLUSHDB, or a pattern wider than the namespace, deletes them).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PrivateRedis } from '../../faults/private-redis.ts';
import { withPrivateRedis } from '../../faults/target-on-private-service.ts';
import {
  availabilityBecomes,
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
import {
  fillAsAnotherTenant,
  OTHER_TENANT_KEYS,
  OTHER_TENANT_PREFIX,
  otherTenantKeysLeft,
} from './other-tenant-keys.ts';
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

export async function cacheAfterKill(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  await withPrivateRedis(ctx, async (redis) => {
    await otherTenantWritten(ctx, redis.url, 'at first');
    const keysPutBack: number[] = [];
    for (const awayAtStart of [false, true]) {
      keysPutBack.push(await killedWithChangesPending(ctx, redis, awayAtStart));
      // A service empties its own namespace at start, nothing else: the other tenant's keys are all still there.
      const left = await otherTenantKeysLeft(redis.url);
      ctx.expect(
        left === OTHER_TENANT_KEYS,
        `after the service started again${awayAtStart ? ' with Redis paused' : ''}, ${left} of the ${OTHER_TENANT_KEYS} ` +
          `keys another tenant keeps in the same Redis were left: emptying its namespace deleted keys outside it`,
      );
    }
    // Per round, the keys of the service's cache put back after Redis's restart (the stale entries it must not use).
    ctx.evidence.cacheKeysPutBack = keysPutBack;
  });
}

/** Fills the other tenant's keys in (again, after a restart) and asserts they were written. */
async function otherTenantWritten(ctx: CheckContext, url: string, when: string): Promise<void> {
  const keys = await fillAsAnotherTenant(url);
  ctx.evidence.otherTenantKeys = keys;
  ctx.expect(
    keys >= OTHER_TENANT_KEYS,
    `${when}, the private Redis holds ${keys} keys after ${OTHER_TENANT_KEYS} were written: the setup did not bite`,
  );
}

/** One round; returns how many keys of the service's cache were put back after Redis's restart. */
async function killedWithChangesPending(ctx: CheckContext, redis: PrivateRedis, awayAtStart: boolean): Promise<number> {
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
  // The nights cached, one reservation seen through the cache; then the cache copied as it stands.
  const before = await redis.keyCount();
  await reserve(0, 'before the fault');
  const seen = await availabilityBecomes(ctx, api, rt, day(FIRST), day(FIRST + SPAN), right);
  ctx.expect(seen === null, `before the fault, availability did not show the first reservation: ${seen}`);
  const copied = await snapshotWithNewKeys(ctx, redis, before);
  redis.pause();
  try {
    for (let i = 1; i <= WHILE_PAUSED; i++) await reserve(i, 'while Redis was paused');
    await ctx.target.kill();
  } finally {
    redis.resume();
  }
  // Restarted empty (SIGKILL): whatever the killed service sent the paused Redis is gone unrun. Then the Redis the
  // new start meets: the other tenant's keys, and the cache as it was before the pause (the changes made since
  // never written to it).
  await redis.restart();
  await otherTenantWritten(ctx, redis.url, 'after Redis was restarted');
  await redis.rollback();
  if (awayAtStart) {
    redis.pause();
    try {
      // Resumed on a clock of its own: a service that waits for Redis before it is ready gets it back too.
      const resumed = ctx.sleep(AWAY_AT_START_MS).then(() => redis.resume());
      await Promise.all([ctx.target.start(), resumed]);
    } finally {
      redis.resume();
    }
  } else await ctx.target.start();
  ctx.changed(
    'killed the service (kill -9) with changes not yet in its paused Redis, restarted Redis with the cache as it was ' +
      (awayAtStart
        ? `before the pause, and started the service again with Redis paused, resumed ${AWAY_AT_START_MS} ms later`
        : 'before the pause, and started the service again'),
  );
  const why = await availabilitySettles(ctx, api, rt, [day(FIRST), day(FIRST + SPAN)], right, {
    withinMs: timeLimit(REDIS_BACK_MS + 1000),
    holdMs: HOLD_MS,
  });
  ctx.expect(
    why === null,
    `after the service was killed with ${WHILE_PAUSED} reservations' changes not yet in Redis (paused; Redis then ` +
      `holding ${copied} keys of the cache as they were before), ` +
      (awayAtStart
        ? `started again with Redis paused and resumed ${AWAY_AT_START_MS} ms after the start began`
        : 'the service started again') +
      `, with nothing changing since, availability did not count every reservation for ${HOLD_MS} ms in a row, ` +
      `beginning within ${timeLimit(REDIS_BACK_MS + 1000)} ms: ${why}`,
  );
  return copied;
}

/**
 * The cache copied as it stands once the nights read are in it (every key but the other tenant's; returns how many):
 * waits (up to 1 s, scaled) for Redis to hold more keys than before the round (nothing deletes any meanwhile), since a
 * write of the service's can land just after the read that saw it. Never fails: a service may keep nothing in Redis
 * (then no entry can be stale either).
 */
async function snapshotWithNewKeys(ctx: CheckContext, redis: PrivateRedis, before: number): Promise<number> {
  const until = Date.now() + timeLimit(1000);
  while ((await redis.keyCount()) <= before && Date.now() < until) await ctx.sleep(50);
  return await redis.snapshot({ except: OTHER_TENANT_PREFIX });
}
