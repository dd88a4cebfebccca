// k6 script: one step of chapter 13's capacity search - a fixed number of WebSocket connections, the members of one
// group, send into it at a fixed total message rate (each member on its own timer, whatever the server answers: an
// open model, so a slow server shows as latency and loss, not as fewer messages), and every other member's receipt
// of each message is timed. The same script runs against the implementation and against the no-op fan-out server
// (noop-fanout-server.ts); the harness makes the group beforehand over the chapter's HTTP API and passes it in.
// Env: GROUP (required) JSON {"tokens": [...], "channelId": "...", "servers": ["ws://...", ...]}; RATE (messages
// per second into the group, required); WARMUP_S (default 1), DURATION_S (default 3): messages sent in the
// measured window count; DRAIN_S (default 2): how long members stay connected after the last send; STEP (default
// "0"): this step's name, in every message ID and text, so the group can be reused across steps (a store that
// deduplicates by the sender's message ID would otherwise take a later step's messages for repeats).
import { check, fail } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';

const group = JSON.parse(__ENV.GROUP || 'null');
if (!group || !Array.isArray(group.tokens) || group.tokens.length < 2) fail('GROUP with 2 or more tokens is required');
const rate = Number(__ENV.RATE);
if (!(rate > 0)) fail('RATE (messages per second) is required');
const warmupS = Number(__ENV.WARMUP_S || 1);
const durationS = Number(__ENV.DURATION_S || 3);
const drainS = Number(__ENV.DRAIN_S || 2);
const members = group.tokens.length;
const step = __ENV.STEP || '0';

const latency = new Trend('fanout_ms', true);
// Messages of the measured window: sent, acknowledged to their sender, and delivered to another member.
const measuredSent = new Counter('measured_sent');
const measuredAcked = new Counter('measured_acked');
const measuredDelivered = new Counter('measured_delivered');
const refused = new Counter('refused');

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    members: {
      executor: 'per-vu-iterations',
      vus: members,
      iterations: 1,
      maxDuration: `${warmupS + durationS + drainS + 30}s`,
    },
  },
  // Always-true thresholds: k6 exports these metrics to the summary whatever happens.
  thresholds: {
    fanout_ms: ['max>=0'],
    measured_sent: ['count>=0'],
    measured_acked: ['count>=0'],
    measured_delivered: ['count>=0'],
    refused: ['count>=0'],
  },
};

export function setup() {
  // One clock for every member: the measured window is the same for all.
  return { t0: Date.now() + 1000 };
}

export default function (data) {
  const i = __VU - 1;
  const ws = new WebSocket(group.servers[i % group.servers.length]);
  const from = data.t0 + warmupS * 1000;
  const until = from + durationS * 1000;
  const mine = new Set();
  let seq = 0;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: group.tokens[i] }));
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    if (f.type === 'authenticated') {
      // Member i sends at t0 + (i + k * members) / rate seconds, k = 0, 1, ...: the group's sends are evenly spaced at
      // the total rate (also when a member sends less than once per window). Each send is scheduled at its absolute
      // time, so a late timer does not push the later ones back (setInterval's drift would show as sends not made).
      const period = (1000 * members) / rate;
      let k = 0;
      const next = () => {
        const at = data.t0 + (i * 1000) / rate + k * period;
        if (at >= until) return;
        setTimeout(tick, Math.max(0, at - Date.now()));
      };
      const tick = () => {
        const now = Date.now();
        const measured = now >= from && now < until;
        const id = `cap-${step}-${__VU}-${++seq}`;
        if (measured) {
          mine.add(id);
          measuredSent.add(1);
        }
        ws.send(
          JSON.stringify({
            type: 'send',
            channelId: group.channelId,
            clientMessageId: id,
            text: JSON.stringify({ t: now, m: measured ? 1 : 0, s: step }),
          }),
        );
        k++;
        next();
      };
      next();
    } else if (f.type === 'sent') {
      if (mine.delete(f.clientMessageId)) measuredAcked.add(1);
    } else if (f.type === 'message') {
      const ok = check(f, { 'message carries its channel': (m) => m.channelId === group.channelId });
      const body = ok ? JSON.parse(f.text) : null;
      if (body && body.m === 1 && body.s === step) {
        latency.add(Date.now() - body.t);
        measuredDelivered.add(1);
      }
    } else if (f.type === 'error') {
      refused.add(1);
    }
  };
  ws.onerror = () => refused.add(1);
  setTimeout(() => ws.close(), Math.max(0, until + drainS * 1000 - Date.now()));
}
