// UID-F1: the clock steps back 3 s, back 300 ms, and forward 2 s then back: the node never issues a duplicate or a
// smaller ID; it waits a tiny step out or answers 503 clock_moved_backwards.
import type { CheckContext } from '../../core/check-context.ts';
import { nodeApis, sleep } from './api.ts';
import { biteOrSkip, CLOCK_SETTLE_MS, issueSome, probe, recovers, setClock, type Watch } from './clock-kit.ts';

/** One clock fault of UID-F1: `before` (if any) is set first and IDs issued, then `during` for 1.2 s of probes. */
interface Step {
  label: string;
  before?: string;
  during: string;
  /** How far behind the node's last ID the clock is during the step. */
  behindMs: number;
}

/**
 * Multi-second and sub-second steps back (a sub-second one stays within the same second of the clock, where a
 * check made in whole seconds sees nothing), and a step forward and back again (IDs made in the future, then the
 * clock put right: behind them).
 */
const F1_STEPS: Step[] = [
  { label: 'a 3 s step back', during: '-3s', behindMs: 3000 },
  { label: 'a 300 ms step back', during: '-0.3s', behindMs: 300 },
  { label: 'a 2 s step forward, then back', before: '+2s', during: '+0', behindMs: 2000 },
];

export async function clockStepsBack(ctx: CheckContext): Promise<void> {
  const name = ctx.target.nodes[0]!;
  const api = nodeApis(ctx)[0]!.api;
  const w: Watch = { max: -1n, all: new Set(), refusals: 0, served: 0, slowest: 0 };
  setClock(ctx, name, '+0');
  await sleep(CLOCK_SETTLE_MS);
  await issueSome(ctx, api, name, w, 'before any clock step');
  const steps: Record<string, unknown>[] = [];
  for (const step of F1_STEPS) {
    // A step must show in some answer (a refusal or a delay), or it proved nothing. A short one can be missed when
    // the machine is slow (the clock passes the last ID before the first probe): it is tried up to three times.
    let bit = false;
    for (let attempt = 1; attempt <= 3 && !bit; attempt++) {
      const at = { refusals: w.refusals, served: w.served };
      w.slowest = 0;
      try {
        if (step.before) {
          setClock(ctx, name, step.before);
          await sleep(CLOCK_SETTLE_MS);
          await issueSome(ctx, api, name, w, `with its clock at ${step.before}`);
        }
        // Probed at once: answers before the node sees the step are fine, and the step then lands right after an ID.
        setClock(ctx, name, step.during);
        const until = Date.now() + 1200;
        for (let i = 0; Date.now() < until; i++)
          await probe(ctx, api, w, `${name} (${step.label})`, i % 2 === 1, Math.ceil(step.behindMs / 1000) + 1);
      } finally {
        setClock(ctx, name, '+0');
      }
      const refusals = w.refusals - at.refusals;
      bit = refusals > 0 || w.slowest >= step.behindMs / 3;
      steps.push({
        step: step.label,
        attempt,
        refusals,
        served: w.served - at.served,
        slowestMs: Math.round(w.slowest),
      });
      ctx.evidence.steps = steps;
      await sleep(CLOCK_SETTLE_MS);
      await recovers(ctx, api, w, name, 3000);
      // Keep issuing after the fault: nothing issued in the whole check comes back.
      await issueSome(ctx, api, name, w, `after ${step.label}`);
    }
    if (!bit) biteOrSkip(ctx, { ...w, refusals: 0 }, step.behindMs);
    // The spec: more than 5 ms back is refused (503 with Retry-After) until the clock is past the last ID; only a
    // smaller step is waited out. A step of a second or more that showed only as answers held back (no refusal in
    // any attempt) was waited out. Asked of long steps only: every probe during one lands while the clock is behind.
    const last = steps.filter((x) => x.step === step.label);
    if (step.behindMs >= 1000 && bit && last.every((x) => x.refusals === 0))
      ctx.fail(
        `${name} held its answers (slowest ${Math.max(...last.map((x) => Number(x.slowestMs)))} ms) through ` +
          `${step.label} instead of refusing with 503 clock_moved_backwards: only a step of up to 5 ms may be waited out`,
      );
  }
  ctx.evidence.refusals = w.refusals;
  ctx.evidence.idsChecked = w.all.size;
}
