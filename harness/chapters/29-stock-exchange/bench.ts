// The chapter's micro-benchmark: the reference matching engine (Engine.apply, the step the sequencer hands every
// inbound event to) against nodejs-order-book, the npm limit order book, on one seeded flow both were first seen to
// execute identically (bench-flow.ts). tinybench times each event alone, so it gives events per second and the
// per-event latency percentiles; rounds alternate which engine goes first and the ratios are their medians.
import { loadavg } from 'node:os';
import { Bench, type Task } from 'tinybench';
import type { EngineFaults } from '../../../reference/29-stock-exchange/engine.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { collector } from '../../core/heap-bytes.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import type { TargetResult } from '../../results/types.ts';
import { buildFlow, freshEngine, type OrderFlow, PeerOrderBook } from './bench-flow.ts';

const settings = {
  smoke: { events: 20_000, rounds: 1, time: 300, warmup: 100 },
  full: { events: 200_000, rounds: 5, time: 1000, warmup: 300 },
};
export const FLOW_SEED = 29;
const PEER = 'nodejs-order-book 10.1.1';

interface Measured {
  /** Events (orders and cancels) per second: 1 / the mean time of one. */
  eventsPerSecond: number;
  /** Per-event latency percentiles, microseconds. */
  p50: number;
  p99: number;
  p999: number;
  samples: number;
}

