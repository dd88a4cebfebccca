// UID-F1: the clock steps back 3 s, back 300 ms, forward 2 s then back, and back 50 ms a dozen times: the node never
// issues a duplicate or a smaller ID; it waits a tiny step out or answers 503 clock_moved_backwards.
import type { CheckContext } from '../../core/check-context.ts';
import { expectIds, type IdApi, type Issued, layoutOf, nodeApis, sleep } from './api.ts';
import {
  biteOrSkip,
  CLOCK_SETTLE_MS,
  expectRefusal,
  issueSome,
  probe,
  recovers,
  setClock,
  type Watch,
} from './clock-kit.ts';

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
  ctx.evidence.tinySteps = await tinyStepsBack(ctx, api, name, w);
  await sleep(CLOCK_SETTLE_MS);
  await recovers(ctx, api, w, name, 3000);
  await issueSome(ctx, api, name, w, `after steps back of ${TINY_STEP_MS} ms`);
  ctx.evidence.refusals = w.refusals;
  ctx.evidence.idsChecked = w.all.size;
}

/**
 * Short steps back, each crossed while clients ask without pause. The spec has a node refuse while its clock is more
 * than 5 ms behind its last ID and wait out the last 5 ms; the longer steps above reach those 5 ms only when a probe
 * happens to land in them (chance). After a step of TINY_STEP_MS the clock is in them TINY_STEP_MS later, while the
 * refusals before keep every client asking: one request or more lands in them after each step. A node that neither
 * waits nor refuses then issues in milliseconds it has already used: IDs it issued already, or smaller ones.
 */
const TINY_STEP_MS = 50;
/**
 * A request must be served within the last 5 ms after some step, and on a busy machine the node runs in slices that
 * can miss a given 5 ms: twelve steps missed a node that used them once in a CI run under load, so thirty.
 */
const TINY_STEPS = 30;
/** Time for the node to read each new offset (the reference polls every 20 ms) and for its clock to pass the step. */
const TINY_STEP_GAP_MS = 150;
const TINY_CLIENTS = 4;

async function tinyStepsBack(ctx: CheckContext, api: IdApi, name: string, w: Watch): Promise<Record<string, unknown>> {
  let stopping = false;
  let failure: unknown;
  let served = 0;
  let refusals = 0;
  const client = async () => {
    while (!stopping) {
      // Every answer received before this request was sent was issued before it: its IDs must all be smaller.
      const floor = w.max;
      const r: Issued = await api.one();
      if (r.x.status === 503) {
        expectRefusal(ctx, r, 2);
        refusals++;
        continue;
      }
      for (const id of expectIds(ctx, r, `${name} (steps back of ${TINY_STEP_MS} ms)`)) {
        const l = layoutOf(id);
        const what = `${name}, its clock stepped back ${TINY_STEP_MS} ms, issued ${id} (${new Date(l.unixMs).toISOString()}, seq ${l.sequence})`;
        ctx.expect(!w.all.has(id), `${what} a second time: the last 5 ms must be waited out (or refused)`, r.x);
        ctx.expect(
          id > floor,
          `${what}, smaller than ${floor}, which it had issued before this request was sent: the last 5 ms must be ` +
            'waited out (or refused)',
          r.x,
        );
        w.all.add(id);
        if (id > w.max) w.max = id;
      }
      served++;
    }
  };
  const clients = Array.from({ length: TINY_CLIENTS }, () =>
    client().catch((e: unknown) => {
      failure ??= e;
      stopping = true;
    }),
  );
  try {
    for (let i = 1; i <= TINY_STEPS && !stopping; i++) {
      await sleep(TINY_STEP_GAP_MS);
      // Cumulative: each write puts the clock another TINY_STEP_MS back from where the node last read it.
      setClock(ctx, name, `-${((i * TINY_STEP_MS) / 1000).toFixed(3)}s`);
    }
    await sleep(TINY_STEP_GAP_MS);
  } finally {
    stopping = true;
    await Promise.all(clients);
    setClock(ctx, name, '+0');
  }
  if (failure !== undefined) throw failure;
  return { stepMs: TINY_STEP_MS, steps: TINY_STEPS, served, refusals };
}
