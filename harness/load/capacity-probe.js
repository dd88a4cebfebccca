// k6 script: the maximum sustainable throughput of one endpoint.
// A closed model (constant VUs, each sending its next request as soon as the last one answered) is right here
// and nowhere else: we want the ceiling, not latency under a fixed arrival rate. The harness runs it against the
// no-op yardstick server and against an implementation in the same run and reports the ratio.
// Env: TARGET_URL (required), METHOD (default GET), BODY (optional JSON text, sent with content-type JSON),
// DURATION (default "10s"), VUS (default 16).
import { check } from 'k6';
import http from 'k6/http';

const target = __ENV.TARGET_URL;
if (!target) throw new Error('TARGET_URL is required');
const method = (__ENV.METHOD || 'GET').toUpperCase();
const body = __ENV.BODY || null;
const params = { redirects: 0, headers: body ? { 'content-type': 'application/json' } : {} };

export const options = {
  // Bodies are not inspected: do not spend the load generator's CPU (shared with the server) keeping them.
  discardResponseBodies: true,
  scenarios: {
    probe: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 16),
      duration: __ENV.DURATION || '10s',
      gracefulStop: '5s',
    },
  },
  // Always-true thresholds: they make k6 compute and export the {scenario:probe} submetrics that
  // extractScenario() reads.
  thresholds: {
    'http_reqs{scenario:probe}': ['count>=0'],
    'http_req_failed{scenario:probe}': ['rate>=0'],
    'http_req_duration{scenario:probe}': ['max>=0'],
  },
};

export default function () {
  // redirects: 0 - a 3xx is the endpoint's answer (e.g. a URL shortener), not something to follow.
  const res = http.request(method, target, body, params);
  check(res, { 'status 2xx/3xx': (r) => r.status >= 200 && r.status < 400 });
}
