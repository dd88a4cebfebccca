// Real k6 against the real no-op server: the same seeded load as 1 and as 2 execution segments.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { findK6 } from '../tools/k6.ts';
import { k6Percentile } from './k6-samples.ts';
import { findSampleFiles, runK6Segments, type SegmentedRun, segmentOf, segmentSequence } from './k6-segments.ts';
import { type NoopServer, startNoopServer } from './noop-server.ts';

let k6: string;
let noop: NoopServer;
let dir: string;
let one: SegmentedRun;
let two: SegmentedRun;

// Seeded: the arrival schedule is fixed by the executor, and the think-time jitter by randomSeed.
const script = `
import http from 'k6/http';
import { check, sleep, randomSeed } from 'k6';
import { Counter } from 'k6/metrics';
const hits = new Counter('hits');
randomSeed(42);
export const options = {
  scenarios: {
    steady: { executor: 'constant-arrival-rate', rate: 150, timeUnit: '1s', duration: '3s', preAllocatedVUs: 10, maxVUs: 50 },
  },
  thresholds: { 'http_reqs{scenario:steady}': ['count>=0'] },
};
export default function () {
  const r = http.get(__ENV.TARGET_URL);
  check(r, { 'status 200': (x) => x.status === 200 });
  hits.add(1);
  sleep(Math.random() * 0.01);
}
`;

/** http_req_duration samples read straight from the CSV files, independently of the merger. */
function rawDurations(files: string[]): number[] {
  const out: number[] = [];
  for (const f of files) {
    const text = gunzipSync(readFileSync(f)).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.startsWith('http_req_duration,')) out.push(Number(line.split(',')[2]));
    }
  }
  return out.sort((a, b) => a - b);
}

const count = (r: { summary: SegmentedRun['summary'] }, name: string) => {
  const m = r.summary.metrics[name];
  return m?.type === 'counter' ? m.count : Number.NaN;
};

beforeAll(async () => {
  k6 = (await findK6({ build: false, onProgress: () => {} })).path;
  noop = await startNoopServer();
  dir = await mkdtemp(join(tmpdir(), 'sdgrade-segments-'));
  await writeFile(join(dir, 'seeded.js'), script);
  const common = { script: join(dir, 'seeded.js'), env: { TARGET_URL: `${noop.url}/` }, k6, timeoutMs: 60_000 };
  one = await runK6Segments({ ...common, outDir: join(dir, 'one'), segments: 1 });
  two = await runK6Segments({ ...common, outDir: join(dir, 'two'), segments: 2 });
}, timeLimit(120_000));

afterAll(async () => {
  await noop?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('execution segments', () => {
  it('names the segments the way k6 and the k6 Operator do', () => {
    expect(segmentSequence(2)).toBe('0,1/2,1');
    expect([0, 1, 2].map((i) => segmentOf(i, 3))).toEqual(['0:1/3', '1/3:2/3', '2/3:1']);
  });

  it('splits the same seeded load over two processes whose counts add up to the one-process run', () => {
    expect(two.runners).toHaveLength(2);
    const perRunner = two.runners.map((r) => count(r, 'http_reqs'));
    expect(perRunner.every((n) => n > 0)).toBe(true);
    // Each runner's own k6 summary adds up to the merged count.
    expect(perRunner[0]! + perRunner[1]!).toBe(count(two, 'http_reqs'));
    const dropped = two.runners.map((r) => count(r, 'dropped_iterations') || 0);
    expect(dropped[0]! + dropped[1]!).toBe(count(two, 'dropped_iterations') || 0);
    // The schedule is the same: requests sent plus iterations dropped (a busy shared machine drops a few) is
    // 150/s for 3 s, whether one process or two carried it.
    const scheduled = (r: SegmentedRun) => count(r, 'http_reqs') + (count(r, 'dropped_iterations') || 0);
    // Never more than the 450 offered (plus the one due exactly at the end of the 3 s, which each process may or
    // may not start). A k6 process starved of CPU at the end can leave a few due iterations neither started nor
    // counted as dropped (5 of 450 seen at load average 43 on 2 cores), so the lower bound allows 3%.
    for (const r of [one, two]) {
      expect(scheduled(r)).toBeGreaterThanOrEqual(Math.floor(450 * 0.97));
      expect(scheduled(r)).toBeLessThanOrEqual(r === one ? 451 : 452);
    }
    expect(count(two, 'hits')).toBe(count(two, 'http_reqs'));
    expect(count(two, 'http_reqs{scenario:steady}')).toBe(count(two, 'http_reqs'));
    expect(two.summary.checks).toEqual([
      { path: '::status 200', name: 'status 200', passes: count(two, 'http_reqs'), fails: 0 },
    ]);
  });

  it('computes merged percentiles from all samples, not from each process', () => {
    const files = findSampleFiles(join(dir, 'two'));
    expect(files).toHaveLength(2);
    const all = rawDurations(files);
    expect(all).toHaveLength(count(two, 'http_reqs'));
    const d = two.summary.metrics['http_req_duration{scenario:steady}'];
    if (d?.type !== 'trend') throw new Error('no merged trend');
    for (const [stat, p] of [
      ['p(50)', 0.5],
      ['p(90)', 0.9],
      ['p(95)', 0.95],
      ['p(99)', 0.99],
      ['p(99.9)', 0.999],
    ] as const) {
      // The runner reads "99.9" as 99.9 / 100, one ulp off 0.999: the same rank, interpolated a hair apart.
      expect(d.values[stat]).toBeCloseTo(k6Percentile(all, p), 9);
    }
    expect(d.values.max).toBe(all.at(-1));
    expect(d.values.min).toBe(all[0]);
  });

  it('computes percentiles by the same rule as k6 itself (one process: merged samples vs its own summary)', () => {
    const own = one.runners[0]!.summary.metrics.http_req_duration;
    const merged = one.summary.metrics.http_req_duration;
    if (own?.type !== 'trend' || merged?.type !== 'trend') throw new Error('no trend');
    // The CSV output keeps 6 decimals of a millisecond.
    for (const stat of ['p(50)', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'max', 'avg'])
      expect(merged.values[stat]).toBeCloseTo(own.values[stat]!, 4);
  });
});

describe('k6Percentile', () => {
  it('interpolates between the nearest ranks like k6', () => {
    expect(k6Percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(k6Percentile([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97);
    expect(k6Percentile([7], 0.99)).toBe(7);
    expect(k6Percentile([], 0.5)).toBe(0);
  });
});
