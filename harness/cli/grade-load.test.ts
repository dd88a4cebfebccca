// grade-load on the outputs of two runners made elsewhere: raw k6 CSV samples (one gzipped in runner-0/, one a pod
// log with lines before the CSV header), graded with chapter 09's targets into the same results and report.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { k6Percentile } from '../load/k6-samples.ts';
import { validateResults } from '../report/validate-results.ts';
import type { RunResults } from '../results/types.ts';
import { cmdGradeLoad } from './grade-load.ts';

const HEADER =
  'metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata';
const T0 = 1_796_330_000;

/** k6 CSV rows for `n` requests of a scenario, with the latencies given and the body checks passing or not. */
function rows(scenario: string, latencies: number[], checkOk: (i: number) => boolean, dropped = 0): string[] {
  const out: string[] = [];
  const row = (metric: string, i: number, value: number, check = '') =>
    `${metric},${T0 + (i % 8)},${value.toFixed(6)},${check},,,true,,GET,x,HTTP/1.1,${scenario},,302,,,http://x/,,`;
  latencies.forEach((ms, i) => {
    out.push(row('http_reqs', i, 1), row('http_req_duration', i, ms), row('http_req_failed', i, 0));
    out.push(row('checks', i, checkOk(i) ? 1 : 0, `${scenario} body`));
  });
  if (dropped) out.push(row('dropped_iterations', 0, dropped));
  return out;
}

let dir: string;
const latencies = {
  shorten: [Array.from({ length: 96 }, (_, i) => 5 + (i % 7)), Array.from({ length: 96 }, (_, i) => 6 + (i % 11))],
  redirect: [
    Array.from({ length: 928 }, (_, i) => 1 + (i % 5) / 10),
    Array.from({ length: 928 }, (_, i) => 2 + (i % 13)),
  ],
};

async function runnerOutputs(where: string, badCheckInRunner1: boolean): Promise<void> {
  await mkdir(join(where, 'runner-0'), { recursive: true });
  await writeFile(
    join(where, 'sdgrade-load.json'),
    JSON.stringify({
      chapter: '09-url-shortener',
      profile: 'smoke',
      segments: 2,
      script: 'load/09-url-shortener.js',
      env: { TARGET_URL: 'http://runners.example:8090', PROFILE: 'smoke' },
      k6Version: 'v1.8.1',
      samples: 'test',
      createdAt: new Date().toISOString(),
    }),
  );
  const r0 = [
    HEADER,
    ...rows('shorten', latencies.shorten[0]!, () => true),
    ...rows('redirect', latencies.redirect[0]!, () => true),
  ];
  await writeFile(join(where, 'runner-0', 'samples.csv.gz'), gzipSync(`${r0.join('\n')}\n`));
  const r1 = [
    'a pod log line before the samples',
    HEADER,
    ...rows('shorten', latencies.shorten[1]!, () => true),
    ...rows('redirect', latencies.redirect[1]!, (i) => !(badCheckInRunner1 && i === 7)),
  ];
  await writeFile(join(where, 'pod-runner-1.csv'), `${r1.join('\n')}\n`);
}

async function grade(from: string, out: string): Promise<{ code: number; run: RunResults }> {
  const code = await cmdGradeLoad('09', { from, out });
  const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const v = validateResults(doc);
  if (!v.ok) throw new Error(v.errors.join('\n'));
  return { code, run: v.results };
}

beforeAll(async () => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  dir = await mkdtemp(join(tmpdir(), 'sdgrade-grade-load-'));
});

