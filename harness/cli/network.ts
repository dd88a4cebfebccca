// Starts the fault proxy (Toxiproxy) for a run, or says why there is none; checks that need it are then skipped.
import type { NetworkFaults } from '../core/network-faults.ts';
import { startNetworkFaults } from '../faults/network-faults-toxiproxy.ts';
import { findToxiproxy } from '../tools/toxiproxy.ts';

export async function openNetwork(log: (l: string) => void): Promise<NetworkFaults | null> {
  try {
    const tool = await findToxiproxy({ build: false });
    return await startNetworkFaults(tool.path);
  } catch (e) {
    log(`no fault proxy: ${(e as Error).message.split('\n')[0]} - network-fault checks will be skipped`);
    return null;
  }
}
