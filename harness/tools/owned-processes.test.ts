// Nothing a run starts outlives it: real harness runs are killed with SIGKILL mid-run, interrupted with SIGINT, or
// left to finish; within 5 s no process of the run may remain. A run's processes: every descendant of the harness,
// plus every process carrying the run's unique environment variable (inherited through runuser and pg_ctl, whose
// daemonized PostgreSQL leaves the tree), plus their descendants (servers that rewrite their title, as redis-server
// and PostgreSQL's workers do, lose the variable from /proc/<pid>/environ). Each is identified by pid and start time,
// so a reused pid is not mistaken for a survivor.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { rootDir } from '../core/paths.ts';
import { timeLimit } from '../core/time-scale.ts';
import { findPostgresBin } from '../faults/private-postgres.ts';
import { findOnPath } from './find-on-path.ts';

const MARK = 'SDGRADE_TEST_RUN_MARK';
/** The bound: within 5 s of the harness's end, nothing of its run remains. */
const GONE_WITHIN_MS = 5_000;
const linux = process.platform === 'linux';
const haveServices = Boolean(findPostgresBin() && (await findOnPath('redis-server')));

interface Proc {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: with the pid, names one process for good. */
  start: string;
  state: string;
  command: string;
  marked: boolean;
}

function readProc(pid: number, mark: string): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ... starttime ...": comm may hold spaces and parentheses, so split after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let marked = false;
    try {
      marked = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${MARK}=${mark}`);
    } catch {
      /* not ours to read */
    }
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(f[1]), start: f[19]!, state: f[0]!, command, marked };
  } catch {
    return null; // gone meanwhile
  }
}

function allProcs(mark: string): Proc[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n), mark))
    .filter((p): p is Proc => p !== null);
}

/** The run's processes now: the harness's descendants, the marked processes, and theirs. */
function runProcesses(harnessPid: number, mark: string): Proc[] {
  const procs = allProcs(mark);
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = new Map<number, Proc>();
  const add = (p: Proc) => {
    if (found.has(p.pid)) return;
    found.set(p.pid, p);
    for (const c of children.get(p.pid) ?? []) add(c);
  };
  for (const p of procs) if (p.pid === harnessPid || p.marked) add(p);
  return [...found.values()];
}

/**
 * What of `snapshot` (and anything newly marked) still runs GONE_WITHIN_MS after `since`. Zombies do not count: they
 * hold nothing and only wait for a parent to collect them.
 */
async function survivors(snapshot: Proc[], mark: string, since: number): Promise<Proc[]> {
  for (;;) {
    const alive = [
      ...snapshot.map((p) => readProc(p.pid, mark)).filter((p, i) => p && p.start === snapshot[i]!.start),
      ...allProcs(mark).filter((p) => p.marked),
    ].filter((p): p is Proc => p !== null && p.state !== 'Z');
    const unique = [...new Map(alive.map((p) => [p.pid, p])).values()];
    if (!unique.length || Date.now() - since > GONE_WITHIN_MS) return unique;
    await sleep(100);
  }
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

interface Run {
  child: ChildProcess;
  mark: string;
  /** The run's results folder. */
  out: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every process of the run seen so far (sampled while it runs), by pid and start time. */
  seen: () => Proc[];
  /** Samples now (just before a kill, say) and returns what runs. */
  sample: () => Proc[];
}

const runs: Run[] = [];

/**
 * Starts `sdgrade ARGS`: directly, or as a user of the package does, through `npm run sdgrade --` (npm forwards a
 * signal it receives to its script's shell only, so the script must `exec` the harness for the signal to reach it).
 */
function startHarness(args: string[], env: NodeJS.ProcessEnv = {}, how: 'node' | 'npm' = 'node'): Run {
  const mark = randomUUID();
  const out = join(tmpdir(), `sdgrade-lifetime-${mark}`);
  const [cmd, pre] =
    how === 'npm' ? ['npm', ['run', '--silent', 'sdgrade', '--']] : [process.execPath, ['bin/sdgrade.js']];
  const child = spawn(cmd, [...pre, ...args, '--out', out], {
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
  const seen = new Map<string, Proc>();
  const sample = () => {
    const now = runProcesses(child.pid!, mark);
    for (const p of now) {
      // Keep the command first seen: a process that has exited and not yet been collected shows none.
      const key = `${p.pid}/${p.start}`;
      seen.set(key, { ...p, command: seen.get(key)?.command || p.command });
    }
    return now;
  };
  const sampler = setInterval(sample, 300);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearInterval(sampler);
      resolve({ code, signal });
    }),
  );
  const run = { child, mark, out, output: () => output, exited, seen: () => [...seen.values()], sample };
  runs.push(run);
  return run;
}

afterEach(async () => {
  // A failed test must not leave its run behind either: the harness is killed, its watchdog gets its 5 s (killing
  // it earlier would leave its work undone), then whatever is left is killed here.
  for (const r of runs.splice(0)) {
    r.child.kill('SIGKILL');
    await r.exited;
    rmSync(r.out, { recursive: true, force: true });
    for (const p of await survivors(r.seen(), r.mark, Date.now())) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

const commands = (ps: Proc[]) => ps.map((p) => `${p.pid} ${p.command.slice(0, 160)}`).join('\n  ');

/** Sends `signal` to the harness; returns what of its run still runs 5 s later. */
async function interrupt(run: Run, signal: NodeJS.Signals): Promise<Proc[]> {
  const at = Date.now();
  run.sample();
  process.kill(run.child.pid!, signal);
  await run.exited;
  return survivors(run.seen(), run.mark, at);
}

describe.runIf(linux)('nothing a run starts outlives the harness', () => {
  it(
    'kill -9 of the harness mid-load: the nodes, the fault proxy, the PSP fakes and k6 are gone within 5 s',
    async () => {
      const run = startHarness(['load', '27', '--manifest', 'reference/27-payment-system/manifest.json']);
      // Mid-run: k6 is running against the nodes, beside the fakes' process and the fault proxy.
      const during = await waitUntil('k6 to run', timeLimit(180_000), () => {
        const ps = run.sample();
        return ps.some((p) => /\bk6\S*.* run /.test(p.command)) ? ps : null;
      });
      expect(commands(during)).toMatch(/toxiproxy-server/);
      expect(commands(during)).toMatch(/reference\/27-payment-system\/main\.ts/);
      expect(commands(during)).toMatch(/fakes-process\.ts/);
      const left = await interrupt(run, 'SIGKILL');
      expect(left, `still running ${GONE_WITHIN_MS} ms after kill -9:\n  ${commands(left)}`).toEqual([]);
    },
    timeLimit(240_000),
  );

  it.runIf(haveServices)(
    'kill -9 of the main job: its own Redis and PostgreSQL (daemonized by pg_ctl, through runuser) go too',
    async () => {
      const run = startHarness(['all', '--chapters', '09', '--profile', 'smoke'], {
        SDGRADE_DATABASE_URL: '',
        SDGRADE_REDIS_URL: '',
      });
      await waitUntil('the 09 nodes to be up', timeLimit(180_000), () =>
        /grading 09-url-shortener at/.test(run.output()),
      );
      const during = run.sample();
      expect(commands(during)).toMatch(/redis-server/);
      expect(commands(during)).toMatch(/postgres -D/);
      expect(commands(during)).toMatch(/postgres: checkpointer/);
      expect(commands(during)).toMatch(/reference\/09-url-shortener\/main\.ts/);
      const left = await interrupt(run, 'SIGKILL');
      expect(left, `still running ${GONE_WITHIN_MS} ms after kill -9:\n  ${commands(left)}`).toEqual([]);
    },
    timeLimit(240_000),
  );

  it(
    'Ctrl-C (SIGINT) mid-run: the harness exits and its nodes and proxy are gone within 5 s',
    async () => {
      const run = startHarness(['test', '05', '--manifest', 'reference/05-rate-limiter/manifest.json']);
      await waitUntil('the 05 nodes to be up', timeLimit(180_000), () =>
        /grading 05-rate-limiter at/.test(run.output()),
      );
      expect(commands(run.sample())).toMatch(/reference\/05-rate-limiter\/main\.ts/);
      const left = await interrupt(run, 'SIGINT');
      expect((await run.exited).code).toBe(130);
      expect(left, `still running ${GONE_WITHIN_MS} ms after Ctrl-C:\n  ${commands(left)}`).toEqual([]);
    },
    timeLimit(240_000),
  );

  it(
    'TERM to `npm run sdgrade` mid-run (a CI runner cancelling the job): the harness and its nodes are gone within 5 s',
    async () => {
      const run = startHarness(['test', '05', '--manifest', 'reference/05-rate-limiter/manifest.json'], {}, 'npm');
      await waitUntil('the 05 nodes to be up', timeLimit(180_000), () =>
        /grading 05-rate-limiter at/.test(run.output()),
      );
      expect(commands(run.sample())).toMatch(/bin\/sdgrade\.js test 05/);
      const left = await interrupt(run, 'SIGTERM');
      expect(left, `still running ${GONE_WITHIN_MS} ms after TERM to npm:\n  ${commands(left)}`).toEqual([]);
    },
    timeLimit(240_000),
  );

  it(
    'a run that finishes leaves nothing behind',
    async () => {
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
      expect(commands(run.seen())).toMatch(/reference\/05-rate-limiter\/main\.ts/);
      const left = await survivors(run.seen(), run.mark, Date.now());
      expect(left, `still running ${GONE_WITHIN_MS} ms after the run ended:\n  ${commands(left)}`).toEqual([]);
    },
    timeLimit(240_000),
  );
});