afterAll(async () => {
  vi.restoreAllMocks();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('grade-load', () => {
  it('grades the merged samples of every runner with the chapter targets and writes the same results and report', async () => {
    await runnerOutputs(join(dir, 'ok'), false);
    const { code, run } = await grade(join(dir, 'ok'), join(dir, 'ok-out'));
    expect(code).toBe(0);
    const c = run.chapters[0]!;
    expect(c.load?.segments).toBe(2);
    const redirect = c.load!.scenarios.find((s) => s.name === 'redirect')!;
    // Counts add up over the runners; the rate is over the 8 s measured window.
    expect(redirect.rps).toBe((928 * 2) / 8);
    const all = [...latencies.redirect[0]!, ...latencies.redirect[1]!].sort((a, b) => a - b);
    expect(redirect.latencyMs.p99).toBeCloseTo(k6Percentile(all, 0.99), 6);
    expect(redirect.latencyMs.p50).toBeCloseTo(k6Percentile(all, 0.5), 6);
    expect(c.targets.find((t) => t.id === 'URL-T3')).toMatchObject({ verdict: 'pass', value: 0 });
    // What needs the implementation here is not measured, and says so: never passed.
    expect(c.targets.find((t) => t.id === 'URL-T6')).toMatchObject({ verdict: 'skipped' });
    expect(c.targets.find((t) => t.id === 'URL-T6')!.reason).toMatch(/grade-load/);
    expect(c.load!.capacity!.every((k) => k.perNode === null && /grade-load/.test(k.reason ?? ''))).toBe(true);
    for (const f of ['report.html', 'report.md', 'junit.xml']) expect(existsSync(join(dir, 'ok-out', f))).toBe(true);
  });

  it('catches a wrong body in one runner', async () => {
    await runnerOutputs(join(dir, 'bad'), true);
    const { code, run } = await grade(join(dir, 'bad'), join(dir, 'bad-out'));
    const t3 = run.chapters[0]!.targets.find((t) => t.id === 'URL-T3')!;
    expect(t3.verdict).toBe('fail');
    expect(t3.reason).toMatch(/1 body checks failed/);
    expect(code).toBe(1);
  });

  it('refuses a folder made for another chapter', async () => {
    await expect(cmdGradeLoad('08', { from: join(dir, 'ok'), out: join(dir, 'x') })).rejects.toThrow(
      /holds a load of chapter 09-url-shortener, not 08-unique-id-generator/,
    );
  });

  it('grades another chapter the same way: 05 from two runners, RL-T1 from all their samples', async () => {
    const where = join(dir, 'rl');
    await mkdir(where, { recursive: true });
    await writeFile(
      join(where, 'sdgrade-load.json'),
      JSON.stringify({
        chapter: '05-rate-limiter',
        profile: 'smoke',
        segments: 2,
        script: 'load/05-rate-limiter.js',
        env: { TARGET_URL: 'http://runners.example:8050', PROFILE: 'smoke' },
        k6Version: 'v1.8.1',
        samples: 'test',
        createdAt: new Date().toISOString(),
      }),
    );
    const limited = [
      Array.from({ length: 300 }, (_, i) => 2 + (i % 5)),
      Array.from({ length: 300 }, (_, i) => 3 + (i % 4)),
    ];
    const pass = [Array.from({ length: 300 }, (_, i) => 1 + (i % 3)), Array.from({ length: 300 }, () => 2)];
    for (const r of [0, 1]) {
      const lines = [HEADER, ...rows('limited', limited[r]!, () => true), ...rows('passthrough', pass[r]!, () => true)];
      await writeFile(join(where, `runner-${r}.csv`), `${lines.join('\n')}\n`);
    }
    const { code, run } = await grade05(where, join(dir, 'rl-out'));
    expect(code).toBe(0);
    const c = run.chapters[0]!;
    const p99 = (xs: number[][]) =>
      k6Percentile(
        [...xs[0]!, ...xs[1]!].sort((a, b) => a - b),
        0.99,
      );
    const t1 = c.targets.find((t) => t.id === 'RL-T1')!;
    expect(t1.value).toBeCloseTo(p99(limited) - p99(pass), 3);
    expect(c.load!.scenarios.find((x) => x.name === 'limited')!.rps).toBe(600 / 6);
    expect(c.targets.find((t) => t.id === 'RL-T2')).toMatchObject({ verdict: 'pass', value: 0 });
    expect(c.targets.find((t) => t.id === 'RL-T3')).toMatchObject({ verdict: 'skipped' });
    expect(c.load!.capacity!.every((k) => k.perNode === null && /grade-load/.test(k.reason ?? ''))).toBe(true);
  });

  it("refuses chapter 13's samples from more than one runner", async () => {
    const where = join(dir, 'chat');
    await mkdir(where, { recursive: true });
    await writeFile(
      join(where, 'sdgrade-load.json'),
      JSON.stringify({
        chapter: '13-chat-system',
        profile: 'smoke',
        segments: 2,
        script: 'load/13-chat-system.js',
        env: { TARGET_URL: 'http://runners.example:8130', PROFILE: 'smoke' },
        k6Version: 'v1.8.1',
        samples: 'test',
        createdAt: new Date().toISOString(),
      }),
    );
    for (const r of [0, 1]) await writeFile(join(where, `runner-${r}.csv`), `${HEADER}\n`);
    await expect(cmdGradeLoad('13', { from: where, out: join(dir, 'chat-out') })).rejects.toThrow(/one k6 process/);
  });
});

async function grade05(from: string, out: string): Promise<{ code: number; run: RunResults }> {
  const code = await cmdGradeLoad('05', { from, out });
  const v = validateResults(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  if (!v.ok) throw new Error(v.errors.join('\n'));
  return { code, run: v.results };
}
