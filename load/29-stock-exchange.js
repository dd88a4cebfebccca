// Question: does the exchange take limit orders over the wire at the book's rate (43,000 orders/s: 1 billion orders
// in 6.5 hours of trading) with every answer right, and at a rate one machine can offer, what are the p50, p99 and
// p99.9 of placing an order (the book: latency "in the ms level, with focus on the 99th percentile")?
//
// Open model: constant-arrival-rate scenarios, so a slow exchange cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Orders cross: buys and sells around one price on 20 symbols by 20 users, so the
// load matches, rests and partly fills. Targets come from specs/29-stock-exchange/generated/targets.json, the file
// the harness reads. Env: TARGET_URL (required; the exchange), PROFILE=smoke|full (default smoke), and the client
// gateway's settings (spec README): API_KEY_SECRET signs each user's key, ORDER_RATE_LIMIT orders per
// ORDER_RATE_WINDOW_MS per user; orders go round-robin over enough users that each stays at half its limit.
// CAPACITY=book with RATE, WARMUP and DURATION runs that scenario alone at RATE per second: one step of the
// harness's capacity search (harness/load/flow-step.ts).
//   k6 run -e TARGET_URL=http://127.0.0.1:8290 -e PROFILE=smoke load/29-stock-exchange.js
import { check, fail } from 'k6';
import crypto from 'k6/crypto';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { capacityScenarios, rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/29-stock-exchange/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8290');

// smoke: seconds at a sliver of the rates (CI proves the script and the body checks under load); full: the rates
// after a warm-up ramp, for a real measurement. `latency` is the stated rate SE-T3..T5 are measured at.
const profiles = {
  smoke: { scale: 0.002, latencyRate: 20, warmup: '2s', duration: '8s' },
  full: { scale: 1, latencyRate: 1000, warmup: '10s', duration: '60s' },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);

const SYMBOLS = 20;
const bookRate = Math.max(1, Math.ceil(byId['SE-T1'].value * p.scale));
const SECRET = __ENV.API_KEY_SECRET || 'sdgrade-exchange-gateway';
const RATE_LIMIT = Number(__ENV.ORDER_RATE_LIMIT || 100);
const RATE_WINDOW_MS = Number(__ENV.ORDER_RATE_WINDOW_MS || 1000);
// Orders per second offered in all, and users enough that round-robin keeps each at half the rate limit.
const offered = __ENV.CAPACITY ? Number(__ENV.RATE) : bookRate + p.latencyRate;
const USERS = Math.max(20, Math.ceil((2 * offered * RATE_WINDOW_MS) / 1000 / RATE_LIMIT));

const orders = new Counter('orders');
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };

export const options = {
  discardResponseBodies: false,
  setupTimeout: '240s',
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)'],
  scenarios: capacityScenarios(__ENV) ?? {
    warmup: warmupScenario('latency', p.latencyRate, p.warmup),
    book: rateScenario('book', bookRate, p.warmup, p.duration),
    latency: rateScenario('latency', p.latencyRate, p.warmup, p.duration),
  },
  thresholds: {
    // SE-T2: nothing fails and every body is right, in the measured scenarios.
    'http_req_failed{scenario:book}': [`rate<=${byId['SE-T2'].value}`],
    'http_req_failed{scenario:latency}': [`rate<=${byId['SE-T2'].value}`],
    'checks{scenario:book}': ['rate>=1'],
    'checks{scenario:latency}': ['rate>=1'],
    // SE-T3: p99 at the stated rate.
    'http_req_duration{scenario:latency}': [`p(99)<=${byId['SE-T3'].value}`],
    'http_req_duration{scenario:book}': ['max>=0'],
    // SE-T1: the rate was carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:book}': ['count<=0'],
    'dropped_iterations{scenario:latency}': ['count<=0'],
    'http_reqs{scenario:book}': ['count>=0'],
    'http_reqs{scenario:latency}': ['count>=0'],
    'orders{scenario:book}': ['count>=0'],
    'orders{scenario:latency}': ['count>=0'],
  },
};

/** 8 random capital letters: a symbol no earlier run used (the risk limit counts per symbol and day). */
function freshSymbol() {
  let s = '';
  for (let i = 0; i < 8; i++) s += String.fromCharCode(65 + Math.floor(Math.random() * 26));
  return s;
}

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const symbols = Array.from({ length: SYMBOLS }, freshSymbol);
  const users = Array.from({ length: USERS }, (_, i) => `load-${run}-${i}`);
  // Each user's key (spec: `<userId>:<hex HMAC-SHA256(secret, userId)>`).
  const keys = Object.fromEntries(users.map((u) => [u, `${u}:${crypto.hmac('sha256', SECRET, u, 'hex')}`]));
  for (const u of users) {
    const deposits = [{ asset: 'USD', amount: 1e15 }, ...symbols.map((s) => ({ asset: s, amount: 1e9 }))];
    for (const d of deposits) {
      const r = http.post(`${BASE}/v1/accounts/${u}/deposits`, JSON.stringify(d), withKey(keys[u]));
      if (r.status !== 200) fail(`depositing ${d.asset} for ${u} answered ${r.status}: ${r.body}`);
    }
  }
  return { symbols, users, keys };
}

function withKey(key, tags) {
  return { headers: { ...JSON_HEADERS.headers, authorization: `Bearer ${key}` }, ...(tags ? { tags } : {}) };
}

/** One limit order of 1 to 5 shares within 5 cents of $100.00; checks the answer is a consistent order. */
function place(data, name) {
  const side = Math.random() < 0.5 ? 'buy' : 'sell';
  const body = {
    userId: data.users[exec.scenario.iterationInTest % data.users.length],
    symbol: data.symbols[Math.floor(Math.random() * data.symbols.length)],
    side,
    price: 10_000 + Math.floor(Math.random() * 11) - 5,
    orderType: 'limit',
    quantity: 1 + Math.floor(Math.random() * 5),
  };
  const r = http.post(`${BASE}/v1/order`, JSON.stringify(body), withKey(data.keys[body.userId], { name }));
  const ok = check(r, {
    [`${name} 201`]: (x) => x.status === 201,
    [`${name} a consistent order`]: (x) => {
      if (x.status !== 201) return false;
      const o = x.json();
      return (
        o.symbol === body.symbol &&
        o.side === side &&
        o.price === body.price &&
        o.quantity === body.quantity &&
        o.filledQuantity + o.remainingQuantity === o.quantity &&
        (o.status === 'filled') === (o.remainingQuantity === 0) &&
        (o.status === 'new') === (o.filledQuantity === 0)
      );
    },
  });
  if (ok) orders.add(1);
}

export function book(data) {
  place(data, 'book');
}

export function latency(data) {
  place(data, 'latency');
}
