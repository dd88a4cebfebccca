// k6 script: the ceiling of the batch endpoint, in requests per second (the harness multiplies by COUNT for IDs
// per second). A closed model on purpose: we want the ceiling, compared with the no-op server's in the same run.
// Env: TARGET_URL (required), COUNT (default 1000), DURATION (default "10s"), VUS (default 16).
import { check } from 'k6';
import http from 'k6/http';

const target = __ENV.TARGET_URL;
if (!target) throw new Error('TARGET_URL is required');
const count = Number(__ENV.COUNT || 1000);

export const options = {
  discardResponseBodies: true,
  scenarios: {
    probe: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 16),
      duration: __ENV.DURATION || '10s',
      gracefulStop: '5s',
    },
  },
  thresholds: {
    'http_reqs{scenario:probe}': ['count>=0'],
    'http_req_failed{scenario:probe}': ['rate>=0'],
    'http_req_duration{scenario:probe}': ['max>=0'],
  },
};

export default function () {
  const res = http.post(`${target}/api/v1/ids/batch?count=${count}`, null);
  check(res, { 'status 200': (r) => r.status === 200 });
}
