// Question: how many checkouts per second does the harness's PSP fake carry on its own, in the process the load run
// starts it in and at the latency the load run gives it? If it is well above the rate the service is asked for
// (PAY-T1), then PAY-T1 measures the service, not the fake.
//
// Each iteration is the PSP's share of one checkout: the registration (the service's call), the buyer on the hosted
// page (which makes the fake send its registration.authorized webhook), and the charge (the service's call, which
// makes it send charge.succeeded). Webhooks go to NOTIFY_URL, a no-op server. Open model, like the service's script.
// Env: PSP_URL, NOTIFY_URL (required), RATE (checkouts/s), DURATION (default 10s).
//   k6 run -e PSP_URL=http://127.0.0.1:9270 -e NOTIFY_URL=http://127.0.0.1:9999/hook -e RATE=1000 load/27-payment-system-fakes.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { rateScenario } from './lib/open-model.js';

const PSP = (__ENV.PSP_URL || '').replace(/\/$/, '');
const NOTIFY = __ENV.NOTIFY_URL || '';
if (!PSP || !NOTIFY) fail('set PSP_URL and NOTIFY_URL');
const rate = Number(__ENV.RATE) || 100;
const checkouts = new Counter('checkouts');

export const options = {
  scenarios: {
    psp: {
      ...rateScenario('psp', rate, '0s', __ENV.DURATION || '10s'),
      preAllocatedVUs: Math.max(10, Math.ceil(rate / 4)),
      maxVUs: Math.max(50, rate),
    },
  },
  // The no-op thresholds make k6 export the scenario's own counters.
  thresholds: {
    'http_req_failed{scenario:psp}': ['rate<=0'],
    'checkouts{scenario:psp}': ['count>=0'],
    'dropped_iterations{scenario:psp}': ['count>=0'],
    'http_reqs{scenario:psp}': ['count>=0'],
    'http_req_duration{scenario:psp}': ['p(99)>=0'],
  },
};

const JSON_HEADERS = { 'content-type': 'application/json' };

export function psp() {
  const n = `${__VU}_${__ITER}_${Date.now().toString(36)}`;
  const reg = http.post(
    `${PSP}/v1/registrations`,
    JSON.stringify({
      reference: `chk_${n}`,
      amount: 315,
      currency: 'usd',
      redirect_url: 'https://shop.example/c',
      notify_url: NOTIFY,
    }),
    { headers: { ...JSON_HEADERS, 'idempotency-key': `reg-${n}` }, tags: { name: 'register' } },
  );
  if (!check(reg, { 'register 201': (r) => r.status === 201 })) return;
  const token = reg.json('token');
  const paid = http.post(`${PSP}/hosted/${token}/pay`, JSON.stringify({ card_number: '4242424242424242' }), {
    headers: JSON_HEADERS,
    tags: { name: 'pay' },
  });
  if (!check(paid, { 'pay 200': (r) => r.status === 200 })) return;
  const charge = http.post(
    `${PSP}/v1/charges`,
    JSON.stringify({ amount: 315, currency: 'usd', source: token, metadata: { payment_order_id: `po_${n}` } }),
    { headers: { ...JSON_HEADERS, 'idempotency-key': `po_${n}` }, tags: { name: 'charge' } },
  );
  if (check(charge, { 'charge 201': (r) => r.status === 201 })) checkouts.add(1);
}
