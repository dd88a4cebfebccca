// The harness's NetworkFaults backed by a Toxiproxy server that this run starts and stops.
import type { FaultProxy, NetworkFaults } from '../core/network-faults.ts';
import type { ProxyInfo, ToxiproxyClient } from './toxiproxy-client.ts';
import { startToxiproxyServer } from './toxiproxy-server.ts';

/** A Toxiproxy proxy seen as the harness's FaultProxy. */
export function faultProxyOf(client: ToxiproxyClient, info: ProxyInfo): FaultProxy {
  const name = info.name;
  return {
    name,
    listen: info.listen,
    upstream: info.upstream,
    setEnabled: async (enabled) => {
      await client.setEnabled(name, enabled);
    },
    addToxic: async (t) => (await client.addToxic(name, t)).name,
    removeToxic: (toxic) => client.removeToxic(name, toxic),
    remove: () => client.deleteProxy(name),
  };
}

export async function startNetworkFaults(binary: string): Promise<NetworkFaults> {
  const server = await startToxiproxyServer({ binary });
  const client = server.client;
  let serial = 0;
  return {
    async proxy(base: string, upstream: string): Promise<FaultProxy> {
      // Names are unique per run: several targets (and checks) may each want a proxy for the same thing.
      const name = `${base}-${++serial}`;
      return faultProxyOf(client, await client.createProxy({ name, upstream }));
    },
    close: () => server.stop(),
  };
}
