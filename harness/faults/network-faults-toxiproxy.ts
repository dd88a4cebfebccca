// The harness's NetworkFaults backed by a Toxiproxy server that this run starts and stops.
import type { FaultProxy, NetworkFaults } from '../core/network-faults.ts';
import { startToxiproxyServer } from './toxiproxy-server.ts';

export async function startNetworkFaults(binary: string): Promise<NetworkFaults> {
  const server = await startToxiproxyServer({ binary });
  const client = server.client;
  let serial = 0;
  return {
    async proxy(base: string, upstream: string): Promise<FaultProxy> {
      // Names are unique per run: several targets (and checks) may each want a proxy for the same thing.
      const name = `${base}-${++serial}`;
      const info = await client.createProxy({ name, upstream });
      return {
        name,
        listen: info.listen,
        upstream,
        setEnabled: async (enabled) => {
          await client.setEnabled(name, enabled);
        },
        addToxic: async (t) => (await client.addToxic(name, t)).name,
        removeToxic: (toxic) => client.removeToxic(name, toxic),
        remove: () => client.deleteProxy(name),
      };
    },
    close: () => server.stop(),
  };
}
