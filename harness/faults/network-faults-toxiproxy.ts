// The harness's NetworkFaults backed by a Toxiproxy server that this run starts and stops.
import type { FaultProxy, NetworkFaults } from '../core/network-faults.ts';
import { releasePort, stablePort } from './free-port.ts';
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
  const ports = new Set<number>();
  return {
    async proxy(base: string, upstream: string): Promise<FaultProxy> {
      // Names are unique per run: several targets (and checks) may each want a proxy for the same thing.
      const name = `${base}-${++serial}`;
      // A proxy a fault disables stops listening and listens again on its port when enabled: a port the kernel
      // picked (in the range it gives outgoing connections) could be taken meanwhile (a CI run's 07 mutant lost its
      // verdict to "bind: address already in use"), so each proxy listens on a port kept for it (stablePort).
      for (let attempt = 1; ; attempt++) {
        const port = await stablePort();
        try {
          const info = await client.createProxy({ name, upstream, listen: `127.0.0.1:${port}` });
          ports.add(port);
          const proxy = faultProxyOf(client, info);
          return {
            ...proxy,
            remove: async () => {
              await proxy.remove();
              ports.delete(port);
              releasePort(port);
            },
          };
        } catch (error) {
          releasePort(port);
          // Bound by something else between the check and toxiproxy's bind: another port.
          if (attempt >= 3 || !/address already in use/.test((error as Error).message)) throw error;
        }
      }
    },
    close: async () => {
      await server.stop();
      for (const port of ports) releasePort(port);
      ports.clear();
    },
  };
}
