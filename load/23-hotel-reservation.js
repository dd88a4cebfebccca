// Question: does the service carry the book's traffic (about 3 reservations/s, 30 reservation-page availability
// reads/s and 300 hotel and room-type detail views/s), with every answer right: each reservation 201 with what
// was asked (or a documented 409 when the rooms are gone), each detail the hotel or room type created?
//
// Open model: constant-arrival-rate scenarios, so a slow service cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Targets come from specs/23-hotel-reservation/generated/targets.json, the file the
// harness reads. Env: TARGET_URL (required), PROFILE=smoke|full (default smoke), STAFF_KEY (the key hotels and room
// types are created with; default the spec's grading default, sdgrade-hotel-staff).
// CAPACITY=reserve with RATE, WARMUP and DURATION runs that scenario alone at RATE per second: one step of the
// harness's capacity search (harness/load/flow-step.ts).
//   k6 run -e TARGET_URL=http://127.0.0.1:8230 -e PROFILE=smoke load/23-hotel-reservation.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { capacityScenarios, rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/23-hotel-reservation/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8230');

// smoke: seconds at a sliver of the rates (CI proves the script and its body checks); full: the book's rates after a
// warm-up ramp. The book's rates are low, so the smoke profile keeps at least one of each per second.
const profiles = {
  smoke: { scale: 0.05, warmup: '2s', duration: '8s' },
  full: { scale: 1, warmup: '10s', duration: '60s' },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);

const reserveRate = Math.max(1, Math.ceil(byId['HR-T1'].value * p.scale));
const detailRate = Math.max(1, Math.ceil(byId['HR-T2'].value * p.scale));
// The book's middle step: 30 reservation-page views per second, each an availability read.
const availabilityRate = Math.max(1, Math.ceil(30 * p.scale));

const HOTELS = 5;
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };
// Hotels and room types are written by hotel staff only (the spec's bearer staff key).
const STAFF = {
  headers: { 'content-type': 'application/json', authorization: `Bearer ${__ENV.STAFF_KEY || 'sdgrade-hotel-staff'}` },
};
const reservations = new Counter('reservations');

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: capacityScenarios(__ENV) ?? {
    warmup: warmupScenario('details', detailRate, p.warmup),
    reserve: rateScenario('reserve', reserveRate, p.warmup, p.duration),
    details: rateScenario('details', detailRate, p.warmup, p.duration),
    availability: rateScenario('availability', availabilityRate, p.warmup, p.duration),
  },
  thresholds: {
    // HR-T3: nothing fails and every body is right, in the measured scenarios.
    'http_req_failed{scenario:reserve}': [`rate<=${byId['HR-T3'].value}`],
    'http_req_failed{scenario:details}': [`rate<=${byId['HR-T3'].value}`],
    'http_req_failed{scenario:availability}': [`rate<=${byId['HR-T3'].value}`],
    'checks{scenario:reserve}': ['rate>=1'],
    'checks{scenario:details}': ['rate>=1'],
    'checks{scenario:availability}': ['rate>=1'],
    // HR-T4: reservation latency.
    'http_req_duration{scenario:reserve}': [`p(99)<=${byId['HR-T4'].value}`],
    'http_req_duration{scenario:details}': ['max>=0'],
    'http_req_duration{scenario:availability}': ['max>=0'],
    // HR-T1, HR-T2: the rates were carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:reserve}': ['count<=0'],
    'dropped_iterations{scenario:details}': ['count<=0'],
    'dropped_iterations{scenario:availability}': ['count<=0'],
    'http_reqs{scenario:reserve}': ['count>=0'],
    'http_reqs{scenario:details}': ['count>=0'],
    'http_reqs{scenario:availability}': ['count>=0'],
    'reservations{scenario:reserve}': ['count>=0'],
  },
};

const DAY_MS = 86_400_000;
const day = (offset) => new Date((Math.floor(Date.now() / DAY_MS) + offset) * DAY_MS).toISOString().slice(0, 10);

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  const hotels = [];
  for (let i = 0; i < HOTELS; i++) {
    const h = http.post(
      `${BASE}/v1/hotels`,
      JSON.stringify({ name: `load hotel ${i}`, address: 'Load Street' }),
      STAFF,
    );
    if (h.status !== 201) fail(`creating a hotel answered ${h.status}: ${h.body}`);
    // Rooms enough that the book's rate never sells out in a run: a refusal would be a documented 409, not a test.
    const body = { name: 'Double', totalInventory: 10000, rateMinor: 12000, currency: 'EUR' };
    const t = http.post(`${BASE}/v1/hotels/${h.json('hotelId')}/room-types`, JSON.stringify(body), STAFF);
    if (t.status !== 201) fail(`creating a room type answered ${t.status}: ${t.body}`);
    hotels.push({ hotelId: h.json('hotelId'), roomTypeId: t.json('roomTypeId') });
  }
  return { hotels, run: `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}` };
}

const pick = (hotels) => hotels[Math.floor(Math.random() * hotels.length)];
let seq = 0;

export function reserve(data) {
  const h = pick(data.hotels);
  const start = 3 + Math.floor(Math.random() * 60);
  const nights = 1 + Math.floor(Math.random() * 4);
  const roomCount = 1 + Math.floor(Math.random() * 2);
  const body = {
    reservationId: `k6-${data.run}-${__VU}-${++seq}`,
    hotelId: h.hotelId,
    roomTypeId: h.roomTypeId,
    roomCount,
    startDate: day(start),
    endDate: day(start + nights),
    guestId: `k6-guest-${__VU}`,
  };
  const r = http.post(`${BASE}/v1/reservations`, JSON.stringify(body), { ...JSON_HEADERS, tags: { name: 'reserve' } });
  const ok = check(r, {
    'reserve 201': (x) => x.status === 201,
    'reserve body is the reservation asked for': (x) =>
      x.status === 201 &&
      x.json('reservationId') === body.reservationId &&
      x.json('roomCount') === roomCount &&
      x.json('status') === 'confirmed' &&
      x.json('totalMinor') === 12000 * nights * roomCount,
  });
  if (ok) reservations.add(1);
}

export function details(data) {
  const h = pick(data.hotels);
  if (Math.random() < 0.5) {
    const r = http.get(`${BASE}/v1/hotels/${h.hotelId}`, { tags: { name: 'hotel' } });
    check(r, { 'hotel 200 with its id': (x) => x.status === 200 && x.json('hotelId') === h.hotelId });
  } else {
    const r = http.get(`${BASE}/v1/hotels/${h.hotelId}/room-types/${h.roomTypeId}`, { tags: { name: 'roomType' } });
    check(r, {
      'room type 200 with its inventory': (x) =>
        x.status === 200 && x.json('roomTypeId') === h.roomTypeId && x.json('totalInventory') === 10000,
    });
  }
}

export function availability(data) {
  const h = pick(data.hotels);
  const start = 3 + Math.floor(Math.random() * 60);
  const r = http.get(
    `${BASE}/v1/hotels/${h.hotelId}/room-types/${h.roomTypeId}/availability?startDate=${day(start)}&endDate=${day(start + 3)}`,
    { tags: { name: 'availability' } },
  );
  check(r, {
    'availability 200 with 3 nights within 110%': (x) => {
      if (x.status !== 200) return false;
      const nights = x.json('nights');
      return (
        Array.isArray(nights) &&
        nights.length === 3 &&
        nights.every((n) => n.totalReserved >= 0 && n.totalReserved <= 11000 && n.available === 11000 - n.totalReserved)
      );
    },
  });
}
