// The chapter's micro-benchmark against its named peers: the reference broker (one embedded broker in its own
// process, started from its manifest) beside NATS JetStream (Debian's nats-server with -js, file storage, one
// replica; MQ-T6..T12, MQ-T20) and beside RabbitMQ streams (Debian's rabbitmq-server; MQ-T13..T19, MQ-T21), each through its own
// client, on the same seeded workloads (bench-flow.ts), first seen to deliver exactly the same messages on both.
// Only ratios measured side by side in one run; the medians over rounds that alternate which side goes first. A peer
// that is not installed: its targets skipped with that reason, never passed.
import { loadavg } from 'node:os';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { median, round3 } from '../../core/stats.ts';
import type { TargetResult } from '../../results/types.ts';
import { BATCH, type FlowSettings, type QueueFlow, runFlow, type SideRun, VALUE_BYTES } from './bench-flow.ts';
import { E2E_RATE } from './bench-latency.ts';
import { type RabbitServer, rabbitServerMissing, rabbitStreamSide, startRabbitServer } from './bench-rabbit.ts';
import {
  jetStreamSide,
  type NatsServer,
  natsServerMissing,
  type QueueSide,
  startNatsServer,
  startReferenceSide,
} from './bench-sides.ts';

export const SETTINGS: Record<Profile, FlowSettings> = {
  smoke: { batches: 20, singles: 300, durableBatches: 10, e2eMessages: 30, rounds: 1 },
  full: { batches: 200, singles: 2000, durableBatches: 50, e2eMessages: 1000, rounds: 3 },
};
export const FLOW_SEED = 20;
/** Against NATS JetStream. */
export const BENCH_TARGETS = ['MQ-T6', 'MQ-T7', 'MQ-T8', 'MQ-T9', 'MQ-T10', 'MQ-T11', 'MQ-T12', 'MQ-T20'] as const;
/** The same eight figures against RabbitMQ streams, in the same order. */
export const RABBIT_TARGETS = ['MQ-T13', 'MQ-T14', 'MQ-T15', 'MQ-T16', 'MQ-T17', 'MQ-T18', 'MQ-T19', 'MQ-T21'] as const;

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
    e2eP50: percentile(r.e2e.latenciesMs, 0.5),
    e2eP99: percentile(r.e2e.latenciesMs, 0.99),
    sendLag: r.e2e.maxSendLagMs,
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
  o: {
    peer: string;
    settings: FlowSettings;
    load?: string;
    peerDetail?: string;
    /** The eight target IDs for this peer (default: JetStream's). */
    ids?: readonly string[];
  },
): TargetResult[] {
  const t = loadTargets('20-distributed-message-queue');
  const ids = o.ids ?? BENCH_TARGETS;
  if (flow.mismatch !== null || flow.rounds.length === 0)
    return ids.map((id) =>
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
  const latency = (id: string, p50: Figure, p99: Figure, what: string, more = '') =>
    gradeTarget(
      t[id]!,
      {
        value: round3(ratio(p99)),
        yardstick: {
          name: `${o.peer}, same messages, same run (${what} p99)`,
          value: round3(mid('theirs', p99)),
          unit: 'ms',
        },
        reason: `p99 reference ${ms(mid('ours', p99))} vs ${o.peer} ${ms(mid('theirs', p99))}, p50 ${ms(mid('ours', p50))} vs ${ms(mid('theirs', p50))} (ratio ${round3(ratio(p50))}); ${more}${how}`,
      },
      profile,
    );
  const [batched, gain, unbatched, unbatchedLatency, batchedLatency, durable, drain, e2e] = ids as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const sendLag = Math.max(...rounds.flatMap((r) => [r.ours.sendLag, r.theirs.sendLag]));
  return [
    rate(batched, 'batched', `${s.batches} x ${batch} messages`),
    gradeTarget(
      t[gain]!,
      {
        value: round3(ratio('gain')),
        reason:
          `batching multiplies the reference's messages/s by ${round3(mid('ours', 'gain'))} (${int(mid('ours', 'batched'))} batched, ${int(mid('ours', 'unbatched'))} one at a time) and ${o.peer}'s by ` +
          `${round3(mid('theirs', 'gain'))} (${int(mid('theirs', 'batched'))}, ${int(mid('theirs', 'unbatched'))}); ${how}`,
      },
      profile,
    ),
    rate(unbatched, 'unbatched', `${s.singles} messages one at a time`),
    latency(unbatchedLatency, 'unbatchedP50', 'unbatchedP99', 'one message'),
    latency(batchedLatency, 'batchedP50', 'batchedP99', `a batch of ${batch}`),
    rate(durable, 'durable', `${s.durableBatches} x ${batch} messages, reference acks all`),
    rate(drain, 'drain', `the ${s.batches * batch}-message backlog from the start`),
    latency(
      e2e,
      'e2eP50',
      'e2eP99',
      'end to end',
      `end to end on one clock: ${s.e2eMessages} single messages sent at ${s.e2eRate ?? E2E_RATE}/s, each from its send to its receipt by a consumer at the tail (the harness's sends at most ${ms(sendLag)} behind schedule); `,
    ),
  ];
}

export interface MeasureOptions {
  /** The reference started with this mutant (shows the delivery comparison refusing a broken broker). */
  mutant?: string;
  /** Another peer in place of JetStream (a test's fake): then only MQ-T6..T12, and no server is needed. */
  peer?: () => Promise<QueueSide>;
  /** Which real peers to measure against (default both). */
  peers?: readonly PeerName[];
  settings?: FlowSettings;
  /** The environment the peers' servers are looked up in (PATH). */
  env?: NodeJS.ProcessEnv;
}

export type PeerName = 'nats' | 'rabbit';

interface Peer {
  ids: readonly string[];
  missing(): Promise<string | null>;
  start(): Promise<{ side: QueueSide; detail?: string; stop(): Promise<void> }>;
}

const PEERS: Record<PeerName, (o: MeasureOptions) => Peer> = {
  nats: (o) => ({
    ids: BENCH_TARGETS,
    missing: () => natsServerMissing(o.env),
    async start() {
      const nats: NatsServer = await startNatsServer();
      const detail = `${nats.version} with -js, file storage, 1 replica, through @nats-io/jetstream 3.3.1`;
      try {
        return { side: await jetStreamSide(nats.url, 'NATS JetStream'), detail, stop: () => nats.stop() };
      } catch (e) {
        await nats.stop();
        throw e;
      }
    },
  }),
  rabbit: (o) => ({
    ids: RABBIT_TARGETS,
    missing: () => rabbitServerMissing(o.env),
    async start() {
      const rabbit: RabbitServer = await startRabbitServer();
      const detail = `${rabbit.version}, a durable stream queue, publisher confirms, through amqplib 2.3.1`;
      try {
        return { side: await rabbitStreamSide(rabbit.url), detail, stop: () => rabbit.stop() };
      } catch (e) {
        await rabbit.stop();
        throw e;
      }
    },
  }),
};

/** For each peer: starts the reference and the peer, runs the flow, stops both, and grades it; a peer not installed skips its targets. */
export async function measureQueues(
  profile: Profile,
  onProgress: (line: string) => void,
  o: MeasureOptions = {},
): Promise<TargetResult[]> {
  if (o.peer) {
    const fake = o.peer;
    return measureAgainst(profile, onProgress, o, {
      ids: BENCH_TARGETS,
      missing: async () => null,
      start: async () => ({ side: await fake(), stop: async () => {} }),
    });
  }
  const out: TargetResult[] = [];
  for (const name of o.peers ?? (['nats', 'rabbit'] as const))
    out.push(...(await measureAgainst(profile, onProgress, o, PEERS[name](o))));
  return out;
}

async function measureAgainst(
  profile: Profile,
  onProgress: (line: string) => void,
  o: MeasureOptions,
  peer: Peer,
): Promise<TargetResult[]> {
  const t = loadTargets('20-distributed-message-queue');
  const settings = o.settings ?? SETTINGS[profile];
  const missing = await peer.missing();
  if (missing)
    return peer.ids.map((id) => gradeTarget(t[id]!, { value: null, reason: `not measured: ${missing}` }, profile));
  let ours: QueueSide | undefined;
  let theirs: Awaited<ReturnType<Peer['start']>> | undefined;
  try {
    onProgress('micro-benchmark: starting the reference broker (manifest.json) and the peer');
    ours = await startReferenceSide(o.mutant ? { mutant: o.mutant } : {});
    theirs = await peer.start();
    const name = theirs.side.name;
    onProgress(
      `micro-benchmark: ${settings.batches} x ${settings.batchSize ?? BATCH} batched, ${settings.singles} one at a time, ` +
        `${settings.durableBatches} x ${settings.batchSize ?? BATCH} acks all, ${settings.e2eMessages} end to end at ${settings.e2eRate ?? E2E_RATE}/s, then the backlog drained; reference vs ${name}${theirs.detail ? ` (${theirs.detail})` : ''}`,
    );
    const flow = await runFlow(ours, theirs.side, settings, FLOW_SEED, onProgress);
    return queueTargets(flow, profile, {
      peer: name,
      settings,
      load: loadavg()[0]!.toFixed(2),
      ids: peer.ids,
      ...(theirs.detail ? { peerDetail: theirs.detail } : {}),
    });
  } finally {
    if (theirs) {
      await theirs.side.close().catch((e) => onProgress(`closing ${theirs!.side.name}: ${(e as Error).message}`));
      await theirs.stop();
    }
    await ours?.close().catch((e) => onProgress(`closing the reference: ${(e as Error).message}`));
  }
}

export const benchMessageQueue: BenchRun = ({ profile, onProgress }) => measureQueues(profile, onProgress);
