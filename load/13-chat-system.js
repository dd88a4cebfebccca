// Question: at a stated message rate, how long does a message take from its sender to every other member of a chatty
// 20-member group (members spread over the chat servers), and to every member of a 100-member group (the book's
// largest), over real WebSockets - and is every acknowledged message delivered to every member?
//
// Open model for the traffic: every sender sends on its own timer (setInterval), whatever the server answers, so a
// slow server shows as latency and loss, not as fewer messages. Each VU holds one WebSocket (k6/websockets) for the
// whole test. Targets come from specs/13-chat-system/generated/targets.json, the same file the harness reads.
// Env: TARGET_URL (the API server, required), PROFILE=smoke|full (default smoke).
//   k6 run -e TARGET_URL=http://127.0.0.1:8130 -e PROFILE=smoke load/13-chat-system.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';

const targets = JSON.parse(open('../specs/13-chat-system/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8130');

// fanoutRate: messages per second into the 20-member group (each member sends its share); group100Rate: messages per
// second into the 100-member group (one sender). holdS: how long every connection stays; senders stop drainS earlier.
const profiles = {
  smoke: { fanoutMembers: 20, fanoutRate: 20, group100Rate: 2, holdS: 10, drainS: 3 },
  full: { fanoutMembers: 20, fanoutRate: 200, group100Rate: 10, holdS: 65, drainS: 5 },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);
const GROUP100 = 100;
const VUS = p.fanoutMembers + GROUP100;

const fanoutLatency = new Trend('fanout_latency', true);
const group100Latency = new Trend('group100_latency', true);
// Per group: messages acknowledged to their sender (`sent`) and delivered to a member (`message`).
const acked = { fanout: new Counter('fanout_acked'), group100: new Counter('group100_acked') };
const delivered = { fanout: new Counter('fanout_delivered'), group100: new Counter('group100_delivered') };
const refused = new Counter('refused');

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '120s',
  scenarios: {
    members: { executor: 'per-vu-iterations', vus: VUS, iterations: 1, maxDuration: `${p.holdS + 30}s` },
  },
  thresholds: {
    // CHAT-T3..T5 from the catalog; CHAT-T6 (loss) is computed by the harness from the counters.
    fanout_latency: [`p(50)<=${byId['CHAT-T3'].value}`, `p(99)<=${byId['CHAT-T4'].value}`],
    group100_latency: [`p(99)<=${byId['CHAT-T5'].value}`],
    refused: ['count==0'],
  },
};

function post(path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return http.post(`${BASE}${path}`, JSON.stringify(body), { headers });
}

export function setup() {
  const run = `k6${Date.now().toString(36)}`;
  const users = [];
  for (let i = 0; i < VUS; i++) {
    const username = `${run}_${i}`;
    const u = post('/api/v1/users', { username, password: 'load-password' });
    if (u.status !== 201) fail(`sign-up answered ${u.status}: ${u.body}`);
    const s = post('/api/v1/sessions', { username, password: 'load-password', deviceId: 'k6' });
    if (s.status !== 201) fail(`sign-in answered ${s.status}: ${s.body}`);
    users.push({ userId: u.json('userId'), token: s.json('token') });
  }
  const group = (members, name) => {
    const r = post(
      '/api/v1/channels',
      { type: 'group', name, members: members.slice(1).map((m) => m.userId) },
      members[0].token,
    );
    if (r.status !== 201) fail(`creating ${name} answered ${r.status}: ${r.body}`);
    return r.json('channelId');
  };
  const fanout = users.slice(0, p.fanoutMembers);
  const big = users.slice(p.fanoutMembers);
  const d = http.get(`${BASE}/api/v1/chat-server`, { headers: { authorization: `Bearer ${users[0].token}` } });
  if (d.status !== 200) fail(`discovery answered ${d.status}: ${d.body}`);
  const servers = [d.json('server'), ...d.json('alternatives')].map((s) => s.url);
  return { users, servers, fanoutChannel: group(fanout, 'fanout'), group100Channel: group(big, 'group100') };
}

export default function (data) {
  const i = __VU - 1;
  const user = data.users[i];
  const inFanout = i < p.fanoutMembers;
  const channelId = inFanout ? data.fanoutChannel : data.group100Channel;
  // A sender's period: fan-out members share the group's rate; in the big group only its first member sends.
  const sends = inFanout ? p.fanoutRate / p.fanoutMembers : i === p.fanoutMembers ? p.group100Rate : 0;
  const url = data.servers[i % data.servers.length];
  const ws = new WebSocket(url);
  let seq = 0;
  let timer = null;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: user.token }));
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    if (f.type === 'authenticated' && sends > 0) {
      timer = setInterval(() => {
        seq++;
        ws.send(
          JSON.stringify({
            type: 'send',
            channelId,
            clientMessageId: `k6-${__VU}-${seq}`,
            text: JSON.stringify({ t: Date.now(), vu: __VU }),
          }),
        );
      }, 1000 / sends);
      setTimeout(() => clearInterval(timer), (p.holdS - p.drainS) * 1000);
    } else if (f.type === 'sent') {
      acked[inFanout ? 'fanout' : 'group100'].add(1);
    } else if (f.type === 'message') {
      const ok = check(f, {
        'message carries its channel and an integer ID': (m) =>
          m.channelId === channelId && Number.isInteger(m.messageId),
      });
      if (ok) {
        const lat = Date.now() - JSON.parse(f.text).t;
        (inFanout ? fanoutLatency : group100Latency).add(lat);
        delivered[inFanout ? 'fanout' : 'group100'].add(1);
      }
    } else if (f.type === 'error') {
      refused.add(1);
    }
  };
  ws.onerror = () => refused.add(1);
  setTimeout(() => ws.close(), p.holdS * 1000);
}
