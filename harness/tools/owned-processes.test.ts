// Nothing a run starts outlives it: real harness runs, each marked by a unique environment variable that every
// process it starts inherits (through runuser and pg_ctl too), are killed with SIGKILL mid-run, interrupted with
// SIGINT, or left to finish; within 5 s no process carrying the mark may remain (read from /proc).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { rootDir } from '../core/paths.ts';
import { findPostgresBin } from '../faults/private-postgres.ts';
import { findOnPath } from './find-on-path.ts';

const MARK = 'SDGRADE_TEST_RUN_MARK';
/** The bound: within 5 s of the harness's end, nothing of its run remains. */
const GONE_WITHIN_MS = 5_000;
const linux = process.platform === 'linux';
const haveServices = Boolean(findPostgresBin() && (await findOnPath('redis-server')));

interface Proc {
  pid: number;
  command: string;
}

/** Every process whose environment carries MARK=mark. */
function marked(mark: string): Proc[] {
  const found: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (!env.includes(`${MARK}=${mark}`)) continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      // A zombie has an empty command line and holds nothing: it only waits for its parent to reap it.
      if (command) found.push({ pid: Number(name), command });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return found;
}

async function waitUntil<T>(what: string, limitMs: number, probe: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The processes of the run still there GONE_WITHIN_MS after `since`. */
async function leftovers(mark: string, since: number): Promise<Proc[]> {
  for (;;) {
    const left = marked(mark);
    if (!left.length || Date.now() - since > GONE_WITHIN_MS) return left;
    await sleep(100);
  }
}

interface Run {
  child: ChildProcess;
  mark: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const runs: Run[] = [];

function startHarness(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const mark = randomUUID();
  const out = join(tmpdir(), `sdgrade-lifetime-${mark}`);
  const child = spawn(process.execPath, ['bin/sdgrade.js', ...args, '--out', out], {
    cwd: rootDir,
    env: { ...process.env, ...env, [MARK]: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const run = { child, mark, output: () => output, exited };
  runs.push(run);
  return run;
}

afterEach(async () => {
  // A failed test must not leave its run behind either.
  for (const r of runs.splice(0)) {
    r.child.kill('SIGKILL');
    for (const p of marked(r.mark)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

const kinds = (ps: Proc[]) => ps.map((p) => p.command.slice(0, 160)).join('\n  ');

describe.runIf(linux)('nothing a run starts outlives the harness', () => {
  it('kill -9 of the harness mid-load: the nodes, the fault proxy, the PSP fakes and k6 are gone within 5 s', async () => {
    const run = startHarness(['load', '27', '--manifest', 'reference/27-payment-system/manifest.json']);
    // Mid-run: k6 is running against the nodes, beside the fakes' process and the fault proxy.
    const during = await waitUntil('k6 to run', 180_000, () => {
      const ps = marked(run.mark);
      return ps.some((p) => /\bk6\b.* run /.test(p.command)) ? ps : null;
    });
    expect(kinds(during)).toMatch(/toxiproxy-server/);
    expect(kinds(during)).toMatch(/reference\/27-payment-system\/main\.ts/);
    expect(kinds(during)).toMatch(/fakes-process\.ts/);
    const killedAt = Date.now();
    process.kill(run.child.pid!, 'SIGKILL');
    const left = await leftovers(run.mark, killedAt);
    expect(left, `still running ${GONE_WITHIN_MS} ms after kill -9:\n  ${kinds(left)}`).toEqual([]);
  }, 240_000);

  it.runIf(haveServices)(
    'kill -9 of the main job: its own Redis and PostgreSQL (daemonized by pg_ctl, through runuser) go too',
    async () => {
      const run = startHarness(['all', '--chapters', '09', '--profile', 'smoke'], {
        SDGRADE_DATABASE_URL: '',
        SDGRADE_REDIS_URL: '',
      });
      await waitUntil('the 09 nodes to be up', 180_000, () => /grading 09-url-shortener at/.test(run.output()));
      const during = marked(run.mark);
      expect(kinds(during)).toMatch(/redis-server/);
      expect(kinds(during)).toMatch(/postgres/);
      expect(kinds(during)).toMatch(/reference\/09-url-shortener\/main\.ts/);
      const killedAt = Date.now();
      process.kill(run.child.pid!, 'SIGKILL');
      const left = await leftovers(run.mark, killedAt);
      expect(left, `still running ${GONE_WITHIN_MS} ms after kill -9:\n  ${kinds(left)}`).toEqual([]);
    },
    240_000,
  );

  it('Ctrl-C (SIGINT) mid-run: the harness exits and its nodes and proxy are gone within 5 s', async () => {
    const run = startHarness(['test', '05', '--manifest', 'reference/05-rate-limiter/manifest.json']);
    await waitUntil('the 05 nodes to be up', 180_000, () => /grading 05-rate-limiter at/.test(run.output()));
    expect(kinds(marked(run.mark))).toMatch(/reference\/05-rate-limiter\/main\.ts/);
    const interruptedAt = Date.now();
    process.kill(run.child.pid!, 'SIGINT');
    expect((await run.exited).code).toBe(130);
    const left = await leftovers(run.mark, interruptedAt);
    expect(left, `still running ${GONE_WITHIN_MS} ms after Ctrl-C:\n  ${kinds(left)}`).toEqual([]);
  }, 240_000);

  it('a run that finishes leaves nothing behind', async () => {
    const run = startHarness([
      'test',
      '05',
      '--manifest',
      'reference/05-rate-limiter/manifest.json',
      '--only',
      'RL-C1',
    ]);
    const { code } = await run.exited;
    expect(code, run.output()).toBe(0);
    const left = await leftovers(run.mark, Date.now());
    expect(left, `still running ${GONE_WITHIN_MS} ms after the run ended:\n  ${kinds(left)}`).toEqual([]);
  }, 240_000);
});
