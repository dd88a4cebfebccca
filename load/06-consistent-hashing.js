// Question: does the placement service answer owner lookups (and batches of them) at a steady arrival rate with no
// errors, a bounded p99, and always the same - right - owner for a key, while under that load?
//
// Open model: constant-arrival-rate scenarios, so a slow server cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Targets come from specs/06-consistent-hashing/generated/targets.json, the same file
// the harness reads. Env: TARGET_URL (required), PROFILE=smoke|full (default smoke).
// The book gives no lookup rate; the rates below are the load the script offers, not targets.
// Setup replaces the membership with 10 servers (the target's ring is changed by this script).
//   k6 run -e TARGET_URL=http://127.0.0.1:8060 -e PROFILE=smoke load/06-consistent-hashing.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/06-consistent-hashing/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8060');

const profiles = {
  smoke: { ownerRate: 200, batchRate: 10, warmup: '2s', duration: '6s' },
  full: { ownerRate: 3000, batchRate: 50, warmup: '10s', duration: '60s' },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);
const KEYS = 1000;
const BATCH = 100;

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    warmup: warmupScenario('owner', p.ownerRate, p.warmup),
    owner: rateScenario('owner', p.ownerRate, p.warmup, p.duration),
    batch: rateScenario('batch', p.batchRate, p.warmup, p.duration),
  },
  thresholds: {
    // CH-T7: nothing fails and every body names the right owner.
    'http_req_failed{scenario:owner}': [`rate<=${byId['CH-T7'].value}`],
    'http_req_failed{scenario:batch}': [`rate<=${byId['CH-T7'].value}`],
    'checks{scenario:owner}': ['rate>=1'],
    'checks{scenario:batch}': ['rate>=1'],
    // CH-T8: lookup latency.
    'http_req_duration{scenario:owner}': [`p(99)<=${byId['CH-T8'].value}`],
    'http_req_duration{scenario:batch}': ['max>=0'],
    'dropped_iterations{scenario:owner}': ['count<=0'],
    'dropped_iterations{scenario:batch}': ['count<=0'],
    'http_reqs{scenario:owner}': ['count>=0'],
    'http_reqs{scenario:batch}': ['count>=0'],
  },
};

const json = { headers: { 'content-type': 'application/json' } };

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  // Idempotent, so every k6 process of a segmented run (--segments, k6 Operator runners) can run it: it removes only
  // servers outside the load's ten and puts those ten (201 new, 200 already there), leaving the same membership.
  const wanted = Array.from({ length: 10 }, (_, i) => `load-${i}`);
  const list = http.get(`${BASE}/api/v1/servers`);
  for (const s of list.json('servers')) {
    if (!wanted.includes(s.id)) http.del(`${BASE}/api/v1/servers/${encodeURIComponent(s.id)}`);
  }
  wanted.forEach((id, i) => {
    const r = http.put(`${BASE}/api/v1/servers/${id}`, JSON.stringify({ weight: 1 + (i % 2) }), json);
    if (r.status !== 201 && r.status !== 200) fail(`setup could not add a server: ${r.status} ${r.body}`);
  });
  const keys = Array.from({ length: KEYS }, (_, i) => `load:${i}`);
  const r = http.post(`${BASE}/api/v1/lookups`, JSON.stringify({ keys }), json);
  if (r.status !== 200) fail(`setup batch lookup failed: ${r.status} ${r.body}`);
  const owners = r.json('results').map((x) => x.servers[0]);
  return { keys, owners };
}

export function owner(data) {
  const i = Math.floor(Math.random() * data.keys.length);
  const r = http.get(`${BASE}/api/v1/owner?key=${encodeURIComponent(data.keys[i])}`, { tags: { name: 'owner' } });
  check(r, {
    'owner 200': (x) => x.status === 200,
    'owner is the same server as in setup': (x) => x.status === 200 && x.json('server') === data.owners[i],
  });
}

export function batch(data) {
  const start = Math.floor(Math.random() * (data.keys.length - BATCH));
  const keys = data.keys.slice(start, start + BATCH);
  const r = http.post(`${BASE}/api/v1/lookups`, JSON.stringify({ keys }), { ...json, tags: { name: 'batch' } });
  check(r, {
    'batch 200': (x) => x.status === 200,
    'batch owners match setup, in order': (x) =>
      x.status === 200 &&
      x.json('results').every((res, j) => res.key === keys[j] && res.servers[0] === data.owners[start + j]),
  });
}
