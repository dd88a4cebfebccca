// k6 script: one endpoint at fixed arrival rates (open model), for two questions the harness asks in the same run
// as a chapter's load test: does the no-op yardstick carry the rate the chapter offered (the same scenarios and
// rates, against the no-op server), and one step of the stepped search for an implementation's capacity per node.
// Env: TARGET_URL (required); RATES, JSON {"scenario": requests per second, ...} (required); WARMUP (default "1s",
// a ramp from 1/s before the measured window); DURATION (default "3s"); METHOD (default GET); BODY (JSON text,
// "{n}" in it becomes unique per request); REQUESTS (default 1): requests per iteration, one after another (the
// yardstick of a search whose iteration is a flow of several requests, such as chapter 27's checkout).
import { check, fail } from 'k6';
import http from 'k6/http';
import { rateScenario, warmupScenario } from '../../load/lib/open-model.js';

const target = __ENV.TARGET_URL;
if (!target) fail('TARGET_URL is required');
const rates = JSON.parse(__ENV.RATES || '{}');
const names = Object.keys(rates);
if (names.length === 0) fail('RATES is required, e.g. {"redirect": 200}');
const method = (__ENV.METHOD || 'GET').toUpperCase();
const body = __ENV.BODY || null;
const warmup = __ENV.WARMUP || '1s';
const duration = __ENV.DURATION || '3s';
const requests = Math.max(1, Number(__ENV.REQUESTS || 1));
const params = { redirects: 0, headers: body ? { 'content-type': 'application/json' } : {} };

const scenarios = {};
const thresholds = {};
for (const name of names) {
  scenarios[`warmup_${name}`] = { ...warmupScenario('hit', rates[name], warmup) };
  scenarios[name] = rateScenario('hit', rates[name], warmup, duration);
  // Always-true thresholds make k6 export the per-scenario submetrics the harness reads.
  thresholds[`http_reqs{scenario:${name}}`] = ['count>=0'];
  thresholds[`http_req_failed{scenario:${name}}`] = ['rate>=0'];
  thresholds[`http_req_duration{scenario:${name}}`] = ['max>=0'];
  thresholds[`dropped_iterations{scenario:${name}}`] = ['count>=0'];
  thresholds[`checks{scenario:${name}}`] = ['rate>=0'];
}

export const options = { discardResponseBodies: true, scenarios, thresholds };

let n = 0;
export function hit() {
  for (let i = 0; i < requests; i++) {
    const b = body === null ? null : body.replaceAll('{n}', `${__VU}-${__ITER}-${n++}-${Date.now()}`);
    const res = http.request(method, target, b, params);
    check(res, { 'status 2xx/3xx': (r) => r.status >= 200 && r.status < 400 });
  }
}
