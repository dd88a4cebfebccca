// Question: how fast does the 3-node cluster (N=3, W=2, R=2) serve the YCSB core workloads - A (50% read, 50%
// update), B (95/5), C (read only), D (95% read of the latest records, 5% insert) and F (50% read, 50%
// read-modify-write), zipfian keys except D's "latest" - and is every answer right under that load (a read holds
// at least one sibling of the record's size; a write is acknowledged with a dot)?
//
// Open model: one constant-arrival-rate scenario per workload, one after another, so a slow cluster cannot hide
// behind fewer requests. Requests go to a random node (any node coordinates). An update reads the record's context
// and writes with it, Riak's fetch-modify-store cycle for buckets that keep siblings (a write without the current
// context is a new sibling; YCSB's own Riak binding avoids them with allow_mult=false, last-writer-wins, which this
// store does not offer), and F's read-modify-write writes with the context of its read; so siblings come only from
// updates that really raced. Targets come from specs/07-key-value-store/generated/targets.json.
// Env: TARGET_URLS (comma-separated node URLs, required), PROFILE=smoke|full (default smoke).
//   k6 run -e TARGET_URLS=http://127.0.0.1:8070,http://127.0.0.1:8071 -e PROFILE=smoke load/07-key-value-store.js
import { check, fail } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { rateScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/07-key-value-store/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const NODES = (__ENV.TARGET_URLS || __ENV.TARGET_URL || '')
  .split(',')
  .map((u) => u.trim().replace(/\/$/, ''))
  .filter(Boolean);
const PROFILE = __ENV.PROFILE || 'smoke';
if (NODES.length === 0) fail('set TARGET_URLS, e.g. -e TARGET_URLS=http://127.0.0.1:8070,http://127.0.0.1:8071');

// YCSB's defaults are 1,000 records of 10 fields x 100 bytes; the value here is one field of 1,000 bytes.
const profiles = {
  smoke: { records: 200, rate: 40, duration: 4 },
  full: { records: 1000, rate: 300, duration: 30 },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);
const VALUE_BYTES = 1000;
export const WORKLOADS = ['ycsb_a', 'ycsb_b', 'ycsb_c', 'ycsb_d', 'ycsb_f'];

const ops = new Counter('ops');
// Siblings per read: updates of hot records that raced (read, read, write, write) leave siblings until the next
// write with a covering context resolves them.
const reads = new Counter('reads');
const siblings = new Counter('siblings');

// VUs for half a second of the offered rate in flight: an iteration is one to three requests of a few ms, but a
// stall of the shared 2-core machine (or of a node's event loop) holds every VU; with too few pre-allocated, k6
// starts VUs mid-run and drops iterations meanwhile, which would count against the cluster (KV-T7).
const scenarios = {};
WORKLOADS.forEach((w, i) => {
  scenarios[w] = {
    ...rateScenario(w, p.rate, `${i * (p.duration + 1)}s`, `${p.duration}s`),
    preAllocatedVUs: Math.max(10, Math.ceil(p.rate / 2)),
    maxVUs: Math.max(50, p.rate * 2),
  };
});
const thresholds = {};
for (const w of WORKLOADS) {
  thresholds[`http_req_failed{scenario:${w}}`] = [`rate<=${byId['KV-T7'].value}`];
  thresholds[`checks{scenario:${w}}`] = ['rate>=1'];
  thresholds[`http_req_duration{scenario:${w}}`] = ['max>=0'];
  thresholds[`dropped_iterations{scenario:${w}}`] = ['count>=0'];
  thresholds[`http_reqs{scenario:${w}}`] = ['count>=0'];
  thresholds[`ops{scenario:${w}}`] = ['count>=0'];
  thresholds[`reads{scenario:${w}}`] = ['count>=0'];
  thresholds[`siblings{scenario:${w}}`] = ['count>=0'];
}

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '120s',
  scenarios,
  thresholds,
};

// The key prefix is made once, in setup, and handed to every VU (each VU runs the init code on its own).
const keyOf = (prefix, i) => `${prefix}-user${i}`;
const value = (tag) => (tag + 'x'.repeat(VALUE_BYTES)).slice(0, VALUE_BYTES);
const node = () => NODES[Math.floor(Math.random() * NODES.length)];
const json = { headers: { 'content-type': 'application/json' } };

