// Question: does the URL shortener carry the book's traffic - 100 million new URLs a day (about 1,160 writes/s) and
// ten reads per write (about 11,600 redirects/s) - with no errors and a bounded p99, and does every redirect point
// at the right long URL while under that load?
//
// Open model: constant-arrival-rate scenarios, so a slow server cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Targets come from specs/09-url-shortener/generated/targets.json, the same file
// the harness reads. Env: TARGET_URL (required), PROFILE=smoke|full (default smoke).
//   k6 run -e TARGET_URL=http://127.0.0.1:8090 -e PROFILE=smoke load/09-url-shortener.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/09-url-shortener/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8090');

// smoke: a few seconds at a sliver of the book's rate (CI proves the script and the checks under load);
// full: the book's rates, after a warm-up ramp, for a real measurement.
const profiles = {
  smoke: { scale: 0.02, warmup: '2s', duration: '8s', links: 200 },
  full: { scale: 1, warmup: '15s', duration: '60s', links: 5000 },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);
const writeRate = Math.ceil(byId['URL-T1'].value * p.scale);
const readRate = Math.ceil(byId['URL-T2'].value * p.scale);

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    warmup: warmupScenario('redirect', readRate, p.warmup),
    shorten: rateScenario('shorten', writeRate, p.warmup, p.duration),
    redirect: rateScenario('redirect', readRate, p.warmup, p.duration),
  },
  thresholds: {
    // URL-T3: nothing fails and every body is right, in the measured scenarios.
    'http_req_failed{scenario:shorten}': [`rate<=${byId['URL-T3'].value}`],
    'http_req_failed{scenario:redirect}': [`rate<=${byId['URL-T3'].value}`],
    'checks{scenario:shorten}': ['rate>=1'],
    'checks{scenario:redirect}': ['rate>=1'],
    // URL-T4, URL-T5: latency.
    'http_req_duration{scenario:redirect}': [`p(99)<=${byId['URL-T4'].value}`],
    'http_req_duration{scenario:shorten}': [`p(99)<=${byId['URL-T5'].value}`],
    // URL-T1, URL-T2: the rate was carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:shorten}': ['count<=0'],
    'dropped_iterations{scenario:redirect}': ['count<=0'],
    'http_reqs{scenario:shorten}': ['count>=0'],
    'http_reqs{scenario:redirect}': ['count>=0'],
  },
};

const params = { redirects: 0, headers: { 'content-type': 'application/json' } };
const codeShape = /^[0-9A-Za-z]{1,11}$/;

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  const links = [];
  const nonce = `${Date.now()}`;
  for (let i = 0; i < p.links; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(p.links, i + 100); j++) {
      const longUrl = `https://example.com/load/${nonce}/${j}?ref=k6`;
      batch.push(['POST', `${BASE}/api/v1/data/shorten`, JSON.stringify({ longUrl }), params]);
    }
    for (const [k, r] of http.batch(batch).entries()) {
      if (r.status !== 201 && r.status !== 200) fail(`setup could not shorten: ${r.status} ${r.body}`);
      links.push({ code: r.json('code'), longUrl: JSON.parse(batch[k][2]).longUrl });
    }
  }
  return { links, nonce };
}

export function shorten(data) {
  const longUrl = `https://example.com/w/${data.nonce}/${__VU}-${__ITER}?q=system+design`;
  const r = http.post(`${BASE}/api/v1/data/shorten`, JSON.stringify({ longUrl }), params);
  check(r, {
    'shorten 201': (x) => x.status === 201,
    'shorten body': (x) => x.status === 201 && codeShape.test(x.json('code')) && x.json('longUrl') === longUrl,
  });
}

export function redirect(data) {
  const link = data.links[Math.floor(Math.random() * data.links.length)];
  const r = http.get(`${BASE}/api/v1/${link.code}`, { redirects: 0, tags: { name: 'redirect' } });
  check(r, {
    'redirect 302': (x) => x.status === 302,
    'redirect Location': (x) => x.headers.Location === link.longUrl,
  });
}
