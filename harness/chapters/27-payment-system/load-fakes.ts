// The PSP and payout fakes for the load run. A target the harness started (a manifest) is restarted against fakes
// in a process of their own (fakes-child.ts), at the load run's PSP latency, and restarted against the checks'
// fakes afterwards: in the harness's process they shared an event loop with k6's bookkeeping and msw's per-request
// cost, and set the pace themselves. A target graded by URL was started against the checks' fakes on fixed ports;
// it keeps them, with the latency set (and the report says where the fake ran).
import type { Target } from '../../core/target.ts';
import { type FakesChild, startFakesChild } from './fakes-child.ts';
import { currentPsp } from './third-parties.ts';

export interface LoadFakes {
  /** The PSP's URL for a capacity probe of the fake alone (null: the checks' fake in the harness). */
  child: FakesChild | null;
  where: string;
  restore(): Promise<void>;
}

export async function loadFakes(target: Target, latencyMs: number, seed: number): Promise<LoadFakes> {
  const third = currentPsp();
  if (!target.processControl || !third) {
    if (third) third.psp.latencyMs = latencyMs;
    return {
      child: null,
      where: "the harness's own process (a URL target keeps the fakes it was started against)",
      async restore() {
        if (third) third.psp.latencyMs = 0;
      },
    };
  }
  const child = await startFakesChild({ secret: third.secret, latencyMs, seed });
  const env = { SDGRADE_PAY_PSP_URL: child.pspUrl, SDGRADE_PAY_PAYOUT_URL: child.payoutUrl };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const restart = async () => {
    for (const n of target.nodes) await target.stop(n);
    for (const n of target.nodes) await target.start(n);
  };
  try {
    Object.assign(process.env, env);
    await restart();
  } catch (e) {
    await child.stop();
    throw e;
  }
  return {
    child,
    where: 'a process of its own (plain node:http)',
    async restore() {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      try {
        await restart();
      } finally {
        await child.stop();
      }
    },
  };
}
