// The micro-benchmark's workloads, run the same way on both sides (bench-sides.ts) and verified before any number
// counts: seeded 1 KiB values produced in batches of 100 (acks 1 on the reference, a PubAck on JetStream), one at a
// time (the same acks), in batches with acks all (the reference fsyncs; JetStream's PubAck is the same as before),
// then the batched backlog drained from the start, and single messages at a fixed rate read by a consumer at the tail
// as they arrive (end-to-end latency, bench-latency.ts). Every log of every round is read back whole on both sides and
// must hold exactly what was sent, in order, on both (count and a SHA-256 of the values): sides that delivered
// differently are not compared, and the first difference is named.
import { createHash, randomBytes } from 'node:crypto';
import { seededRandom } from '../../fakes/prng.ts';
import { E2E_RATE, type EndToEnd, endToEndPhase } from './bench-latency.ts';
import type { BenchAcks, QueueSide } from './bench-sides.ts';

export const VALUE_BYTES = 1024;
export const BATCH = 100;

export interface FlowSettings {
  /** Produce requests of BATCH messages each, acks 1. */
  batches: number;
  /** Messages produced one per request, each awaited before the next. */
  singles: number;
  /** Produce requests of BATCH messages each, acks all. */
  durableBatches: number;
  /** Single messages sent at `e2eRate` per second to a consumer at the tail (end-to-end latency). */
  e2eMessages: number;
  /** Their offered rate, messages/s (E2E_RATE unless a test changes it). */
  e2eRate?: number;
  /** Rounds, alternating which side goes first. */
  rounds: number;
  /** The batch size (BATCH unless a test makes the flow tiny). */
  batchSize?: number;
}

export interface Phase {
  messages: number;
  seconds: number;
  /** Each request's time to its acknowledgement (a batch's, or one message's), ms. */
  acksMs: number[];
}

export interface SideRun {
  batched: Phase;
  unbatched: Phase;
  durable: Phase;
  drain: { messages: number; seconds: number };
  e2e: EndToEnd;
}

export interface RoundResult {
  ours: SideRun;
  theirs: SideRun;
  oursFirst: boolean;
}

export interface QueueFlow {
  rounds: RoundResult[];
  /** The first difference between what was sent and what a side delivered, or null when both delivered it all. */
  mismatch: string | null;
  /** Messages each side stored and delivered in the whole flow. */
  messages: number;
}

type Workload = 'batched' | 'unbatched' | 'durable' | 'e2e';
const WORKLOADS: readonly Workload[] = ['batched', 'unbatched', 'durable', 'e2e'];

/**
 * Seeded printable ASCII values of VALUE_BYTES, each starting with its index (so an order or a loss shows), the
 * same on both sides of a round.
 */
export function valuesFor(seed: number, count: number): string[] {
  const rnd = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const head = `${String(i).padStart(8, '0')}:`;
    const chars = new Array<string>(VALUE_BYTES - head.length);
    for (let c = 0; c < chars.length; c++) chars[c] = String.fromCharCode(32 + Math.floor(rnd() * 95));
    out.push(head + chars.join(''));
  }
  return out;
}

/** A SHA-256 of the values in order, each length-prefixed (so no two sequences share one). */
export function digestOfValues(values: readonly string[]): string {
  const h = createHash('sha256');
  for (const v of values) h.update(`${Buffer.byteLength(v)}:`).update(v);
  return h.digest('hex').slice(0, 16);
}

const clip = (v: string | undefined) => (v === undefined ? 'nothing' : `"${v.slice(0, 24)}..."`);

