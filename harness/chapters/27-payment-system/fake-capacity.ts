// The yardstick of PAY-T1: the PSP fake's own capacity, measured in the same run, in the process and at the latency
// the service's load run gives it, driven by k6 at the rate the service is asked for (load/27-payment-system-fakes.js:
// the PSP's three calls of a checkout and its two webhooks, to a no-op server). When the fake carries the rate, a
// service that does not is the limit, not the fake.
import { join } from 'node:path';
import { loadDir } from '../../core/paths.ts';
import { round3 } from '../../core/stats.ts';
import { runK6 } from '../../load/k6-runner.ts';
import { measuredScenario } from '../../load/measured-scenario.ts';
import { startNoopServer } from '../../load/noop-server.ts';

export interface FakeCapacity {
  /** Checkouts per second the fake completed (all three calls answered as expected). */
  checkoutRps: number;
  offered: number;
  dropped: number;
  errorRate: number;
}

export async function measureFakeCapacity(o: {
  pspUrl: string;
  rate: number;
  seconds: number;
  outDir: string;
  k6: string;
  onProgress: (line: string) => void;
}): Promise<FakeCapacity> {
  const hooks = await startNoopServer();
  try {
    o.onProgress(`k6 against the PSP fake alone at ${o.rate} checkouts/s for ${o.seconds} s (the yardstick)`);
    const run = await runK6({
      script: join(loadDir, '27-payment-system-fakes.js'),
      env: { PSP_URL: o.pspUrl, NOTIFY_URL: `${hooks.url}/hooks`, RATE: String(o.rate), DURATION: `${o.seconds}s` },
      outDir: o.outDir,
      k6: o.k6,
      timeoutMs: (o.seconds + 60) * 1000,
    });
    const s = measuredScenario(run.summary, 'psp', o.seconds, ['checkouts']);
    return {
      checkoutRps: round3((s.counters['checkouts'] ?? 0) / o.seconds),
      offered: o.rate,
      dropped: s.dropped,
      errorRate: s.stats.errorRate,
    };
  } finally {
    await hooks.stop();
  }
}
