// A chapter's fakes of third parties (a PSP, a payout provider), started before its target and stopped after it.
// Their environment (e.g. SDGRADE_PAY_PSP_URL) is set in the harness's own environment meanwhile, so a manifest
// reaches them through `${env:NAME}` like any other setting; close() stops them and restores the environment.
import type { ChapterModule } from '../chapters/chapter-module.ts';

export async function startThirdParties(module: ChapterModule, seed: number): Promise<{ close(): Promise<void> }> {
  const started = await module.thirdParties?.({ seed });
  if (!started) return { close: async () => {} };
  const saved = Object.fromEntries(Object.keys(started.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, started.env);
  return {
    async close() {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await started.close();
    },
  };
}
