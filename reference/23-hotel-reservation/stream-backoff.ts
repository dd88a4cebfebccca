// MUTANT stream-backoff-grows (the blind bug stream-backoff-outlasts-outage, on demand): after each refusal in a row
// the change stream's writes to Redis are refused for a delay that doubles (200 ms up to 30 s), so after a pause of
// some seconds what was changed meanwhile, and since, waits on after Redis is back. Its own module, so the blind
// bugs' patches still apply to cache.ts and cache-redis.ts as they are.
import type { InventoryChange } from './cache.ts';

type Write = (batch: readonly InventoryChange[]) => Promise<void>;

export function backingOff(write: Write): Write {
  let refusals = 0;
  let until = 0;
  return async (batch) => {
    if (Date.now() < until) throw new Error('inventory cache (Redis): backing off');
    try {
      await write(batch);
      refusals = 0;
    } catch (e) {
      until = Date.now() + Math.min(200 * 2 ** refusals++, 30_000);
      throw e;
    }
  };
}
