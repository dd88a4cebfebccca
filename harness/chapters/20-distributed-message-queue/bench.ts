// The chapter's micro-benchmark against its named peer: the reference broker (one embedded broker in its own
// process, started from its manifest) beside NATS JetStream (Debian's nats-server with -js, file storage, one
// replica) through its own client, on the same seeded workloads (bench-flow.ts), first seen to deliver exactly the
// same messages on both. Only ratios measured side by side in one run; the medians over rounds that alternate which
// side goes first. nats-server missing: every target skipped with that reason, never passed.
import { loadavg } from 'node:os';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { median, round3 } from '../../core/stats.ts';
import type { TargetResult } from '../../results/types.ts';
import { BATCH, type FlowSettings, type QueueFlow, runFlow, type SideRun, VALUE_BYTES } from './bench-flow.ts';
import {
  jetStreamSide,
  type NatsServer,
  natsServerMissing,
  type QueueSide,
  startNatsServer,
  startReferenceSide,
} from './bench-sides.ts';

export const SETTINGS: Record<Profile, FlowSettings> = {
  smoke: { batches: 20, singles: 300, durableBatches: 10, rounds: 1 },
  full: { batches: 200, singles: 2000, durableBatches: 50, rounds: 3 },
};
export const FLOW_SEED = 20;
export const BENCH_TARGETS = ['MQ-T6', 'MQ-T7', 'MQ-T8', 'MQ-T9', 'MQ-T10', 'MQ-T11', 'MQ-T12'] as const;

/** Nearest-rank percentile of `xs` (ms). */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const perSecond = (p: { messages: number; seconds: number }) => p.messages / p.seconds;

/** The figures of one side's round the targets compare. */
export function figures(r: SideRun) {
  return {
    batched: perSecond(r.batched),
    unbatched: perSecond(r.unbatched),
    gain: perSecond(r.batched) / perSecond(r.unbatched),
    durable: perSecond(r.durable),
    drain: perSecond(r.drain),
    unbatchedP50: percentile(r.unbatched.acksMs, 0.5),
    unbatchedP99: percentile(r.unbatched.acksMs, 0.99),
    batchedP50: percentile(r.batched.acksMs, 0.5),
    batchedP99: percentile(r.batched.acksMs, 0.99),
  };
}
type Figure = keyof ReturnType<typeof figures>;

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const mb = (msgsPerS: number) => `${round3((msgsPerS * VALUE_BYTES) / 1e6)} MB/s`;
const ms = (x: number) => `${x.toFixed(2)} ms`;

/**
 * The flow as the chapter's targets: each a median over the rounds of ours / theirs (MQ-T7 of the two sides'
 * batching gains). A flow whose sides delivered differently leaves every target unmeasured with the difference.
 */
