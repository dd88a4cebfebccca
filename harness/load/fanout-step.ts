// One step of chapter 13's capacity search (fanout-probe.js): a group of a fixed size, its members connected over
// WebSockets, offered a total message rate; the step holds when every message of the measured window was
// acknowledged and reached every other member, nothing was refused, and the fan-out p99 is within the latency
// target. The group is made once per side, over the chapter's HTTP API (the implementation's, or the no-op fan-out
// server's imitation of it), and reused by every step.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round3 } from '../core/stats.ts';
import type { CapacityStep } from '../results/types.ts';
import type { SearchPlan, StepRunner } from './capacity-search.ts';
import { sampleK6Cpu } from './k6-cpu.ts';
import { runK6 } from './k6-runner.ts';
import type { K6Summary } from './k6-summary.ts';
import { shareOf } from './measured-scenario.ts';

export const FANOUT_PROBE_SCRIPT = fileURLToPath(new URL('./fanout-probe.js', import.meta.url));

export interface FanoutGroup {
  tokens: string[];
  channelId: string;
  /** The chat servers' WebSocket URLs, from discovery; members are spread over them. */
  servers: string[];
}

async function call(base: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Signs up and in `members` users and makes them one group, over the chapter's HTTP API (13's openapi.yaml). */
export async function prepareGroup(baseUrl: string, members: number): Promise<FanoutGroup> {
  const run = `cap${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const users: { userId: string; token: string }[] = [];
  for (let i = 0; i < members; i++) {
    const username = `${run}_${i}`;
    const u = await call(baseUrl, '/api/v1/users', { username, password: 'capacity-password' });
    const s = await call(baseUrl, '/api/v1/sessions', { username, password: 'capacity-password', deviceId: 'cap' });
    users.push({ userId: String(u.userId), token: String(s.token) });
  }
  const channel = await call(
    baseUrl,
    '/api/v1/channels',
    { type: 'group', name: `capacity ${run}`, members: users.slice(1).map((u) => u.userId) },
    users[0]!.token,
  );
  const d = await call(baseUrl, '/api/v1/chat-server', undefined, users[0]!.token);
  const server = d.server as { url: string };
  const alternatives = (d.alternatives ?? []) as { url: string }[];
  return {
    tokens: users.map((u) => u.token),
    channelId: String(channel.channelId),
    servers: [server, ...alternatives].map((s) => s.url),
  };
}

const count = (s: K6Summary, name: string) => {
  const m = s.metrics[name];
  return m?.type === 'counter' ? m.count : 0;
};

/** A step's figures from fanout-probe.js's summary, judged against the latency target. */
export function judgeFanoutStep(
  summary: K6Summary,
  o: { rate: number; members: number; durationS: number; latencyMs: number },
): CapacityStep {
  const sent = count(summary, 'measured_sent');
  const acked = count(summary, 'measured_acked');
  const delivered = count(summary, 'measured_delivered');
  const refused = count(summary, 'refused');
  const failedChecks = summary.checks.reduce((n, c) => n + c.fails, 0);
  const t = summary.metrics.fanout_ms;
  const p99 = t?.type === 'trend' && Number.isFinite(t.values['p(99)']) ? round3(t.values['p(99)']!) : 0;
  const expected = acked * (o.members - 1);
  // Unacknowledged sends and copies that never arrived, over all the copies the sends owed.
  const owed = sent * (o.members - 1);
  const missing = sent - acked + Math.max(0, expected - delivered);
  // shareOf: one lost copy in thousands is not rounded away to 0.
  const loss = owed > 0 ? shareOf(Math.min(1, missing / owed)) : 1;
  // Sends the members' timers did not make in the window (k6 too busy to offer the rate): the open model's dropped
  // iterations. The members' timers are staggered, so the window holds the rate's count, give or take one.
  const offered = Math.round(o.rate * o.durationS);
  const dropped = Math.max(0, offered - sent);
  return {
    rate: o.rate,
    rps: round3(acked / o.durationS),
    p99Ms: p99,
    dropped,
    errorRate:
      refused > 0 || failedChecks > 0 ? Math.max(loss, shareOf((refused + failedChecks) / Math.max(1, sent))) : loss,
    ok:
      sent > 0 &&
      dropped <= Math.max(1, Math.floor(offered * 0.01)) &&
      acked === sent &&
      delivered >= expected &&
      refused === 0 &&
      failedChecks === 0 &&
      p99 <= o.latencyMs,
  };
}

/**
 * Steps against a chat service at `baseUrl` (the implementation or the no-op fan-out server): the group is made
 * on the first step.
 */
export function fanoutStepRunner(o: {
  baseUrl: string;
  members: number;
  latencyMs: number;
  plan: SearchPlan;
  outDir: string;
  k6: string;
}): StepRunner {
  let group: Promise<FanoutGroup> | null = null;
  return async (rate, index) => {
    group ??= prepareGroup(o.baseUrl, o.members);
    const g = await group;
    const cpu = sampleK6Cpu();
    let stopped = false;
    try {
      const run = await runK6({
        script: FANOUT_PROBE_SCRIPT,
        env: {
          GROUP: JSON.stringify(g),
          RATE: String(rate),
          WARMUP_S: String(o.plan.warmupS),
          DURATION_S: String(o.plan.stepS),
          STEP: `${Date.now().toString(36)}-${index}`,
        },
        outDir: join(o.outDir, `step-${index}`),
        k6: o.k6,
        timeoutMs: (o.plan.warmupS + o.plan.stepS + 90) * 1000,
      });
      const step = judgeFanoutStep(run.summary, {
        rate,
        members: o.members,
        durationS: o.plan.stepS,
        latencyMs: o.latencyMs,
      });
      const use = cpu.stop(step.dropped);
      stopped = true;
      return { ...step, k6CpuCores: use.cpuCores };
    } finally {
      if (!stopped) cpu.stop(0);
    }
  };
}

/**
 * Message rates into the group (not request rates): each message is copied to every other member, and k6 receives
 * every copy. Smoke proves the plumbing in two short steps a side; full is a real search.
 */
export const FANOUT_PLANS = {
  smoke: { startRps: 10, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 25, factor: 2, maxSteps: 9, refine: 3, warmupS: 2, stepS: 6 },
} as const satisfies Record<'smoke' | 'full', SearchPlan>;
