// Fault scenarios must end healed whatever happens inside them: a toxic left behind would poison every later
// scenario of the run. These helpers make the "final heal" step impossible to forget.
import type { ProxyInfo, Toxic, ToxicInfo, ToxiproxyClient } from './toxiproxy-client.ts';
import { ToxiproxyError } from './toxiproxy-client.ts';

type ProxyRef = string | Pick<ProxyInfo, 'name'>;

async function heal<T>(fn: () => Promise<T>, cleanup: () => Promise<void>, what: string): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    try {
      await cleanup();
    } catch (healErr) {
      throw new AggregateError([err, healErr], `${what}: the scenario failed and the final heal failed too`);
    }
    throw err;
  }
  await cleanup();
  return result;
}

/** Adds `toxic`, runs `fn`, then always removes the toxic (also when `fn` throws or removed it itself). */
export async function withToxic<T>(
  client: ToxiproxyClient,
  proxy: ProxyRef,
  toxic: Toxic,
  fn: (toxic: ToxicInfo) => Promise<T>,
): Promise<T> {
  const added = await client.addToxic(proxy, toxic);
  return heal(
    () => fn(added),
    async () => {
      try {
        await client.removeToxic(proxy, added.name);
      } catch (err) {
        // Already gone (fn removed it, or reset everything): healed all the same.
        if (!(err instanceof ToxiproxyError && err.status === 404)) throw err;
      }
    },
    `toxic ${added.name} on ${typeof proxy === 'string' ? proxy : proxy.name}`,
  );
}

/** Disables the proxy (dependency down / partition) while `fn` runs, then always re-enables it. */
export async function withProxyDisabled<T>(client: ToxiproxyClient, proxy: ProxyRef, fn: () => Promise<T>): Promise<T> {
  await client.setEnabled(proxy, false);
  return heal(
    fn,
    async () => {
      await client.setEnabled(proxy, true);
    },
    `disabled proxy ${typeof proxy === 'string' ? proxy : proxy.name}`,
  );
}

/** The namespace the brief calls `networkFault`: `networkFault.withToxic(...)`. */
export const networkFault = { withToxic, withProxyDisabled };