/** Where `got` first departs from `sent`, or null when they are the same sequence. */
export function firstDifference(sent: readonly string[], got: readonly string[]): string | null {
  const n = Math.max(sent.length, got.length);
  for (let i = 0; i < n; i++)
    if (sent[i] !== got[i]) return `message ${i} is ${clip(got[i])} where ${clip(sent[i])} was sent`;
  return null;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

async function producePhase(
  side: QueueSide,
  log: string,
  values: readonly string[],
  per: number,
  acks: BenchAcks,
): Promise<Phase> {
  const acksMs: number[] = [];
  const start = performance.now();
  for (let i = 0; i < values.length; i += per)
    acksMs.push(await timed(() => side.produce(log, values.slice(i, i + per), acks)));
  return { messages: values.length, seconds: (performance.now() - start) / 1000, acksMs };
}

/** One side's round: every workload on its own fresh log, then the batched backlog drained and every log read back. */
async function runSide(
  side: QueueSide,
  logs: Record<Workload, string>,
  sent: Record<Workload, string[]>,
  batch: number,
  e2eRate: number,
): Promise<{ run: SideRun; delivered: Record<Workload, string[]> }> {
  for (const w of WORKLOADS) await side.open(logs[w]);
  const batched = await producePhase(side, logs.batched, sent.batched, batch, '1');
  const unbatched = await producePhase(side, logs.unbatched, sent.unbatched, 1, '1');
  const durable = await producePhase(side, logs.durable, sent.durable, batch, 'all');
  const e2e = await endToEndPhase(side, logs.e2e, sent.e2e, e2eRate);
  const start = performance.now();
  const backlog = await side.drain(logs.batched);
  const drain = { messages: backlog.length, seconds: (performance.now() - start) / 1000 };
  const delivered = {
    batched: backlog,
    unbatched: await side.drain(logs.unbatched),
    durable: await side.drain(logs.durable),
    // What the consumer at the tail received, as it arrived.
    e2e: e2e.delivered,
  };
  return { run: { batched, unbatched, durable, drain, e2e: e2e.run }, delivered };
}

/** Compares both sides' deliveries of one round with what was sent: the first difference, or null. */
function compare(
  round: number,
  names: [string, string],
  sent: Record<Workload, string[]>,
  delivered: [Record<Workload, string[]>, Record<Workload, string[]>],
): string | null {
  for (const w of WORKLOADS) {
    const diffs = delivered.map((d) => firstDifference(sent[w], d[w]));
    if (diffs.every((d) => d === null)) continue;
    const counts = delivered
      .map((d, i) => `${names[i]} delivered ${d[w].length} (sha256 ${digestOfValues(d[w])})`)
      .join(', ');
    const first = diffs.map((d, i) => (d ? `${names[i]}: ${d}` : null)).find((d) => d !== null);
    return `round ${round + 1}, ${w} workload: ${sent[w].length} messages sent (sha256 ${digestOfValues(sent[w])}), ${counts}; first difference, ${first}`;
  }
  return null;
}

/**
 * Runs every round on both sides (alternating which goes first), each round on fresh logs and fresh seeded values.
 * Stops at the first round whose deliveries differ: then `mismatch` names it and nothing is to be compared.
 */
export async function runFlow(
  ours: QueueSide,
  theirs: QueueSide,
  s: FlowSettings,
  seed: number,
  onProgress: (line: string) => void = () => {},
): Promise<QueueFlow> {
  const batch = s.batchSize ?? BATCH;
  const e2eRate = s.e2eRate ?? E2E_RATE;
  const tag = randomBytes(3).toString('hex');
  const rounds: RoundResult[] = [];
  let messages = 0;
  // Untimed: each client's first requests (connections, JIT) count in neither side's figures.
  const warm = {
    batched: valuesFor(seed - 1, 2 * batch),
    unbatched: valuesFor(seed - 2, 10),
    durable: valuesFor(seed - 3, batch),
    e2e: valuesFor(seed - 4, 5),
  };
  for (const [i, side] of [ours, theirs].entries()) {
    const logs = Object.fromEntries(WORKLOADS.map((w) => [w, `bench-${tag}-warm-${i}-${w}`])) as Record<
      Workload,
      string
    >;
    await runSide(side, logs, warm, batch, e2eRate);
  }
  for (let r = 0; r < s.rounds; r++) {
    const sent: Record<Workload, string[]> = {
      batched: valuesFor(seed + 10 * r, s.batches * batch),
      unbatched: valuesFor(seed + 10 * r + 1, s.singles),
      durable: valuesFor(seed + 10 * r + 2, s.durableBatches * batch),
      e2e: valuesFor(seed + 10 * r + 3, s.e2eMessages),
    };
    const logsOf = (side: number) =>
      Object.fromEntries(WORKLOADS.map((w) => [w, `bench-${tag}-r${r}-${side}-${w}`])) as Record<Workload, string>;
    const oursFirst = r % 2 === 0;
    const order = oursFirst ? ([0, 1] as const) : ([1, 0] as const);
    const sides = [ours, theirs] as const;
    const done: { run: SideRun; delivered: Record<Workload, string[]> }[] = [];
    for (const i of order) {
      onProgress(`micro-benchmark: round ${r + 1} of ${s.rounds}, ${sides[i].name}`);
      done[i] = await runSide(sides[i], logsOf(i), sent, batch, e2eRate);
    }
    const mismatch = compare(r, [ours.name, theirs.name], sent, [done[0]!.delivered, done[1]!.delivered]);
    if (mismatch) return { rounds, mismatch, messages };
    rounds.push({ ours: done[0]!.run, theirs: done[1]!.run, oursFirst });
    messages += sent.batched.length + sent.unbatched.length + sent.durable.length + sent.e2e.length;
  }
  return { rounds, mismatch: null, messages };
}
