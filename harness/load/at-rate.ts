// The yardstick at the offered rate: after a chapter's load, the no-op server is offered the same scenarios at the
// same rates for a few seconds. If it carries them and the implementation did not, the implementation missed; if
// it does not carry them either, the rate is beyond this machine (grade-target.ts decides, with both figures).
import { join } from 'node:path';
import type { LoadRunContext } from '../core/load-run.ts';
import { round3 } from '../core/stats.ts';
import type { AtRate, LoadScenario } from '../results/types.ts';
import type { ChapterK6Run } from './chapter-k6.ts';
import { startNoopProcess } from './noop-process.ts';
import { type RateProbeOptions, type RateProbeResult, rateProbe } from './rate-probe.ts';

export const YARDSTICK_AT_RATE = { smoke: { warmupS: 1, durationS: 3 }, full: { warmupS: 5, durationS: 15 } };

/** What the yardstick runs on; tests pass fakes. */
export interface AtRateIo {
  startNoop: () => Promise<{ url: string; stop(): Promise<void> }>;
  probe: (o: RateProbeOptions) => Promise<Pick<RateProbeResult, 'carried' | 'rps' | 'dropped' | 'p99Ms'>>;
}

// The no-op server in its own process, as the implementation is (see noop-process.ts).
const k6Io: AtRateIo = { startNoop: () => startNoopProcess(), probe: rateProbe };

export async function atOfferedRate(
  ctx: Pick<LoadRunContext, 'profile' | 'outDir' | 'k6' | 'onProgress' | 'replayDir'>,
  run: Pick<ChapterK6Run, 'loadGenerator'>,
  scenarios: readonly LoadScenario[],
  io: AtRateIo = k6Io,
): Promise<AtRate> {
  const rates = Object.fromEntries(
    scenarios.filter((s) => s.targetRps !== undefined && s.targetRps > 0).map((s) => [s.name, s.targetRps!]),
  );
  const offeredRps = round3(Object.values(rates).reduce((a, b) => a + b, 0));
  const out: AtRate = { offeredRps };
  if (run.loadGenerator) out.loadGenerator = run.loadGenerator;
  // grade-load: the runners were elsewhere; the yardstick would have to be measured there too.
  if (ctx.replayDir || offeredRps === 0) return out;
  const plan = YARDSTICK_AT_RATE[ctx.profile];
  ctx.onProgress(`yardstick: the no-op server at the same ${offeredRps} req/s (${plan.durationS} s)`);
  const noop = await io.startNoop();
  try {
    const r = await io.probe({
      url: `${noop.url}/`,
      rates,
      ...plan,
      outDir: join(ctx.outDir, 'yardstick-at-rate'),
      k6: ctx.k6,
    });
    out.yardstick = { carried: r.carried, rps: r.rps, dropped: r.dropped, p99Ms: r.p99Ms };
  } finally {
    await noop.stop();
  }
  return out;
}
