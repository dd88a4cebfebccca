// A fault check that must crash, pause or roll back the target's PostgreSQL or Redis itself (not a link to it) points
// the target at a server the harness owns for the length of the check, then back at its own. These two wrappers do
// that part the same way for every chapter: the capabilities the check needs, the skips with their reasons (no
// process control, no manifest target, no server binaries), the restart recorded as a change the check made, and
// the server stopped and removed however the check ends.
//
//   await withPrivatePostgres(ctx, async (pg) => { ...  await pg.crash(); await pg.start(); ... });
//   await withPrivateRedis(ctx, async (redis) => { ...  await redis.restart(); ... });
import type { CheckContext } from '../core/check-context.ts';
import { findOnPath } from '../tools/find-on-path.ts';
import { startPgWireProxy } from './pg-wire-proxy.ts';
import type { PgWireProxy } from './pg-wire-types.ts';
import { findPostgresBin, type PrivatePostgres, startPrivatePostgres } from './private-postgres.ts';
import { type PrivateRedis, startPrivateRedis } from './private-redis.ts';

interface PrivateService {
  url: string;
  close(): Promise<void>;
}

async function withPrivateService<S extends PrivateService, T>(
  ctx: CheckContext,
  o: {
    dependency: 'database' | 'redis';
    noun: string;
    /** Finds the server's binaries; skips the check with the reason when they are missing. */
    locate: () => Promise<() => Promise<S>>;
  },
  fn: (service: S) => Promise<T>,
): Promise<T> {
  return withTargetOn(
    ctx,
    {
      dependency: o.dependency,
      noun: o.noun,
      start: async () => (await o.locate())(),
      what: `a private ${o.noun}`,
    },
    async (service) => {
      ctx.log(`the target uses the harness's own ${o.noun} at ${service.url}`);
      return await fn(service);
    },
  );
}

/**
 * Runs fn with the target's dependency reached through a proxy the check puts in front of it (a fault placed on the
 * wire: pg-wire-proxy.ts, delay-proxy.ts), then on its own URL again. `settle` runs before the target goes back (a
 * proxy's held or armed faults let go, so the restart is not cut).
 */
export async function withDependencyThrough<P extends PrivateService, T>(
  ctx: CheckContext,
  o: {
    dependency: 'database' | 'redis';
    noun: string;
    /** The proxy, in front of the dependency's own URL. */
    proxy: (upstreamUrl: string) => Promise<P>;
    /** What the proxy does, for the change the check records. */
    what: string;
    settle?: (proxy: P) => void;
  },
  fn: (proxy: P) => Promise<T>,
): Promise<T> {
  return withTargetOn(
    ctx,
    {
      dependency: o.dependency,
      noun: `${o.noun} URL`,
      start: () => o.proxy(ctx.target.dependencies[o.dependency]!.url),
      what: o.what,
      ...(o.settle ? { settle: o.settle } : {}),
    },
    fn,
  );
}

/**
 * Runs fn with the target's PostgreSQL reached through the PostgreSQL-protocol proxy (pg-wire-proxy.ts), whose
 * cuts, outage and holds are all let go before the target goes back. `what` says what the check uses it for.
 */
export function withPgWireProxy<T>(
  ctx: CheckContext,
  what: string,
  fn: (proxy: PgWireProxy) => Promise<T>,
): Promise<T> {
  return withDependencyThrough(
    ctx,
    { dependency: 'database', noun: 'database', proxy: startPgWireProxy, what, settle: (proxy) => proxy.letGo() },
    fn,
  );
}

/**
 * The part both share: the capabilities and the skips with their reasons, the target pointed at the started server
 * for the length of fn (the restart recorded as a change the check made), then back at its own, and the server
 * stopped however fn ends.
 */
async function withTargetOn<S extends PrivateService, T>(
  ctx: CheckContext,
  o: {
    dependency: 'database' | 'redis';
    noun: string;
    start: () => Promise<S>;
    what: string;
    settle?: (service: S) => void;
  },
  fn: (service: S) => Promise<T>,
): Promise<T> {
  ctx.require('process-control');
  ctx.require(`dependency:${o.dependency}`);
  const target = ctx.target;
  if (!target.useDependency) ctx.skip(`the target cannot be pointed at another ${o.noun} (needs a manifest target)`);
  const service = await o.start();
  try {
    await target.useDependency(o.dependency, service.url);
    ctx.changed(`restarted the service on ${o.what}, and again on its own ${o.noun}`);
    return await fn(service);
  } finally {
    o.settle?.(service);
    try {
      ctx.log(`restarting the target on its own ${o.noun}`);
      await target.useDependency(o.dependency, null);
    } finally {
      ctx.log(`stopping ${o.what}`);
      await service.close();
    }
  }
}

/** Runs fn with the target on a PostgreSQL cluster the harness owns (initdb'd for the check, removed after). */
export async function withPrivatePostgres<T>(ctx: CheckContext, fn: (pg: PrivatePostgres) => Promise<T>): Promise<T> {
  const locate = async () => {
    const bin = findPostgresBin();
    if (!bin) {
      ctx.skip(
        'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin to run a private cluster: install the postgresql package',
      );
    }
    return () => startPrivatePostgres({ bin });
  };
  return withPrivateService(ctx, { dependency: 'database', noun: 'PostgreSQL', locate }, fn);
}

/** Runs fn with the target on a Redis the harness owns (no RDB, no AOF; removed after). */
export async function withPrivateRedis<T>(ctx: CheckContext, fn: (redis: PrivateRedis) => Promise<T>): Promise<T> {
  const locate = async () => {
    const server = await findOnPath('redis-server');
    if (!server) ctx.skip('no redis-server on the PATH to run a private Redis: install the redis-server package');
    return () => startPrivateRedis(server);
  };
  return withPrivateService(ctx, { dependency: 'redis', noun: 'Redis', locate }, fn);
}