// YCSB's ZipfianGenerator (Gray et al., "Quickly generating billion-record synthetic databases"), theta 0.99,
// scrambled as YCSB does (FNV hash of the rank) so that hot records are spread over the key space.
const THETA = 0.99;
function zeta(n) {
  let s = 0;
  for (let i = 1; i <= n; i++) s += 1 / i ** THETA;
  return s;
}
function zipfian(n) {
  const zetan = zeta(n);
  const alpha = 1 / (1 - THETA);
  const eta = (1 - (2 / n) ** (1 - THETA)) / (1 - zeta(2) / zetan);
  return () => {
    const u = Math.random();
    const uz = u * zetan;
    if (uz < 1) return 0;
    if (uz < 1 + 0.5 ** THETA) return 1;
    return Math.floor(n * (eta * u - eta + 1) ** alpha);
  };
}
function fnv(i) {
  let h = 0x811c9dc5;
  for (let b = 0; b < 4; b++) {
    h ^= (i >>> (b * 8)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
const zipf = zipfian(p.records);
const scrambled = () => fnv(zipf()) % p.records;

// Records inserted by workload D, newest last (per VU: k6 VUs share nothing), for its "latest" distribution.
let inserted = 0;

export function setup() {
  for (const u of NODES) {
    const r = http.get(`${u}/health/ready`);
    if (r.status !== 200) fail(`${u} is not ready (${r.status}); start it first`);
  }
  const prefix = `ycsb-${Date.now().toString(36)}`;
  // The load phase: every record written once, in batches.
  for (let i = 0; i < p.records; i += 50) {
    const reqs = [];
    for (let j = i; j < Math.min(p.records, i + 50); j++)
      reqs.push(['PUT', `${node()}/api/v1/kv/${keyOf(prefix, j)}`, JSON.stringify({ value: value(`r${j}-`) }), json]);
    for (const r of http.batch(reqs)) if (r.status !== 200) fail(`loading records: ${r.status} ${r.body}`);
  }
  return { prefix };
}

function read(key) {
  const r = http.get(`${node()}/api/v1/kv/${key}`, { tags: { name: 'get' } });
  check(r, {
    'read 200 with a sibling of the record size': (x) =>
      x.status === 200 && x.json('siblings').length >= 1 && x.json('siblings.0.value').length === VALUE_BYTES,
  });
  if (r.status === 200) {
    reads.add(1);
    siblings.add(r.json('siblings').length);
  }
  return r;
}

/** A write with the context of the read just before it (an insert has none). */
function write(key, tag, context) {
  const body = { value: value(tag) };
  if (context) body.context = context;
  const r = http.put(`${node()}/api/v1/kv/${key}`, JSON.stringify(body), { ...json, tags: { name: 'put' } });
  check(r, { 'write 200 with a dot': (x) => x.status === 200 && typeof x.json('dot') === 'string' });
}

/** YCSB's update on a store that keeps siblings: read the record's context, then write with it. */
function update(key, tag) {
  const r = read(key);
  write(key, tag, r.status === 200 ? r.json('context') : '');
}

const tag = () => `u${exec.vu.idInTest}-${exec.scenario.iterationInTest}-`;

export function ycsb_a(data) {
  const key = keyOf(data.prefix, scrambled());
  if (Math.random() < 0.5) read(key);
  else update(key, tag());
  ops.add(1);
}

export function ycsb_b(data) {
  const key = keyOf(data.prefix, scrambled());
  if (Math.random() < 0.95) read(key);
  else update(key, tag());
  ops.add(1);
}

export function ycsb_c(data) {
  read(keyOf(data.prefix, scrambled()));
  ops.add(1);
}

export function ycsb_d(data) {
  if (Math.random() < 0.05 || inserted === 0) {
    write(`${data.prefix}-d-u${exec.vu.idInTest}-${inserted++}`, tag(), '');
  } else {
    // "latest": a zipfian distance back from this VU's newest insert.
    const back = Math.min(inserted - 1, zipf() % inserted);
    read(`${data.prefix}-d-u${exec.vu.idInTest}-${inserted - 1 - back}`);
  }
  ops.add(1);
}

export function ycsb_f(data) {
  const key = keyOf(data.prefix, scrambled());
  if (Math.random() < 0.5) read(key);
  else {
    // Read-modify-write: the new value is made from the one read, and written with the read's context.
    const r = read(key);
    write(
      key,
      `${tag()}${r.status === 200 ? r.json('siblings').length : 0}-`,
      r.status === 200 ? r.json('context') : '',
    );
  }
  ops.add(1);
}
