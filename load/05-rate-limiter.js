// Question: how much latency does the rate limiting middleware add to the API behind it, and does every request get
// a correct answer (200 let through, or 429 with Retry-After) under an open-model load?
//
// Two scenarios at the same arrival rate, in one run: `limited` sends requests with an X-User-Id (the middleware
// matches the user_id rule and counts them in the store; some users go over and get 429), `passthrough` sends them
// without (no rule matches: the same endpoint, without the limiter's store round trip). RL-T1 is the difference of
// their p99s. Targets come from specs/05-rate-limiter/generated/targets.json. Env: TARGET_URL (required),
// PROFILE=smoke|full (default smoke).
//   k6 run -e TARGET_URL=http://127.0.0.1:8050 -e PROFILE=smoke load/05-rate-limiter.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { rateScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/05-rate-limiter/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8050');

const profiles = {
  smoke: { rate: 100, warmup: '2s', duration: '6s', users: 50 },
  full: { rate: 500, warmup: '10s', duration: '60s', users: 2000 },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);
const LIMIT = 5; // per user per second: at the rate above, some users are limited and some are not

// A 429 is a correct answer of a rate limiter, not a failed request.
http.setResponseCallback(http.expectedStatuses(200, 429));

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    warmup: rateScenario('limited', p.rate, '0s', p.warmup),
    limited: rateScenario('limited', p.rate, p.warmup, p.duration),
    passthrough: rateScenario('passthrough', p.rate, p.warmup, p.duration),
  },
  thresholds: {
    // RL-T2: nothing fails and every answer is right, in the measured scenarios.
    'http_req_failed{scenario:limited}': [`rate<=${byId['RL-T2'].value}`],
    'http_req_failed{scenario:passthrough}': [`rate<=${byId['RL-T2'].value}`],
    'checks{scenario:limited}': ['rate>=1'],
    'checks{scenario:passthrough}': ['rate>=1'],
    // RL-T1 is a difference of the two p99s, computed by the harness; here both are only exported.
    'http_req_duration{scenario:limited}': ['max>=0'],
    'http_req_duration{scenario:passthrough}': ['max>=0'],
    // The rate was carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:limited}': ['count<=0'],
    'dropped_iterations{scenario:passthrough}': ['count<=0'],
    'http_reqs{scenario:limited}': ['count>=0'],
    'http_reqs{scenario:passthrough}': ['count>=0'],
  },
};

export function setup() {
  const r = http.put(
    `${BASE}/api/v1/rules/api`,
    JSON.stringify({ descriptors: [{ key: 'user_id', rate_limit: { unit: 'second', requests_per_unit: LIMIT } }] }),
    { headers: { 'content-type': 'application/json' } },
  );
  if (r.status !== 200) fail(`could not install the load rules: ${r.status}`);
}

export function limited() {
  const user = `load-${Math.floor(Math.random() * p.users)}`;
  const r = http.get(`${BASE}/api/v1/protected`, { headers: { 'x-user-id': user } });
  check(r, {
    'limited: 200 with the limit, or 429 with Retry-After': (x) =>
      (x.status === 200 && x.headers['X-Ratelimit-Limit'] === String(LIMIT)) ||
      (x.status === 429 && Number(x.headers['Retry-After']) >= 1 && x.headers['X-Ratelimit-Remaining'] === '0'),
  });
}

export function passthrough() {
  const r = http.get(`${BASE}/api/v1/protected`);
  check(r, {
    'passthrough: 200 without rate-limit headers': (x) =>
      x.status === 200 && x.headers['X-Ratelimit-Limit'] === undefined,
  });
}
