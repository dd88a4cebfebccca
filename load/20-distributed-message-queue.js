// Question: does one broker take 1 KB messages in batches at a log-aggregation rate (10,000 messages/s, 100 per
// request), one at a time at a traditional-queue rate, and serve fetches from offsets at the same time, with every
// answer right (one record per message, dense offsets, each fetched message's size and CRC those of its value)?
// Beside them, a probe: single messages to a topic of their own at a low fixed rate, each read by a consumer
// long-polling its tail in this same k6 process (end-to-end latency on one clock, Date.now(): ms resolution); after
// them, the backlog they left drained from offset 0 by one consumer (messages/s).
//
// Open model: constant-arrival-rate scenarios, so a slow broker cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Targets come from specs/20-distributed-message-queue/generated/targets.json, the
// file the harness reads. Env: TARGET_URL (required; the broker), PROFILE=smoke|full (default smoke).
// CAPACITY=batched with RATE, WARMUP and DURATION runs that scenario alone at RATE per second: one step of the
// harness's capacity search (harness/load/flow-step.ts).
//   k6 run -e TARGET_URL=http://127.0.0.1:8200 -e PROFILE=smoke load/20-distributed-message-queue.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { capacityScenarios, rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/20-distributed-message-queue/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8200');

// smoke: seconds at a sliver of the rates (CI proves the script and the body checks under load); full: the rates
// after a warm-up ramp, for a real measurement.
const profiles = {
  smoke: { scale: 0.05, warmup: '2s', duration: '8s' },
  full: { scale: 1, warmup: '10s', duration: '60s' },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);

const BATCH = 100;
const PARTITIONS = 4;
/** Messages per partition produced in setup, so fetches always have data to read. */
const PRELOAD = 200;
const batchedRate = Math.max(1, Math.ceil((byId['MQ-T1'].value * p.scale) / BATCH));
const singleRate = Math.max(1, Math.ceil(500 * p.scale));
const fetchRate = Math.max(1, Math.ceil(200 * p.scale));
/** The end-to-end probe's messages per second: a few, so it measures latency under the mix, not its own queueing. */
const E2E_RATE = 20;
/** The most the drain reads (smoke: about all of it; full: about 100 MB of the run's ~600,000 messages). */
const DRAIN_CAP = { smoke: 20000, full: 100000 }[PROFILE];
const seconds = (d) => Number(d.replace(/s$/, ''));
const measuredEnd = seconds(p.warmup) + seconds(p.duration);
/** The tail reader runs this much past the measured window, so it reads the probe's last messages. */
const TAIL_GRACE_S = 2;

