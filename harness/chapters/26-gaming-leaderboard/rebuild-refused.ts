// RGL-F3, step 4: a rebuild that fails must be tried again. The board is lost (Redis emptied) while Redis refuses
// writes (out of memory: maxmemory reached under the noeviction policy, the book's Redis full), so the service finds
// the loss (reads still work) but the rebuild it starts cannot write: the operations answer 503 `unavailable`. Then
// Redis takes writes again, and the board must be rebuilt and exact: a service that keeps the failed rebuild (and
// hands it to every later request) stays 503 for ever. Redis's own count of refused commands (INFO errorstats, OOM)
// shows the service did try to write while refused: the fault bit on the rebuild.
import { Redis } from 'ioredis';
import type { CheckContext } from '../../core/check-context.ts';

/** Redis's count of commands refused for memory (the `errorstat_OOM` line of INFO errorstats), 0 when none. */
async function refusedForMemory(admin: Redis): Promise<number> {
  const info = await admin.info('errorstats');
  return Number(/errorstat_OOM:count=(\d+)/.exec(info)?.[1] ?? 0);
}

/**
 * Runs `whileRefused` with the check's Redis (at `port`) emptied and refusing writes, then lets it take writes again
 * and runs `afterwards`. The Redis is the check's own (never the manifest's): its settings are put back however it ends.
 */
export async function withRebuildRefused(
  ctx: CheckContext,
  port: number,
  whileRefused: () => Promise<void>,
  afterwards: () => Promise<void>,
): Promise<void> {
  const admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true });
  admin.on('error', () => {});
  await admin.connect();
  try {
    const [, policy] = (await admin.config('GET', 'maxmemory-policy')) as string[];
    const [, limit] = (await admin.config('GET', 'maxmemory')) as string[];
    const before = await refusedForMemory(admin);
    // Any use is over one byte: every command that may grow memory is refused (OOM), reads and deletes still run.
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      await admin.flushall();
      ctx.expect((await admin.dbsize()) === 0, 'Redis still held keys after FLUSHALL: the board was not lost');
      await whileRefused();
    } finally {
      await admin.config('SET', 'maxmemory', limit ?? '0');
      await admin.config('SET', 'maxmemory-policy', policy ?? 'noeviction');
    }
    const refused = (await refusedForMemory(admin)) - before;
    ctx.evidence.writesRefusedForMemory = refused;
    // No write refused: the service never tried to rebuild while Redis was full, so the step tested nothing.
    if (refused === 0)
      throw new Error(
        'Redis refused no write while it was out of memory: the service did not try to rebuild the lost board (the fault did not bite)',
      );
    ctx.log(`Redis refused ${refused} writes for memory; it takes writes again`);
    await afterwards();
  } finally {
    admin.disconnect();
  }
}
