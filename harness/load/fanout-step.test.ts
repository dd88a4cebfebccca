// Chapter 13's capacity steps: the judgement of a step from fanout-probe.js's summary, and the no-op fan-out
// yardstick (in a process of its own) answering the group set-up and fanning a message out to the other members.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { timeLimit } from '../core/time-scale.ts';
import { judgeFanoutStep, prepareGroup } from './fanout-step.ts';
import type { K6Summary } from './k6-summary.ts';
import { startNoopFanoutProcess } from './noop-process.ts';

function summary(o: {
  sent: number;
  acked: number;
  delivered: number;
  p99: number;
  refused?: number;
  checkFails?: number;
}): K6Summary {
  const counter = (count: number) => ({ type: 'counter' as const, count, rate: 0 });
  return {
    metrics: {
      measured_sent: counter(o.sent),
      measured_acked: counter(o.acked),
      measured_delivered: counter(o.delivered),
      refused: counter(o.refused ?? 0),
      fanout_ms: { type: 'trend', values: { 'p(99)': o.p99 } },
    },
    thresholds: [],
    checks: [{ path: '::c', name: 'c', passes: o.delivered, fails: o.checkFails ?? 0 }],
  };
}

// 20 members, 50 msg/s for 6 s: 300 sends, each owed to 19 members.
const judge = (s: K6Summary) => judgeFanoutStep(s, { rate: 50, members: 20, durationS: 6, latencyMs: 250 });

describe('judgeFanoutStep', () => {
  it('holds when every send was acknowledged and reached every other member within the target', () => {
    expect(judge(summary({ sent: 300, acked: 300, delivered: 5700, p99: 80 }))).toEqual({
      rate: 50,
      rps: 50,
      p99Ms: 80,
      dropped: 0,
      errorRate: 0,
      ok: true,
    });
  });

  it('misses on one lost copy, an unacknowledged send, a refusal, a failed check, or the p99', () => {
    expect(judge(summary({ sent: 300, acked: 300, delivered: 5699, p99: 80 }))).toMatchObject({ ok: false });
    expect(judge(summary({ sent: 300, acked: 300, delivered: 5699, p99: 80 })).errorRate).toBeGreaterThan(0);
    expect(judge(summary({ sent: 300, acked: 299, delivered: 5681, p99: 80 })).ok).toBe(false);
    expect(judge(summary({ sent: 300, acked: 300, delivered: 5700, p99: 80, refused: 1 })).ok).toBe(false);
    expect(judge(summary({ sent: 300, acked: 300, delivered: 5700, p99: 80, checkFails: 1 })).ok).toBe(false);
    expect(judge(summary({ sent: 300, acked: 300, delivered: 5700, p99: 251 })).ok).toBe(false);
  });

  it('misses when k6 could not offer the rate (sends short of it), forgiving one timer tick', () => {
    expect(judge(summary({ sent: 299, acked: 299, delivered: 5681, p99: 80 })).ok).toBe(true);
    expect(judge(summary({ sent: 290, acked: 290, delivered: 5510, p99: 80 }))).toMatchObject({
      ok: false,
      dropped: 10,
    });
    expect(judge(summary({ sent: 0, acked: 0, delivered: 0, p99: 0 })).ok).toBe(false);
  });
});

describe('the no-op fan-out server', () => {
  it(
    'makes a group over the chapter API and fans a message out to the other members only',
    async () => {
      const noop = await startNoopFanoutProcess();
      const sockets: WebSocket[] = [];
      try {
        expect(noop.pid).not.toBe(process.pid);
        const g = await prepareGroup(noop.url, 3);
        expect(g.tokens).toHaveLength(3);
        expect(g.servers).toEqual([`${noop.url.replace('http', 'ws')}/ws`]);
        const frames: Record<string, unknown>[][] = [[], [], []];
        for (const [i, token] of g.tokens.entries()) {
          const ws = new WebSocket(g.servers[0]!);
          sockets.push(ws);
          ws.on('message', (d) => frames[i]!.push(JSON.parse(String(d))));
          await new Promise((r) => ws.once('open', r));
          ws.send(JSON.stringify({ type: 'auth', token }));
        }
        await expect.poll(() => frames.every((f) => f.some((x) => x.type === 'authenticated'))).toBe(true);
        sockets[0]!.send(JSON.stringify({ type: 'send', channelId: g.channelId, clientMessageId: 'a', text: 'hi' }));
        await expect.poll(() => frames[1]!.length + frames[2]!.length).toBe(4);
        await expect.poll(() => frames[0]!.map((f) => f.type)).toEqual(['authenticated', 'sent']);
        for (const i of [1, 2])
          expect(frames[i]![1]).toMatchObject({ type: 'message', channelId: g.channelId, text: 'hi' });
      } finally {
        for (const s of sockets) s.close();
        await noop.stop();
      }
    },
    timeLimit(60_000),
  );
});
