// Question: does one leaderboard service take the book's peak of 2,500 score updates per second from game servers,
// while players fetch the top 10 (the book's 50 per second) and their own rank, with every answer right (an update
// answers a total at least its points; a top 10 is in board order with shared ranks that agree with the scores)?
//
// Open model: constant-arrival-rate scenarios, so a slow service cannot hide behind fewer requests (late iterations
// show up as dropped_iterations). Targets come from specs/26-gaming-leaderboard/generated/targets.json, the file the
// harness reads. Env: TARGET_URL (required), PROFILE=smoke|full (default smoke), GAME_SERVER_KEY (default the
// spec's grading default, sdgrade-game-server).
// CAPACITY=update with RATE, WARMUP and DURATION runs that scenario alone at RATE per second: one step of the
// harness's capacity search (harness/load/flow-step.ts).
//   k6 run -e TARGET_URL=http://127.0.0.1:8260 -e PROFILE=smoke load/26-gaming-leaderboard.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { capacityScenarios, rateScenario, warmupScenario } from './lib/open-model.js';

const targets = JSON.parse(open('../specs/26-gaming-leaderboard/generated/targets.json'));
const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
const KEY = __ENV.GAME_SERVER_KEY || 'sdgrade-game-server';
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8260');

// smoke: seconds at a sliver of the rates (CI proves the script and the body checks under load); full: the rates
// after a warm-up ramp, for a real measurement.
const profiles = {
  smoke: { scale: 0.05, warmup: '2s', duration: '8s' },
  full: { scale: 1, warmup: '10s', duration: '60s' },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);

/** Players on the board before measuring, and the pool updates and rank queries draw from. */
const PLAYERS = 2000;
/** Ours (the book gives no rank-query rate): the peak online players (250/s) each looking up their rank once. */
const RANK_RATE = 250;
const updateRate = Math.max(1, Math.ceil(byId['RGL-T1'].value * p.scale));
const topRate = Math.max(1, Math.ceil(byId['RGL-T4'].value * p.scale));
const rankRate = Math.max(1, Math.ceil(RANK_RATE * p.scale));

const AUTH = { headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } };

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: capacityScenarios(__ENV) ?? {
    warmup: warmupScenario('update', updateRate, p.warmup),
    update: rateScenario('update', updateRate, p.warmup, p.duration),
    top10: rateScenario('top10', topRate, p.warmup, p.duration),
    rank: rateScenario('rank', rankRate, p.warmup, p.duration),
  },
  thresholds: {
    // RGL-T2: nothing fails and every body is right, in the measured scenarios.
    'http_req_failed{scenario:update}': [`rate<=${byId['RGL-T2'].value}`],
    'http_req_failed{scenario:top10}': [`rate<=${byId['RGL-T2'].value}`],
    'http_req_failed{scenario:rank}': [`rate<=${byId['RGL-T2'].value}`],
    'checks{scenario:update}': ['rate>=1'],
    'checks{scenario:top10}': ['rate>=1'],
    'checks{scenario:rank}': ['rate>=1'],
    // RGL-T3: rank query latency under the update load.
    'http_req_duration{scenario:rank}': [`p(99)<=${byId['RGL-T3'].value}`],
    'http_req_duration{scenario:update}': ['max>=0'],
    'http_req_duration{scenario:top10}': ['max>=0'],
    // RGL-T1, RGL-T4: the rates were carried (an open model drops iterations it could not start in time).
    'dropped_iterations{scenario:update}': ['count<=0'],
    'dropped_iterations{scenario:top10}': ['count<=0'],
    'dropped_iterations{scenario:rank}': ['count<=0'],
    'http_reqs{scenario:update}': ['count>=0'],
    'http_reqs{scenario:top10}': ['count>=0'],
    'http_reqs{scenario:rank}': ['count>=0'],
  },
};

const player = (i) => `load-${i}`;

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  // A month nobody else uses (years 2100-9999), so the checks below know every player on it came from here.
  const n = Math.floor(Math.random() * 7900 * 12);
  const month = `${2100 + Math.floor(n / 12)}-${String(1 + (n % 12)).padStart(2, '0')}`;
  for (let i = 0; i < PLAYERS; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(PLAYERS, i + 50); j++)
      batch.push([
        'POST',
        `${BASE}/v1/scores`,
        JSON.stringify({ user_id: player(j), points: 1 + (j % 7), month }),
        AUTH,
      ]);
    for (const r of http.batch(batch))
      if (r.status !== 200) fail(`preloading ${month} answered ${r.status}: ${r.body}`);
  }
  return { month };
}

export function update(data) {
  const user = player(Math.floor(Math.random() * PLAYERS));
  const points = 1 + Math.floor(Math.random() * 3);
  const r = http.post(`${BASE}/v1/scores`, JSON.stringify({ user_id: user, points, month: data.month }), {
    ...AUTH,
    tags: { name: 'update' },
  });
  check(r, {
    'update 200': (x) => x.status === 200,
    'update answers the player, month and a total past the preload': (x) =>
      x.status === 200 && x.json('user_id') === user && x.json('month') === data.month && x.json('score') >= 1 + points,
  });
}

export function top10(data) {
  const r = http.get(`${BASE}/v1/scores?month=${data.month}`, { tags: { name: 'top10' } });
  check(r, {
    'top10 200': (x) => x.status === 200,
    'top10 is ten players in board order with shared ranks': (x) => {
      if (x.status !== 200) return false;
      const list = x.json('data');
      if (!Array.isArray(list) || list.length !== 10 || x.json('total') < PLAYERS) return false;
      for (let i = 0; i < list.length; i++) {
        const e = list[i];
        const prev = list[i - 1];
        const want = i === 0 ? 1 : prev.score === e.score ? prev.rank : i + 1;
        if (e.rank !== want || (prev && (prev.score < e.score || (prev.score === e.score && prev.user_id < e.user_id))))
          return false;
      }
      return list[0].rank === 1;
    },
  });
}

export function rank(data) {
  const user = player(Math.floor(Math.random() * PLAYERS));
  const r = http.get(`${BASE}/v1/scores/${user}?month=${data.month}`, { tags: { name: 'rank' } });
  check(r, {
    'rank 200': (x) => x.status === 200,
    'rank answers the player with a score and a rank on the board': (x) =>
      x.status === 200 &&
      x.json('user_info.user_id') === user &&
      x.json('user_info.score') >= 1 &&
      x.json('user_info.rank') >= 1 &&
      x.json('user_info.rank') <= PLAYERS,
  });
}
