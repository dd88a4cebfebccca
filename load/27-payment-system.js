// Question: does the payment system carry 100 times the book's rate - 1 million payments a day is 11.6/s, so 1,000
// payment events/s - with no errors and a bounded p99, with the PSP (the harness's fake, on a real port) answering
// every call 40 ms later, and is every answer right while under that load?
//
// Each iteration is one checkout: POST /v1/payments (a fresh Idempotency-Key and ids), then the buyer pays on the
// PSP's hosted page, which sends the webhook that makes the service charge the order. Open model: a constant
// arrival rate, so a slow service shows up as dropped_iterations instead of hiding behind fewer requests. Targets
// come from specs/27-payment-system/generated/targets.json, the file the harness reads.
// Env: TARGET_URL (required), PROFILE=smoke|full (default smoke), RATE (payments/s, overrides the profile's),
// WARMUP and DURATION (k6 durations such as 10s, override the profile's; for a manual search of the knee).
//   k6 run -e TARGET_URL=http://127.0.0.1:8270 -e PROFILE=smoke load/27-payment-system.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { rateScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/27-payment-system/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8270');

// smoke: a few seconds at 2% of the rate (CI proves the script and its checks); full: the whole rate, after a ramp.
const profiles = {
  smoke: { scale: 0.02, warmup: '2s', duration: '8s' },
  full: { scale: 1, warmup: '15s', duration: '60s' },
};
const p = { ...profiles[PROFILE] };
if (!profiles[PROFILE]) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);
if (__ENV.WARMUP) p.warmup = __ENV.WARMUP;
if (__ENV.DURATION) p.duration = __ENV.DURATION;
// RATE overrides the rate for a manual search of the knee (the harness never sets it).
const rate = Number(__ENV.RATE) || Math.ceil(byId['PAY-T1'].value * p.scale);
// A checkout is two calls that each wait on the PSP (40 ms in the harness's fake), so an iteration takes 100 ms or
// more even when nothing queues: VUs for a quarter second of arrivals are ready from the start (allocating them
// mid-run costs k6 time and shows up as dropped iterations), and up to a second's worth may be in flight.
const vus = { preAllocatedVUs: Math.max(10, Math.ceil(rate / 4)), maxVUs: Math.max(50, rate) };

const payments = new Counter('payments');
const createMs = new Trend('create_ms', true);

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    warmup: {
      executor: 'ramping-arrival-rate',
      exec: 'pay',
      startRate: 1,
      timeUnit: '1s',
      // The ramp needs its VUs only near its end; the measured scenario allocates its own.
      preAllocatedVUs: Math.max(10, Math.ceil(rate / 10)),
      maxVUs: vus.maxVUs,
      stages: [{ target: rate, duration: p.warmup }],
    },
    pay: { ...rateScenario('pay', rate, p.warmup, p.duration), ...vus },
  },
  thresholds: {
    // PAY-T2: nothing fails and every body is right.
    'http_req_failed{scenario:pay}': [`rate<=${byId['PAY-T2'].value}`],
    'checks{scenario:pay}': ['rate>=1'],
    // PAY-T3: createPayment latency (the PSP registration inside it included); the hosted page's too.
    'create_ms{scenario:pay}': [`p(99)<=${byId['PAY-T3'].value}`],
    'http_req_duration{scenario:pay}': [`p(99)<=${byId['PAY-T3'].value}`],
    // PAY-T1: the rate was carried.
    'dropped_iterations{scenario:pay}': ['count<=0'],
    'http_reqs{scenario:pay}': ['count>=0'],
    'payments{scenario:pay}': ['count>=0'],
  },
};

const CURRENCY_AMOUNTS = ['3.15', '0.29', '19.99', '120.00', '7.05'];

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  // Random as well as the time: each k6 process of a segmented run makes its own, and two may start in one ms.
  return { nonce: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}` };
}

export function pay(data) {
  const n = `${data.nonce}_${__VU}_${__ITER}`;
  const amount = CURRENCY_AMOUNTS[__ITER % CURRENCY_AMOUNTS.length];
  const body = {
    checkout_id: `chk_k6_${n}`,
    buyer_info: { buyer_id: `buyer_k6_${__VU}` },
    payment_orders: [
      { payment_order_id: `po_k6_${n}`, seller_account: `seller_k6_${__VU % 50}`, amount, currency: 'USD' },
    ],
  };
  const r = http.post(`${BASE}/v1/payments`, JSON.stringify(body), {
    headers: { 'content-type': 'application/json', 'idempotency-key': `k6-${n}` },
    tags: { name: 'createPayment' },
  });
  createMs.add(r.timings.duration);
  const ok = check(r, {
    'create 201': (x) => x.status === 201,
    'create body': (x) =>
      x.status === 201 &&
      x.json('checkout_id') === body.checkout_id &&
      x.json('payment_orders.0.status') === 'NOT_STARTED' &&
      x.json('payment_orders.0.amount') === amount,
  });
  if (!ok) return;
  payments.add(1);
  const page = r.json('payment_page_url');
  const paid = http.post(`${page}/pay`, JSON.stringify({ card_number: '4242424242424242' }), {
    headers: { 'content-type': 'application/json' },
    tags: { name: 'hostedPagePay' },
  });
  check(paid, { 'hosted page 200': (x) => x.status === 200 });
}
