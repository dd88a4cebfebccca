// The micro-benchmark's ratios and its delivery guard on tiny flows: two in-memory queues that keep what they are
// sent run the flow and are compared; a queue that loses or reorders a message, and the reference broker started as
// the batch-reversed mutant, are refused with the first difference, every target unmeasured; the ratios are those
// of known figures; nats-server missing is a skip. Beside NATS JetStream itself where nats-server is installed (CI
// installs it): a smoke-sized run measures every target. Speed is never asserted, only that figures exist.
import { describe, expect, it } from 'vitest';
import { timeLimit } from '../grade-test-kit.ts';
import { BENCH_TARGETS, measureQueues, percentile, queueTargets, RABBIT_TARGETS } from './bench.ts';
import {
  type FlowSettings,
  firstDifference,
  type QueueFlow,
  type RoundResult,
  runFlow,
  type SideRun,
} from './bench-flow.ts';
import { rabbitServerMissing } from './bench-rabbit.ts';
import { natsServerMissing, type QueueSide, startReferenceSide } from './bench-sides.ts';

/** Why the JetStream run cannot happen here, or null (nats-server is installed). */
const natsMissing = await natsServerMissing();
/** Why the RabbitMQ run cannot happen here, or null (rabbitmq-server is installed). */
const rabbitMissing = await rabbitServerMissing();

const TINY: FlowSettings = {
  batches: 3,
  singles: 5,
  durableBatches: 2,
  e2eMessages: 6,
  e2eRate: 200,
  rounds: 2,
  batchSize: 4,
};

/**
 * A queue in memory; `fault` makes it deliver differently (the differing peer the guard must refuse); `lateMs` hands
 * each message to a subscriber that much after it is produced (a slowed side).
 */
function memorySide(name: string, fault?: 'drop-last' | 'swap-first-two', lateMs = 0): QueueSide {
  const logs = new Map<string, string[]>();
  const subscribers = new Map<string, (value: string) => void>();
  return {
    name,
    async open(log) {
      logs.set(log, []);
    },
    async produce(log, values) {
      logs.get(log)!.push(...values);
      const hand = subscribers.get(log);
      if (hand) setTimeout(() => values.forEach(hand), lateMs);
    },
    async subscribe(log, onMessage) {
      subscribers.set(log, onMessage);
      return { stop: async () => void subscribers.delete(log) };
    },
    async drain(log) {
      const out = [...logs.get(log)!];
      if (fault === 'drop-last' && out.length > 8) out.pop();
      if (fault === 'swap-first-two' && out.length > 8) [out[0], out[1]] = [out[1]!, out[0]!];
      return out;
    },
    async close() {},
  };
}

const phase = (messages: number, seconds: number, acksMs: number[]) => ({ messages, seconds, acksMs });
const side = (batched: number, unbatched: number, p99: number, e2eMs = [2, 2, 8]): SideRun => ({
  batched: phase(batched, 1, [1, 2, 3]),
  unbatched: phase(unbatched, 1, [1, 1, p99]),
  durable: phase(batched / 2, 1, [4]),
  drain: { messages: batched * 2, seconds: 1 },
  e2e: { messages: e2eMs.length, latenciesMs: e2eMs, maxSendLagMs: 0.5 },
});
const flowOf = (ours: SideRun, theirs: SideRun): QueueFlow => ({
  rounds: [{ ours, theirs, oursFirst: true }],
  mismatch: null,
  messages: 100,
});

