// The same-run capacity ratio (RL-T3, CH-T6, URL-T6, UID-T4, KV-T8, PAY-T4): its yardstick is the no-op server in a
// process of its own, as the stepped search's is; the probes alternate and the ratio is of the medians.
import { expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { type CapacityRatioIo, capacityMeasurement, capacityRatio, capacityRatioIo } from './capacity-ratio.ts';

it(
  'uses the no-op server in a process of its own by default, not one in the harness',
  async () => {
    const noop = await capacityRatioIo.startNoop();
    try {
      const pid = (noop as { pid?: number }).pid;
      expect(pid).toBeTypeOf('number');
      expect(pid).not.toBe(process.pid);
      expect((await fetch(`${noop.url}/`)).status).toBe(200);
    } finally {
      await noop.stop();
    }
  },
  timeLimit(60_000),
);

it('alternates the no-op and the endpoint, takes the median of each, and stops the no-op server', async () => {
  const log: string[] = [];
  let stopped = 0;
  const noopRps = [1000, 3000, 2000];
  const endpointRps = [100, 900, 500];
  const io: CapacityRatioIo = {
    startNoop: async () => ({ url: 'http://noop', stop: async () => void stopped++ }),
    probe: async (o) => {
      const isNoop = o.url.startsWith('http://noop');
      log.push(isNoop ? 'noop' : 'endpoint');
      const rps = (isNoop ? noopRps : endpointRps)[Math.floor((log.length - 1) / 2)]!;
      return { rps, errorRate: 0, badStatusRate: isNoop ? 0 : 0.01 };
    },
  };
  const r = await capacityRatio(
    { label: 'read', url: 'http://impl/x', rounds: 3, probeS: 1, outDir: '/tmp/unused', k6: 'k6', perRequest: 2 },
    io,
  );
  expect(log).toEqual(['noop', 'endpoint', 'noop', 'endpoint', 'noop', 'endpoint']);
  expect(stopped).toBe(1);
  // Medians: endpoint 500 x 2 per request = 1000; no-op 2000.
  expect(r).toEqual({ ratio: 0.5, endpoint: 1000, ceiling: 2000, errorRate: 0.01 });
  const m = capacityMeasurement(r, { label: 'read', rounds: 3 });
  expect(m.yardstick?.name).toContain('its own process');
  expect(m.conditions?.[0]?.ok).toBe(false);
});

it('stops the no-op server when a probe fails', async () => {
  let stopped = 0;
  const io: CapacityRatioIo = {
    startNoop: async () => ({ url: 'http://noop', stop: async () => void stopped++ }),
    probe: async () => {
      throw new Error('k6 exited 107');
    },
  };
  await expect(
    capacityRatio({ label: 'read', url: 'http://impl/x', rounds: 1, probeS: 1, outDir: '/tmp/unused', k6: 'k6' }, io),
  ).rejects.toThrow('k6 exited 107');
  expect(stopped).toBe(1);
});
