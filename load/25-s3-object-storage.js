// Question: does the object store carry the book's small-object traffic (rates derived from its assumptions: 4.3
// PUTs and 81.3 GETs of 0.5 MiB objects per second, 95% reads) with every answer right: each PUT 200 with the MD5 of
// its body as ETag and read back as exactly those bytes, each GET exactly the bytes PUT, each listing all and only
// the seeded keys in byte order?
//
// Open model: constant-arrival-rate scenarios, so a slow service cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Every request is signed with SigV4 here (k6/crypto's SHA-256 and HMAC; no remote
// library is downloaded). One bucket per run. Targets come from specs/25-s3-object-storage/generated/targets.json.
// Env: TARGET_URL (required), PROFILE=smoke|full (default smoke), ACCESS_KEY_ID and SECRET_ACCESS_KEY (default the
// reference's), OBJECT_BYTES (default 524288).
// CAPACITY=put or CAPACITY=get with RATE, WARMUP and DURATION runs that scenario alone at RATE per second: one step of
// the harness's capacity search (harness/load/flow-step.ts).
//   k6 run -e TARGET_URL=http://127.0.0.1:8250 -e PROFILE=smoke load/25-s3-object-storage.js
import { check, fail } from 'k6';
import crypto from 'k6/crypto';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { capacityScenarios, rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/25-s3-object-storage/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
const ACCESS_KEY_ID = __ENV.ACCESS_KEY_ID || 'SDGRADEACCESSKEY0001';
const SECRET = __ENV.SECRET_ACCESS_KEY || 'sdgrade-reference-secret-not-for-production';
const REGION = 'us-east-1';
/** The book's median small object: 0.5 MB (small is under 1 MB); 0.5 MiB here. */
const OBJECT_BYTES = Number(__ENV.OBJECT_BYTES || 524288);
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8250');
const HOST = BASE.replace(/^https?:\/\//, '');

// smoke: seconds at a sliver of the rates (CI proves the script, the signing and the body checks); full: the derived
// rates after a warm-up ramp. The rates are low, so the smoke profile keeps at least one of each per second.
const profiles = {
  smoke: { scale: 0.05, warmup: '2s', duration: '8s', listRate: 1 },
  full: { scale: 1, warmup: '10s', duration: '60s', listRate: 5 },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);

const putRate = Math.max(1, Math.ceil(byId['SOS-T1'].value * p.scale));
const getRate = Math.max(1, Math.ceil(byId['SOS-T2'].value * p.scale));

/** Objects PUT in setup that the GET and list scenarios read: enough that concurrent GETs read different objects. */
const SEEDS = 16;

const puts = new Counter('puts');
const gets = new Counter('gets');
const putMs = new Trend('put_ms', true);
const getMs = new Trend('get_ms', true);

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '120s',
  scenarios: capacityScenarios(__ENV) ?? {
    warmup: warmupScenario('get', getRate, p.warmup),
    put: rateScenario('put', putRate, p.warmup, p.duration),
    get: rateScenario('get', getRate, p.warmup, p.duration),
    list: rateScenario('list', p.listRate, p.warmup, p.duration),
  },
  thresholds: {
    // SOS-T3: nothing fails and every body is right, in the measured scenarios.
    'http_req_failed{scenario:put}': [`rate<=${byId['SOS-T3'].value}`],
    'http_req_failed{scenario:get}': [`rate<=${byId['SOS-T3'].value}`],
    'http_req_failed{scenario:list}': [`rate<=${byId['SOS-T3'].value}`],
    'checks{scenario:put}': ['rate>=1'],
    'checks{scenario:get}': ['rate>=1'],
    'checks{scenario:list}': ['rate>=1'],
    // SOS-T4: PUT and GET latency.
    'put_ms{scenario:put}': [`p(99)<=${byId['SOS-T4'].value}`],
    'get_ms{scenario:get}': [`p(99)<=${byId['SOS-T4'].value}`],
    'http_req_duration{scenario:put}': ['max>=0'],
    'http_req_duration{scenario:get}': ['max>=0'],
    'http_req_duration{scenario:list}': ['max>=0'],
    // SOS-T1, T2, T5: the rates were carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:put}': ['count<=0'],
    'dropped_iterations{scenario:get}': ['count<=0'],
    'dropped_iterations{scenario:list}': ['count<=0'],
    'http_reqs{scenario:put}': ['count>=0'],
    'http_reqs{scenario:get}': ['count>=0'],
    'http_reqs{scenario:list}': ['count>=0'],
    'puts{scenario:put}': ['count>=0'],
    'gets{scenario:get}': ['count>=0'],
  },
};

// --- SigV4 (header form), as the reference verifies it: reference/25-s3-object-storage/sigv4.ts -----------------

/** RFC 3986 encoding, as SigV4 wants for query names and values and for each path segment. */
const strictEncode = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const signingKeys = {};
function signingKey(date) {
  if (!signingKeys[date]) {
    const kDate = crypto.hmac('sha256', `AWS4${SECRET}`, date, 'binary');
    const kRegion = crypto.hmac('sha256', kDate, REGION, 'binary');
    const kService = crypto.hmac('sha256', kRegion, 's3', 'binary');
    signingKeys[date] = crypto.hmac('sha256', kService, 'aws4_request', 'binary');
  }
  return signingKeys[date];
}

/** A signed request: path already encoded, query as [name, value] pairs, body a string or an ArrayBuffer. */
function s3(method, path, query, body, tags, extra) {
  const payload = body === null ? '' : body;
  const payloadHash = crypto.sha256(payload, 'hex');
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const canonicalQuery = query
    .map(([n, v]) => [strictEncode(n), strictEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
  const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
  const canonical = [
    method,
    path,
    canonicalQuery,
    `host:${HOST}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n`,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${REGION}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, crypto.sha256(canonical, 'hex')].join('\n');
  const signature = crypto.hmac('sha256', signingKey(date), toSign, 'hex');
  const url = `${BASE}${path}${canonicalQuery ? `?${canonicalQuery}` : ''}`;
  return http.request(method, url, body === null ? null : body, {
    headers: {
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    tags,
    ...extra,
  });
}

const objectPath = (bucket, key) => `/${bucket}/${key.split('/').map(strictEncode).join('/')}`;
const quotedMd5 = (body) => `"${crypto.md5(body, 'hex')}"`;

/** OBJECT_BYTES random bytes with a unique stamp at the front, so no two objects of a run are equal. */
function objectBody(stamp) {
  const bytes = new Uint8Array(crypto.randomBytes(OBJECT_BYTES));
  for (let i = 0; i < stamp.length && i < bytes.length; i++) bytes[i] = stamp.charCodeAt(i) & 0xff;
  return bytes.buffer;
}

/** GET of an object: 200, its ETag, and exactly its bytes (compared by their MD5, computed here from what was PUT). */
function getChecked(bucket, key, md5, tag) {
  const r = s3('GET', objectPath(bucket, key), [], null, { name: tag }, { responseType: 'binary' });
  const ok = check(r, {
    [`${tag} 200`]: (x) => x.status === 200,
    [`${tag} ETag is the MD5 of the bytes PUT`]: (x) => x.status === 200 && x.headers.Etag === md5,
    [`${tag} body is exactly the bytes PUT`]: (x) =>
      x.status === 200 && x.body !== null && x.body.byteLength === OBJECT_BYTES && quotedMd5(x.body) === md5,
  });
  return { r, ok };
}

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const bucket = `k6-${run}`;
  const made = s3('PUT', `/${bucket}`, [], null, { name: 'createBucket' });
  if (made.status !== 200) fail(`creating bucket ${bucket} answered ${made.status}: ${made.body}`);
  const seeds = [];
  for (let i = 0; i < SEEDS; i++) {
    const key = `seed/${String(i).padStart(3, '0')}`;
    const body = objectBody(`${run} ${key} `);
    const md5 = quotedMd5(body);
    const r = s3('PUT', objectPath(bucket, key), [], body, { name: 'seed' });
    if (r.status !== 200 || r.headers.Etag !== md5) fail(`seeding ${key} answered ${r.status} ${r.headers.Etag}`);
    seeds.push({ key, md5 });
  }
  return { bucket, run, seeds };
}

let seq = 0;

/** A new object PUT (200, ETag the MD5 of its bytes), then read back: a PUT acknowledged is a GET of its bytes. */
export function put(data) {
  const key = `put/${__VU}-${++seq}`;
  const body = objectBody(`${data.run} ${key} `);
  const md5 = quotedMd5(body);
  const r = s3('PUT', objectPath(data.bucket, key), [], body, { name: 'put' });
  putMs.add(r.timings.duration);
  const ok = check(r, {
    'put 200': (x) => x.status === 200,
    'put ETag is the MD5 of the body': (x) => x.status === 200 && x.headers.Etag === md5,
  });
  if (!ok) return;
  if (getChecked(data.bucket, key, md5, 'readback').ok) puts.add(1);
}

export function get(data) {
  const seed = data.seeds[Math.floor(Math.random() * data.seeds.length)];
  const { r, ok } = getChecked(data.bucket, seed.key, seed.md5, 'get');
  getMs.add(r.timings.duration);
  if (ok) gets.add(1);
}

const xmlText = (s) => s.replace(/&quot;/g, '"').replace(/&amp;/g, '&');

/** ListObjectsV2 of the seeds' prefix: all and only the seeded keys, in byte order, each with its ETag and size. */
export function list(data) {
  const r = s3(
    'GET',
    `/${data.bucket}`,
    [
      ['list-type', '2'],
      ['prefix', 'seed/'],
    ],
    null,
    { name: 'list' },
  );
  check(r, {
    'list 200': (x) => x.status === 200,
    'list is all and only the seeded keys in order, with their ETags and sizes': (x) => {
      if (x.status !== 200 || typeof x.body !== 'string') return false;
      const contents = [...x.body.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => ({
        key: xmlText((/<Key>([\s\S]*?)<\/Key>/.exec(m[1]) || [])[1] || ''),
        etag: xmlText((/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]) || [])[1] || ''),
        size: Number((/<Size>(\d+)<\/Size>/.exec(m[1]) || [])[1]),
      }));
      return (
        contents.length === data.seeds.length &&
        contents.every((c, i) => c.key === data.seeds[i].key && c.etag === data.seeds[i].md5 && c.size === OBJECT_BYTES)
      );
    },
  });
}