describe('20-distributed-message-queue micro-benchmark', () => {
  it('runs the flow on two queues that keep what they are sent: every round compared, nothing refused', async () => {
    const flow = await runFlow(memorySide('a'), memorySide('b'), TINY, 20);
    expect(flow.mismatch).toBeNull();
    expect(flow.rounds).toHaveLength(2);
    expect(flow.rounds.map((r) => r.oursFirst)).toEqual([true, false]);
    const r = flow.rounds[0]!.ours;
    expect([r.batched.messages, r.unbatched.messages, r.durable.messages, r.drain.messages]).toEqual([12, 5, 8, 12]);
    expect([r.batched.acksMs.length, r.unbatched.acksMs.length, r.durable.acksMs.length]).toEqual([3, 5, 2]);
    expect([r.e2e.messages, r.e2e.latenciesMs.length]).toEqual([6, 6]);
    expect(flow.messages).toBe(2 * (12 + 5 + 8 + 6));
    const targets = queueTargets(flow, 'smoke', { peer: 'b', settings: TINY });
    expect(targets.map((t) => t.id)).toEqual([...BENCH_TARGETS]);
    for (const t of targets) expect(t.value, t.id).not.toBeNull();
  });

  it.each(['drop-last', 'swap-first-two'] as const)(
    'refuses a peer that delivers differently (%s): the first difference named, every target unmeasured',
    async (fault) => {
      const flow = await runFlow(memorySide('reference'), memorySide('differing peer', fault), TINY, 20);
      expect(flow.mismatch).toMatch(/^round 1, batched workload: 12 messages sent/);
      expect(flow.mismatch).toContain(
        fault === 'drop-last'
          ? 'differing peer: message 11 is nothing where'
          : 'differing peer: message 0 is "00000001:',
      );
      const targets = queueTargets(flow, 'full', { peer: 'differing peer', settings: TINY });
      expect(targets.map((t) => `${t.id} ${t.verdict}`)).toEqual(BENCH_TARGETS.map((id) => `${id} skipped`));
      for (const t of targets) expect(t.reason).toContain('delivered different messages - round 1, batched workload');
    },
  );

  it('names the first difference of two sequences', () => {
    expect(firstDifference(['a', 'b'], ['a', 'b'])).toBeNull();
    expect(firstDifference(['a', 'b'], ['a'])).toBe('message 1 is nothing where "b..." was sent');
    expect(firstDifference(['a'], ['a', 'c'])).toBe('message 1 is "c..." where nothing was sent');
  });

  it('grades the ratios of known figures: ours over theirs, MQ-T7 the ratio of the two batching gains', () => {
    // Ours: 2,000 batched and 100 single msgs/s (a gain of 20); theirs: 1,000 and 100 (a gain of 10).
    const pass = queueTargets(flowOf(side(2000, 100, 10), side(1000, 100, 5)), 'full', { peer: 'p', settings: TINY });
    const byId = Object.fromEntries(pass.map((t) => [t.id, t]));
    expect(byId['MQ-T6']!.value).toBe(2);
    expect(byId['MQ-T6']!.yardstick?.value).toBe(1000);
    expect(byId['MQ-T7']!.value).toBe(2);
    expect(byId['MQ-T7']!.verdict).toBe('pass');
    expect(byId['MQ-T8']!.value).toBe(1);
    expect(byId['MQ-T9']!.value).toBe(2);
    expect(byId['MQ-T11']!.value).toBe(2);
    expect(byId['MQ-T12']!.value).toBe(2);
    expect(byId['MQ-T20']!.value).toBe(1);
    for (const id of ['MQ-T6', 'MQ-T8', 'MQ-T9', 'MQ-T10', 'MQ-T11', 'MQ-T12', 'MQ-T20'])
      expect(byId[id]!.verdict, id).toBe('info');
    // Batching buys ours less than it buys theirs (4 against 10): MQ-T7 fails in the full profile, is info in smoke.
    const less = flowOf(side(400, 100, 1), side(1000, 100, 1));
    const fail = queueTargets(less, 'full', { peer: 'p', settings: TINY }).find((t) => t.id === 'MQ-T7')!;
    expect([fail.value, fail.verdict]).toEqual([0.4, 'fail']);
    expect(queueTargets(less, 'smoke', { peer: 'p', settings: TINY }).find((t) => t.id === 'MQ-T7')!.verdict).toBe(
      'info',
    );
  });

  it('reports every target skipped, with the reason, when nats-server and rabbitmq-server are not installed', async () => {
    const env = { PATH: '/nonexistent' };
    expect(await natsServerMissing(env)).toMatch(/^nats-server is not installed/);
    expect(await rabbitServerMissing(env)).toMatch(/^rabbitmq-server is not installed/);
    const targets = await measureQueues('full', () => {}, { env });
    expect(targets.map((t) => `${t.id} ${t.verdict}`)).toEqual(
      [...BENCH_TARGETS, ...RABBIT_TARGETS].map((id) => `${id} skipped`),
    );
    for (const t of targets.slice(0, 8)) expect(t.reason).toContain('nats-server is not installed');
    for (const t of targets.slice(8)) expect(t.reason).toContain('rabbitmq-server is not installed');
  });

  it('measures end to end on one clock: a side that hands messages to its consumer 40 ms late is 40 ms slower', async () => {
    const settings: FlowSettings = { ...TINY, e2eMessages: 10, rounds: 1 };
    const flow = await runFlow(memorySide('prompt'), memorySide('slowed', undefined, 40), settings, 20);
    expect(flow.mismatch).toBeNull();
    const [{ ours, theirs }] = flow.rounds as [RoundResult];
    expect(ours.e2e.latenciesMs).toHaveLength(10);
    expect(Math.min(...theirs.e2e.latenciesMs)).toBeGreaterThanOrEqual(39);
    const e2e = queueTargets(flow, 'smoke', { peer: 'slowed', settings }).find((t) => t.id === 'MQ-T20')!;
    expect(e2e.yardstick?.value).toBeGreaterThanOrEqual(39);
    expect(e2e.reason).toMatch(/end to end on one clock: 10 single messages sent at 200\/s/);
  });

  it(
    'shows a long poll woken only by fsync in the reference end to end: acks 1 messages wait for maxWait',
    async () => {
      const settings: FlowSettings = { ...TINY, e2eMessages: 5, rounds: 1 };
      const mutant = await startReferenceSide({ mutant: 'long-poll-woken-only-by-fsync' });
      const flow = await runFlow(mutant, memorySide('in-memory queue'), settings, 20).finally(() => mutant.close());
      expect(flow.mismatch).toBeNull();
      // Every message waits for the consumer's long poll to end (1 s) rather than waking it.
      expect(percentile(flow.rounds[0]!.ours.e2e.latenciesMs, 0.5)).toBeGreaterThan(200);
      const e2e = queueTargets(flow, 'smoke', { peer: 'in-memory queue', settings }).find((t) => t.id === 'MQ-T20')!;
      expect(e2e.value).toBeGreaterThan(10);
    },
    timeLimit(60_000),
  );

  it(
    'refuses the reference broker started as the batch-reversed mutant, beside a queue that keeps the order',
    async () => {
      const targets = await measureQueues('smoke', () => {}, {
        mutant: 'batch-reversed',
        peer: async () => memorySide('in-memory queue'),
        settings: TINY,
      });
      expect(targets.map((t) => `${t.id} ${t.verdict}`)).toEqual(BENCH_TARGETS.map((id) => `${id} skipped`));
      expect(targets[0]!.reason).toMatch(
        /delivered different messages - round 1, batched workload: .*reference \[mutant batch-reversed\]: message 0 is "00000003:/,
      );
    },
    timeLimit(60_000),
  );

  it.skipIf(natsMissing !== null)(
    'measures the unmodified reference beside NATS JetStream into every target (needs nats-server)',
    async () => {
      const settings: FlowSettings = { batches: 4, singles: 20, durableBatches: 2, e2eMessages: 20, rounds: 1 };
      const targets = await measureQueues('smoke', () => {}, { settings, peers: ['nats'] });
      expect(targets.map((t) => t.id)).toEqual([...BENCH_TARGETS]);
      for (const t of targets) expect(t.value, `${t.id}: ${t.reason}`).toBeGreaterThan(0);
      expect(targets[0]!.reason).toContain('every message delivered by both, in order, as sent');
      expect(targets[0]!.reason).toMatch(/nats-server: v2\.\d+/);
    },
    timeLimit(60_000),
  );

  it.skipIf(rabbitMissing !== null)(
    'measures the unmodified reference beside RabbitMQ streams into every target (needs rabbitmq-server)',
    async () => {
      const settings: FlowSettings = { batches: 4, singles: 20, durableBatches: 2, e2eMessages: 20, rounds: 1 };
      const targets = await measureQueues('smoke', () => {}, { settings, peers: ['rabbit'] });
      expect(targets.map((t) => t.id)).toEqual([...RABBIT_TARGETS]);
      for (const t of targets) expect(t.value, `${t.id}: ${t.reason}`).toBeGreaterThan(0);
      expect(targets[0]!.reason).toContain('every message delivered by both, in order, as sent');
      expect(targets[0]!.reason).toMatch(/RabbitMQ 3\.\d+\.\d+, a durable stream queue/);
    },
    timeLimit(150_000),
  );
});
