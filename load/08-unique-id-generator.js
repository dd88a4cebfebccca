// Question: does the ID service carry the book's 10,000 IDs per second - a thousand clients asking for one ID each
// second and the rest fetched in batches of 100 - with no errors, and is every answer right under that load (a
// decimal-string ID; a batch of exactly the count asked for, strictly increasing)?
//
// Open model: constant-arrival-rate scenarios, so a slow server cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Targets come from specs/08-unique-id-generator/generated/targets.json, the same
// file the harness reads. Env: TARGET_URL (required; one node), PROFILE=smoke|full (default smoke).
//   k6 run -e TARGET_URL=http://127.0.0.1:8080 -e PROFILE=smoke load/08-unique-id-generator.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/08-unique-id-generator/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8080');

// smoke: a few seconds at a sliver of the book's rate (CI proves the script and the body checks under load);
// full: the book's rate after a warm-up ramp, for a real measurement.
const profiles = {
  smoke: { scale: 0.02, warmup: '2s', duration: '8s' },
  full: { scale: 1, warmup: '10s', duration: '60s' },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);
// The book's 10,000 IDs/s (UID-T1): 10% as single-ID requests, 90% in batches of BATCH.
const BATCH = 100;
const idsPerSecond = byId['UID-T1'].value * p.scale;
const singleRate = Math.max(1, Math.ceil(idsPerSecond * 0.1));
const batchRate = Math.max(1, Math.ceil((idsPerSecond * 0.9) / BATCH));

const ids = new Counter('ids');
const decimal = /^(0|[1-9][0-9]{0,18})$/;
/** a < b for decimal strings without leading zeros (k6's JavaScript has no BigInt). */
function less(a, b) {
  return a.length !== b.length ? a.length < b.length : a < b;
}

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    warmup: warmupScenario('single', singleRate, p.warmup),
    single: rateScenario('single', singleRate, p.warmup, p.duration),
    batch: rateScenario('batch', batchRate, p.warmup, p.duration),
  },
  thresholds: {
    // UID-T2: nothing fails and every body is right, in the measured scenarios.
    'http_req_failed{scenario:single}': [`rate<=${byId['UID-T2'].value}`],
    'http_req_failed{scenario:batch}': [`rate<=${byId['UID-T2'].value}`],
    'checks{scenario:single}': ['rate>=1'],
    'checks{scenario:batch}': ['rate>=1'],
    // UID-T3: single-ID latency.
    'http_req_duration{scenario:single}': [`p(99)<=${byId['UID-T3'].value}`],
    'http_req_duration{scenario:batch}': ['max>=0'],
    // UID-T1: the rate was carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:single}': ['count<=0'],
    'dropped_iterations{scenario:batch}': ['count<=0'],
    'http_reqs{scenario:single}': ['count>=0'],
    'http_reqs{scenario:batch}': ['count>=0'],
    'ids{scenario:single}': ['count>=0'],
    'ids{scenario:batch}': ['count>=0'],
  },
};

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
}

export function single() {
  const r = http.post(`${BASE}/api/v1/ids`, null, { tags: { name: 'single' } });
  const ok = check(r, {
    'single 200': (x) => x.status === 200,
    'single decimal id': (x) => x.status === 200 && decimal.test(x.json('id')),
  });
  if (ok) ids.add(1);
}

export function batch() {
  const r = http.post(`${BASE}/api/v1/ids/batch?count=${BATCH}`, null, { tags: { name: 'batch' } });
  let list = [];
  const ok = check(r, {
    'batch 200': (x) => x.status === 200,
    'batch count and order': (x) => {
      if (x.status !== 200) return false;
      list = x.json('ids');
      if (!Array.isArray(list) || list.length !== BATCH) return false;
      for (let i = 0; i < list.length; i++) {
        if (typeof list[i] !== 'string' || !decimal.test(list[i])) return false;
        if (i > 0 && !less(list[i - 1], list[i])) return false;
      }
      return true;
    },
  });
  if (ok) ids.add(list.length);
}