// A 1 KB ASCII value (1,024 UTF-8 bytes) and its CRC-32 (the spec's `crc`), computed here with the standard table.
const VALUE = 'k6-load-'.padEnd(1024, 'x');
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32Ascii(s) {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const VALUE_CRC = crc32Ascii(VALUE);

const messages = new Counter('messages');
const e2eMs = new Trend('e2e_ms');
const drained = new Counter('drained');
const drainMs = new Trend('drain_ms');
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: capacityScenarios(__ENV) ?? {
    warmup: warmupScenario('single', singleRate, p.warmup),
    batched: rateScenario('batched', batchedRate, p.warmup, p.duration),
    single: rateScenario('single', singleRate, p.warmup, p.duration),
    fetch: rateScenario('fetch', fetchRate, p.warmup, p.duration),
    e2e: rateScenario('e2e', E2E_RATE, p.warmup, p.duration),
    // One consumer at the tail, long polling (each iteration one fetch); its own VU keeps its offset.
    tail: {
      executor: 'constant-vus',
      exec: 'tail',
      vus: 1,
      startTime: p.warmup,
      duration: `${seconds(p.duration) + TAIL_GRACE_S}s`,
    },
    // When the load stops: one consumer reads the backlog from offset 0 (one iteration, timed inside).
    drain: {
      executor: 'shared-iterations',
      exec: 'drain',
      vus: 1,
      iterations: 1,
      startTime: `${measuredEnd}s`,
      maxDuration: '120s',
    },
  },
  thresholds: {
    // MQ-T2: nothing fails and every body is right, in the measured scenarios.
    'http_req_failed{scenario:batched}': [`rate<=${byId['MQ-T2'].value}`],
    'http_req_failed{scenario:single}': [`rate<=${byId['MQ-T2'].value}`],
    'http_req_failed{scenario:fetch}': [`rate<=${byId['MQ-T2'].value}`],
    'checks{scenario:batched}': ['rate>=1'],
    'checks{scenario:single}': ['rate>=1'],
    'checks{scenario:fetch}': ['rate>=1'],
    // MQ-T3, MQ-T4: latency.
    'http_req_duration{scenario:single}': [`p(99)<=${byId['MQ-T3'].value}`],
    'http_req_duration{scenario:fetch}': [`p(99)<=${byId['MQ-T4'].value}`],
    'http_req_duration{scenario:batched}': ['max>=0'],
    // MQ-T1: the rate was carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:batched}': ['count<=0'],
    'dropped_iterations{scenario:single}': ['count<=0'],
    'dropped_iterations{scenario:fetch}': ['count<=0'],
    'http_reqs{scenario:batched}': ['count>=0'],
    'http_reqs{scenario:single}': ['count>=0'],
    'http_reqs{scenario:fetch}': ['count>=0'],
    'messages{scenario:batched}': ['count>=0'],
    'messages{scenario:single}': ['count>=0'],
    'messages{scenario:fetch}': ['count>=0'],
    'checks{scenario:e2e}': ['rate>=1'],
    'checks{scenario:tail}': ['rate>=1'],
    'checks{scenario:drain}': ['rate>=1'],
    'http_req_failed{scenario:e2e}': [`rate<=${byId['MQ-T2'].value}`],
    'http_req_duration{scenario:e2e}': ['max>=0'],
    'dropped_iterations{scenario:e2e}': ['count<=0'],
    'http_reqs{scenario:e2e}': ['count>=0'],
    e2e_ms: ['max>=0'],
    drain_ms: ['max>=0'],
    drained: ['count>=0'],
  },
};

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  const topic = `load-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const created = http.post(
    `${BASE}/api/v1/topics`,
    JSON.stringify({ name: topic, partitions: PARTITIONS }),
    JSON_HEADERS,
  );
  if (created.status !== 201) fail(`creating topic ${topic} answered ${created.status}: ${created.body}`);
  for (let partition = 0; partition < PARTITIONS; partition++)
    for (let sent = 0; sent < PRELOAD; sent += BATCH) {
      const body = { acks: '1', messages: Array.from({ length: BATCH }, () => ({ partition, value: VALUE })) };
      const r = http.post(`${BASE}/api/v1/topics/${topic}/messages`, JSON.stringify(body), JSON_HEADERS);
      if (r.status !== 200) fail(`preloading ${topic}/${partition} answered ${r.status}`);
    }
  const probe = `${topic}-e2e`;
  const made = http.post(`${BASE}/api/v1/topics`, JSON.stringify({ name: probe, partitions: 1 }), JSON_HEADERS);
  if (made.status !== 201) fail(`creating topic ${probe} answered ${made.status}: ${made.body}`);
  return { topic, probe };
}

/** One produce request of `n` keyed 1 KB messages; checks one record per message. */
function produce(topic, n, name) {
  const key = `key-${Math.floor(Math.random() * 1e6)}`;
  const body = { acks: '1', messages: Array.from({ length: n }, (_, i) => ({ key: `${key}-${i}`, value: VALUE })) };
  const r = http.post(`${BASE}/api/v1/topics/${topic}/messages`, JSON.stringify(body), {
    ...JSON_HEADERS,
    tags: { name },
  });
  const ok = check(r, {
    [`${name} 200`]: (x) => x.status === 200,
    [`${name} one record per message`]: (x) => {
      if (x.status !== 200) return false;
      const records = x.json('records');
      return (
        Array.isArray(records) &&
        records.length === n &&
        records.every((rec) => Number.isInteger(rec.offset) && rec.partition >= 0 && rec.partition < PARTITIONS)
      );
    },
  });
  if (ok) messages.add(n);
}

export function batched(data) {
  produce(data.topic, BATCH, 'batched');
}

export function single(data) {
  produce(data.topic, 1, 'single');
}

export function fetch(data) {
  const partition = Math.floor(Math.random() * PARTITIONS);
  const offset = Math.floor(Math.random() * PRELOAD);
  const r = http.get(
    `${BASE}/api/v1/topics/${data.topic}/partitions/${partition}/messages?offset=${offset}&maxBytes=65536`,
    { tags: { name: 'fetch' } },
  );
  let got = 0;
  const ok = check(r, {
    'fetch 200': (x) => x.status === 200,
    'fetch dense offsets, size and CRC': (x) => {
      if (x.status !== 200) return false;
      const list = x.json('messages');
      if (!Array.isArray(list) || list.length === 0) return false;
      for (let i = 0; i < list.length; i++) {
        const m = list[i];
        if (m.offset !== offset + i || m.partition !== partition) return false;
        // Preloaded and produced values are all VALUE; a message whose bytes changed fails here.
        if (m.value !== VALUE || m.size !== 1024 || m.crc !== VALUE_CRC) return false;
      }
      got = list.length;
      return true;
    },
  });
  if (ok) messages.add(got);
}

/** The probe: one message whose key is its send time (ms), to partition 0 of the probe topic. */
export function e2e(data) {
  const body = { acks: '1', messages: [{ partition: 0, key: `e2e-${Date.now()}`, value: VALUE }] };
  const r = http.post(`${BASE}/api/v1/topics/${data.probe}/messages`, JSON.stringify(body), {
    ...JSON_HEADERS,
    tags: { name: 'e2e' },
  });
  check(r, { 'e2e 200, one record': (x) => x.status === 200 && x.json('records.#') === 1 });
}

let tailOffset = 0;
/** The consumer at the tail: one long poll from where it is; each message's latency is now minus its send time. */
export function tail(data) {
  const r = http.get(
    `${BASE}/api/v1/topics/${data.probe}/partitions/0/messages?offset=${tailOffset}&maxWait=1000&maxBytes=65536`,
    { tags: { name: 'tail' } },
  );
  const now = Date.now();
  check(r, {
    'tail dense offsets, sent values': (x) => {
      if (x.status !== 200) return false;
      const list = x.json('messages');
      if (!Array.isArray(list)) return false;
      for (let i = 0; i < list.length; i++) {
        const m = list[i];
        if (m.offset !== tailOffset + i || m.value !== VALUE || !/^e2e-\d+$/.test(m.key || '')) return false;
      }
      for (const m of list) e2eMs.add(now - Number(m.key.slice(4)));
      tailOffset += list.length;
      return true;
    },
  });
}

/** The backlog: every partition of the load topic read from offset 0, 1 MiB per fetch, up to DRAIN_CAP messages. */
export function drain(data) {
  let got = 0;
  let ok = true;
  const start = Date.now();
  for (let partition = 0; partition < PARTITIONS && got < DRAIN_CAP && ok; partition++) {
    for (let offset = 0; got < DRAIN_CAP; ) {
      const r = http.get(
        `${BASE}/api/v1/topics/${data.topic}/partitions/${partition}/messages?offset=${offset}&maxBytes=1048576`,
        { tags: { name: 'drain' } },
      );
      const list = r.status === 200 ? r.json('messages') : null;
      ok =
        Array.isArray(list) &&
        list.every((m, i) => m.offset === offset + i && m.value === VALUE && m.crc === VALUE_CRC);
      if (!ok || list.length === 0) break;
      got += list.length;
      offset += list.length;
      if (offset >= r.json('endOffset')) break;
    }
  }
  const ms = Date.now() - start;
  if (check(null, { 'drain dense offsets, values and CRCs': () => ok && got > 0 })) {
    drained.add(got);
    drainMs.add(ms);
  }
}