export function queueTargets(
  flow: QueueFlow,
  profile: Profile,
  o: { peer: string; settings: FlowSettings; load?: string; peerDetail?: string },
): TargetResult[] {
  const t = loadTargets('20-distributed-message-queue');
  if (flow.mismatch !== null || flow.rounds.length === 0)
    return BENCH_TARGETS.map((id) =>
      gradeTarget(
        t[id]!,
        {
          value: null,
          reason: `not measured: the reference and ${o.peer} delivered different messages - ${flow.mismatch ?? 'no round ran'}`,
        },
        profile,
      ),
    );
  const rounds = flow.rounds.map((r) => ({ ours: figures(r.ours), theirs: figures(r.theirs) }));
  const ratio = (k: Figure) => median(rounds.map((r) => r.ours[k] / r.theirs[k]));
  const mid = (side: 'ours' | 'theirs', k: Figure) => median(rounds.map((r) => r[side][k]));
  const s = o.settings;
  const batch = s.batchSize ?? BATCH;
  const how =
    `${o.peerDetail ? `${o.peerDetail}; ` : ''}median of ${rounds.length} round${rounds.length > 1 ? 's' : ''} alternating which side goes first` +
    `${o.load ? `, load average ${o.load}` : ''}; every message delivered by both, in order, as sent ` +
    `(${int(flow.messages)} messages of ${VALUE_BYTES} bytes on each side)`;
  const rate = (id: string, k: Figure, what: string) =>
    gradeTarget(
      t[id]!,
      {
        value: round3(ratio(k)),
        yardstick: {
          name: `${o.peer}, same messages, same run (${what})`,
          value: Math.round(mid('theirs', k)),
          unit: 'msgs/s',
        },
        reason: `reference ${int(mid('ours', k))} msgs/s (${mb(mid('ours', k))}) vs ${o.peer} ${int(mid('theirs', k))} msgs/s (${mb(mid('theirs', k))}); ${how}`,
      },
      profile,
    );
  const latency = (id: string, p50: Figure, p99: Figure, what: string) =>
    gradeTarget(
      t[id]!,
      {
        value: round3(ratio(p99)),
        yardstick: {
          name: `${o.peer}, same messages, same run (${what} p99)`,
          value: round3(mid('theirs', p99)),
          unit: 'ms',
        },
        reason: `p99 reference ${ms(mid('ours', p99))} vs ${o.peer} ${ms(mid('theirs', p99))}, p50 ${ms(mid('ours', p50))} vs ${ms(mid('theirs', p50))} (ratio ${round3(ratio(p50))}); ${how}`,
      },
      profile,
    );
  return [
    rate('MQ-T6', 'batched', `${s.batches} x ${batch} messages`),
    gradeTarget(
      t['MQ-T7']!,
      {
        value: round3(ratio('gain')),
        reason:
          `batching multiplies the reference's messages/s by ${round3(mid('ours', 'gain'))} (${int(mid('ours', 'batched'))} batched, ${int(mid('ours', 'unbatched'))} one at a time) and ${o.peer}'s by ` +
          `${round3(mid('theirs', 'gain'))} (${int(mid('theirs', 'batched'))}, ${int(mid('theirs', 'unbatched'))}); ${how}`,
      },
      profile,
    ),
    rate('MQ-T8', 'unbatched', `${s.singles} messages one at a time`),
    latency('MQ-T9', 'unbatchedP50', 'unbatchedP99', 'one message'),
    latency('MQ-T10', 'batchedP50', 'batchedP99', `a batch of ${batch}`),
    rate('MQ-T11', 'durable', `${s.durableBatches} x ${batch} messages, reference acks all`),
    rate('MQ-T12', 'drain', `the ${s.batches * batch}-message backlog from the start`),
  ];
}

export interface MeasureOptions {
  /** The reference started with this mutant (shows the delivery comparison refusing a broken broker). */
  mutant?: string;
  /** Another peer in place of JetStream (a test's fake): then nats-server is not needed. */
  peer?: () => Promise<QueueSide>;
  settings?: FlowSettings;
  /** The environment nats-server is looked up in (PATH). */
  env?: NodeJS.ProcessEnv;
}

/** Starts both sides, runs the flow, stops both, and grades it; nats-server missing skips every target. */
export async function measureQueues(
  profile: Profile,
  onProgress: (line: string) => void,
  o: MeasureOptions = {},
): Promise<TargetResult[]> {
  const t = loadTargets('20-distributed-message-queue');
  const settings = o.settings ?? SETTINGS[profile];
  let nats: NatsServer | null = null;
  let peerDetail: string | undefined;
  if (!o.peer) {
    const missing = await natsServerMissing(o.env);
    if (missing)
      return BENCH_TARGETS.map((id) =>
        gradeTarget(t[id]!, { value: null, reason: `not measured: ${missing}` }, profile),
      );
  }
  const sides: QueueSide[] = [];
  try {
    onProgress('micro-benchmark: starting the reference broker (manifest.json) and the peer');
    const ours = await startReferenceSide(o.mutant ? { mutant: o.mutant } : {});
    sides.push(ours);
    if (o.peer) {
      sides.push(await o.peer());
    } else {
      nats = await startNatsServer();
      peerDetail = `${nats.version} with -js, file storage, 1 replica, through @nats-io/jetstream 3.3.1`;
      sides.push(await jetStreamSide(nats.url, 'NATS JetStream'));
    }
    const theirs = sides[1]!;
    onProgress(
      `micro-benchmark: ${settings.batches} x ${settings.batchSize ?? BATCH} batched, ${settings.singles} one at a time, ` +
        `${settings.durableBatches} x ${settings.batchSize ?? BATCH} acks all, then the backlog drained; reference vs ${theirs.name}${peerDetail ? ` (${peerDetail})` : ''}`,
    );
    const flow = await runFlow(ours, theirs, settings, FLOW_SEED, onProgress);
    return queueTargets(flow, profile, {
      peer: theirs.name,
      settings,
      load: loadavg()[0]!.toFixed(2),
      ...(peerDetail ? { peerDetail } : {}),
    });
  } finally {
    for (const s of sides.reverse())
      await s.close().catch((e) => onProgress(`closing ${s.name}: ${(e as Error).message}`));
    await nats?.stop();
  }
}

export const benchMessageQueue: BenchRun = ({ profile, onProgress }) => measureQueues(profile, onProgress);