function measured(task: Task): Measured {
  const r = task.result;
  if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state === 'errored' ? r.error.message : r.state}`);
  return {
    eventsPerSecond: 1000 / r.period,
    p50: r.latency.p50 * 1000,
    p99: r.latency.p99 * 1000,
    p999: r.latency.p999 * 1000,
    samples: r.latency.samplesCount,
  };
}

/** The reference engine replaying the flow, one event per call; a fresh engine (untimed) when the flow runs out. */
function referenceTask(flow: OrderFlow) {
  let engine = freshEngine();
  let i = 0;
  let seq = 0;
  const stamp = () => ++seq;
  const reset = () => {
    engine = freshEngine();
    i = 0;
    seq = 0;
  };
  return {
    fn: () => {
      engine.apply(flow.events[i++]!, stamp);
    },
    opts: { beforeAll: reset, beforeEach: () => (i === flow.events.length ? reset() : undefined) },
  };
}

function peerTask(flow: OrderFlow) {
  let book = new PeerOrderBook();
  let i = 0;
  const reset = () => {
    book = new PeerOrderBook();
    i = 0;
  };
  return {
    fn: () => {
      const op = flow.peerOps[i++]!;
      if (op.cancel !== undefined) book.cancel(op.cancel);
      else book.limit(op.limit!);
    },
    opts: { beforeAll: reset, beforeEach: () => (i === flow.peerOps.length ? reset() : undefined) },
  };
}

/** One round: both engines, `referenceFirst` saying which goes first, each from a collected heap. */
async function round(flow: OrderFlow, profile: Profile, referenceFirst: boolean) {
  const s = settings[profile];
  const gc = collector();
  const bench = new Bench({
    time: s.time,
    warmupTime: s.warmup,
    timestampProvider: 'hrtimeNow',
    subtractTimerOverhead: true,
    throws: true,
    setup: () => gc(),
  });
  const ours = referenceTask(flow);
  const theirs = peerTask(flow);
  const tasks: [string, typeof ours][] = [
    ['reference', ours],
    [PEER, theirs],
  ];
  for (const [name, task] of referenceFirst ? tasks : tasks.reverse()) bench.add(name, task.fn, task.opts);
  await bench.run();
  const byName = (n: string) => measured(bench.tasks.find((t) => t.name === n)!);
  return { ours: byName('reference'), theirs: byName(PEER), timerOverheadUs: (bench.timerOverhead ?? 0) * 1000 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const us = (x: number) => `${x.toFixed(2)} µs`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

/**
 * Builds and verifies the flow, then times both engines; `faults` break the reference engine as the chapter's
 * mutants do (the verifier must refuse to time it). Engines that disagree leave every target unmeasured.
 */
export async function measureEngines(
  profile: Profile,
  onProgress: (line: string) => void,
  faults: EngineFaults = {},
): Promise<TargetResult[]> {
  const t = loadTargets('29-stock-exchange');
  const s = settings[profile];
  const ids = ['SE-T7', 'SE-T8', 'SE-T9', 'SE-T10', 'SE-T11', 'SE-T12'];
  onProgress(`micro-benchmark: ${s.events} seeded events through the reference engine and ${PEER}, compared`);
  const flow = buildFlow({ events: s.events, seed: FLOW_SEED }, faults);
  if (flow.mismatch !== null)
    return ids.map((id) =>
      gradeTarget(
        t[id]!,
        { value: null, reason: `not measured: the engines executed the flow differently - ${flow.mismatch}` },
        profile,
      ),
    );
  const f = flow.stats;
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  for (let r = 0; r < s.rounds; r++) {
    onProgress(`micro-benchmark: round ${r + 1} of ${s.rounds}, ${r % 2 === 0 ? 'reference' : PEER} first`);
    rounds.push(await round(flow, profile, r % 2 === 0));
  }
  const load = loadavg()[0]!.toFixed(2);
  const ratio = (k: keyof Measured) => median(rounds.map((x) => x.ours[k] / x.theirs[k]));
  const mid = (side: 'ours' | 'theirs', k: keyof Measured) => median(rounds.map((x) => x[side][k]));
  const work =
    `${int(f.events)} events (${int(f.orders)} limit orders, ${Math.round((100 * f.crossing) / f.orders)}% priced ` +
    `through the mid; ${int(f.cancels)} cancels of resting orders), ${int(f.fills)} fills, ${int(f.meanResting)} ` +
    `orders resting on ${f.meanLevels} levels on average; every fill, cancel and the book equal in both engines`;
  const how =
    `median of ${s.rounds} round${s.rounds > 1 ? 's' : ''} (${s.time} ms per engine each, alternating which goes ` +
    `first), load average ${load}, timer overhead ${us(rounds[0]!.timerOverheadUs)} subtracted`;
  const latency = (k: 'p50' | 'p99' | 'p999', id: string) =>
    gradeTarget(
      t[id]!,
      {
        value: round3(ratio(k)),
        yardstick: { name: `${PEER}, same flow, same run (${k})`, value: round3(mid('theirs', k)), unit: 'µs' },
        reason: `reference ${us(mid('ours', k))} vs ${PEER} ${us(mid('theirs', k))} per event; ${how}`,
      },
      profile,
    );
  return [
    gradeTarget(
      t['SE-T7']!,
      {
        value: round3(ratio('eventsPerSecond')),
        yardstick: {
          name: `${PEER}, same flow, same run`,
          value: Math.round(mid('theirs', 'eventsPerSecond')),
          unit: 'orders/s',
        },
        reason:
          `reference ${int(mid('ours', 'eventsPerSecond'))} vs ${PEER} ${int(mid('theirs', 'eventsPerSecond'))} ` +
          `events/s; ${how}; ${work}`,
      },
      profile,
    ),
    latency('p99', 'SE-T8'),
    latency('p50', 'SE-T9'),
    latency('p999', 'SE-T10'),
    gradeTarget(
      t['SE-T11']!,
      {
        value: Math.round(mid('ours', 'eventsPerSecond')),
        reason: `one core of this machine, ${how}; exchange-core's published figures are for its own hardware (origin)`,
      },
      profile,
    ),
    gradeTarget(
      t['SE-T12']!,
      {
        value: round3(mid('ours', 'p99')),
        reason: `p50 ${us(mid('ours', 'p50'))}, p99.9 ${us(mid('ours', 'p999'))}; ${how}`,
      },
      profile,
    ),
  ];
}

export const benchStockExchange: BenchRun = ({ profile, onProgress }) => measureEngines(profile, onProgress);
