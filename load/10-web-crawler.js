// Question: how many pages per second does the crawler fetch from a web of many hosts (the book's 400 pages/s, 800
// at peak), and how close does it come to the politeness bound (the sum over hosts of 1/delay, the fastest a polite
// crawl can go), while its API keeps answering right?
//
// The load is the crawl itself: setup() starts one crawl job of the harness's load web (HOSTS hosts l0.load.test
// ..., served on loopback at WEB_PORT, reached through the job's `resolve` map), the measured scenario polls the
// job's progress and pages at a constant arrival rate (open model) and checks every body, and teardown() stops the
// job. Pages per second are counted from the web's own request log by the harness (harness/chapters/10-web-crawler/
// load.ts), not from the crawler's account. Targets come from specs/10-web-crawler/generated/targets.json.
// Env: TARGET_URL, WEB_PORT, HOSTS, DELAY_MS (required), PROFILE=smoke|full (default smoke).
//   k6 run -e TARGET_URL=http://127.0.0.1:8100 -e WEB_PORT=40123 -e HOSTS=32 -e DELAY_MS=200 load/10-web-crawler.js
import { check, fail } from 'k6';
import http from 'k6/http';
import { rateScenario, warmupScenario } from './lib/open-model.js';

const BASE = (__ENV.TARGET_URL || '').replace(/\/$/, '');
const PROFILE = __ENV.PROFILE || 'smoke';
const WEB_PORT = Number(__ENV.WEB_PORT);
const HOSTS = Number(__ENV.HOSTS);
const DELAY_MS = Number(__ENV.DELAY_MS);
if (!BASE) fail('set TARGET_URL, e.g. -e TARGET_URL=http://127.0.0.1:8100');
if (!(WEB_PORT > 0 && HOSTS > 0 && DELAY_MS >= 0))
  fail('set WEB_PORT, HOSTS and DELAY_MS (the harness serves the web)');

// Mirrors harness/chapters/10-web-crawler/load.ts: the crawl runs from setup through the warm-up and the measured
// window; the poll rate is the API's own load beside the crawl.
const profiles = {
  smoke: { warmup: '2s', duration: '8s', pollRate: 5 },
  full: { warmup: '10s', duration: '60s', pollRate: 10 },
};
const p = profiles[PROFILE];
if (!p) fail(`unknown PROFILE ${PROFILE}; use smoke or full`);

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    warmup: warmupScenario('poll', p.pollRate, p.warmup),
    poll: rateScenario('poll', p.pollRate, p.warmup, p.duration),
  },
  thresholds: {
    'http_req_failed{scenario:poll}': ['rate<=0'],
    'checks{scenario:poll}': ['rate>=1'],
    'dropped_iterations{scenario:poll}': ['count<=0'],
    'http_reqs{scenario:poll}': ['count>=0'],
    'http_req_duration{scenario:poll}': ['max>=0'],
  },
};

const JSON_BODY = { headers: { 'content-type': 'application/json' } };
const host = (i) => `l${i}.load.test`;
const COUNTS = ['fetched', 'stored', 'duplicates', 'skipped', 'failed', 'frontier'];

export function setup() {
  const ready = http.get(`${BASE}/health/ready`);
  if (ready.status !== 200) fail(`${BASE} is not ready (${ready.status}); start it first`);
  const resolve = {};
  for (let i = 0; i < HOSTS; i++) resolve[host(i)] = `127.0.0.1:${WEB_PORT}`;
  const r = http.post(
    `${BASE}/api/v1/crawls`,
    JSON.stringify({
      seeds: [`http://${host(0)}/`],
      allowedDomains: ['load.test'],
      maxPages: 1000000,
      maxDepth: 100,
      politenessDelayMs: DELAY_MS,
      fetchTimeoutMs: 5000,
      resolve,
    }),
    JSON_BODY,
  );
  if (r.status !== 201) fail(`starting the crawl answered ${r.status}: ${r.body}`);
  return { id: r.json('id') };
}

export function poll(data) {
  const r = http.get(`${BASE}/api/v1/crawls/${data.id}`, { tags: { name: 'getCrawl' } });
  check(r, {
    'getCrawl 200': (x) => x.status === 200,
    'the crawl is running, its counts add up': (x) => {
      if (x.status !== 200 || x.json('id') !== data.id || x.json('state') !== 'running') return false;
      const c = x.json('progress');
      if (!COUNTS.every((k) => Number.isInteger(c[k]) && c[k] >= 0)) return false;
      return c.fetched === c.stored + c.duplicates + c.skipped + c.failed;
    },
  });
  // A page of the listing: every page is one of the load web's, fetched and stored (no page of it fails or repeats).
  const pages = http.get(`${BASE}/api/v1/crawls/${data.id}/pages?limit=50`, { tags: { name: 'listPages' } });
  check(pages, {
    'listPages 200': (x) => x.status === 200,
    'the pages listed are of the load web, stored, each once': (x) => {
      if (x.status !== 200) return false;
      const list = x.json('pages');
      const urls = new Set(list.map((pg) => pg.url));
      // Empty at the very start (the crawl's first page waits for robots.txt and the delay).
      return (
        urls.size === list.length &&
        list.every(
          (pg) =>
            /^http:\/\/l\d+\.load\.test\/(p\d+\.html)?$/.test(pg.url) &&
            pg.status === 200 &&
            pg.outcome === 'stored' &&
            /^[0-9a-f]{64}$/.test(pg.contentHash),
        )
      );
    },
  });
}

export function teardown(data) {
  const r = http.post(`${BASE}/api/v1/crawls/${data.id}/stop`, null, { tags: { name: 'stopCrawl' } });
  check(r, { 'stopCrawl 200, stopped': (x) => x.status === 200 && x.json('state') === 'stopped' });
}
