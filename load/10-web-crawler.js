// Question: TODO (what traffic from the book does this carry, and what must hold under it?)
// Open model (arrival-rate executors); targets from specs/10-web-crawler/generated/targets.json.
// Env: TARGET_URL (required), PROFILE=smoke|full.
import { check, fail } from 'k6';
import http from 'k6/http';
import { rateScenario, warmupScenario } from './lib/open-model.js';

const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
if (!BASE) fail('set TARGET_URL');

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    // TODO: the chapter's rates from targets.json, scaled by PROFILE (see load/09-url-shortener.js).
    warmup: warmupScenario('ready', 10, '3s'),
    ready: rateScenario('ready', 10, '3s', '5s'),
  },
  thresholds: {
    'http_reqs{scenario:ready}': ['count>=0'],
    'http_req_failed{scenario:ready}': ['rate<=0'],
    'http_req_duration{scenario:ready}': ['max>=0'],
    // The rate was carried (the open model drops iterations it could not start in time).
    'dropped_iterations{scenario:ready}': ['count<=0'],
  },
};

export function ready() {
  const r = http.get(`${BASE}/health/ready`);
  check(r, { 'ready 200': (x) => x.status === 200 && x.json('status') === 'ready' });
}
