// Runs one k6 test and collects its machine-readable summary, its standalone HTML dashboard and its output.
// Everything k6 does here stays on this machine: usage reports off, no outputs (-o / K6_OUT / cloud) passed except
// a local file a caller asks for (extraArgs, e.g. the samples of an execution segment), its REST API off, and the
// dashboard's web server bound to a random 127.0.0.1 port.
import type { ChildProcessByStdio } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { findK6 } from '../tools/k6.ts';
import { spawnOwned, stopChild } from '../tools/owned-processes.ts';
import { type K6Summary, parseK6Summary } from './k6-summary.ts';

export type { K6Summary } from './k6-summary.ts';
export { extractScenario, parseK6Summary, type ScenarioResult } from './k6-summary.ts';

/** Trend stats every run exports: extractScenario and the reports rely on these. */
export const SUMMARY_TREND_STATS = 'avg,min,med,max,p(50),p(90),p(95),p(99),p(99.9)';

export interface RunK6Options {
  /** Path of the k6 script. */
  script: string;
  /** Passed to the script as __ENV (with -e); the process environment is not exposed to the script. */
  env: Record<string, string>;
  /** Where the summary, dashboard and output log are written (created if needed). */
  outDir: string;
  /** k6 binary; default: findK6({ build: false }). */
  k6?: string;
  /** Progress lines ("running (05.0s), 10/10 VUs, ...") and k6's warnings/errors, as they come. */
  onProgress?: (line: string) => void;
  /** Kill k6 after this long (default 15 minutes). */
  timeoutMs?: number;
  /** More `k6 run` flags, before the script (e.g. --execution-segment and a local --out csv=<file>). */
  extraArgs?: string[];
}

export interface RunK6Result {
  exitCode: number;
  /** False when k6 exited 99 (thresholds crossed) or the summary has a threshold that is not ok. */
  thresholdsPassed: boolean;
  /** What the exit code means. */
  exitMeaning: string;
  summary: K6Summary;
  summaryPath: string;
  /** Standalone HTML report, or null when k6 did not write one (a run shorter than ~2 s has too little data). */
  dashboardPath: string | null;
  /** k6's stdout and stderr, interleaved. */
  stdoutPath: string;
}

/** k6's documented exit codes (go.k6.io/k6/errext/exitcodes). */
export const K6_EXIT_CODES: Readonly<Record<number, string>> = {
  0: 'ok',
  97: 'cloud test run failed',
  98: 'cloud: failed to get progress',
  99: 'thresholds crossed',
  100: 'setup() timed out',
  101: 'teardown() timed out',
  102: 'timeout',
  103: 'stopped from the REST API',
  104: 'invalid configuration',
  105: 'aborted by a signal',
  106: 'cannot start the REST API',
  107: 'exception in the script',
  108: 'aborted by test.abort()',
  109: 'Go panic',
  110: 'test marked as failed',
};

// Dashboard period: the exporter writes a report only with >= 2 snapshots, and the default period is 10 s, so a
// short run would get none. It scales the period up itself for long runs (max ~2880 points).
const DASHBOARD_PERIOD = '1s';

/** Environment for the k6 process: ours plus the caller's, minus any inherited K6_* that could add an output. */
function k6ProcessEnv(dashboardPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // K6_OUT, K6_CLOUD_TOKEN, K6_WEB_DASHBOARD_*, ...: k6's config comes from this module only.
    if (!k.toUpperCase().startsWith('K6_')) env[k] = v;
  }
  return {
    ...env,
    K6_NO_USAGE_REPORT: 'true',
    K6_WEB_DASHBOARD: 'true',
    K6_WEB_DASHBOARD_EXPORT: dashboardPath,
    // Port 0 on 127.0.0.1: any free loopback port (parallel runs never collide). Do NOT use port -1 to "disable"
    // it: in dashboard v0.8 that makes it listen on a random port on ALL interfaces.
    K6_WEB_DASHBOARD_HOST: '127.0.0.1',
    K6_WEB_DASHBOARD_PORT: '0',
    K6_WEB_DASHBOARD_OPEN: 'false',
    K6_WEB_DASHBOARD_PERIOD: DASHBOARD_PERIOD,
  };
}

const PROGRESS_LINE = /^running \(|\[\s*\d+%\s*\]|level=(warning|error)|^ERRO|^WARN/;

async function nonEmptyFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}

export async function runK6(opts: RunK6Options): Promise<RunK6Result> {
  const k6 = opts.k6 ?? (await findK6({ build: false })).path;
  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  const summaryPath = join(outDir, 'k6-summary.json');
  const dashboardPath = join(outDir, 'k6-dashboard.html');
  const stdoutPath = join(outDir, 'k6-output.log');
  // Stale files from an earlier run in the same folder must not pass for this run's results.
  await Promise.all([summaryPath, dashboardPath].map((p) => rm(p, { force: true })));

  const args = [
    'run',
    '--no-usage-report',
    // Empty address = no REST API server (it would otherwise listen on localhost:6565, a fixed port).
    '--address=',
    '--no-color',
    // The script sees only the -e values we pass, not this process's environment.
    '--include-system-env-vars=false',
    `--summary-export=${summaryPath}`,
    `--summary-trend-stats=${SUMMARY_TREND_STATS}`,
  ];
  for (const [k, v] of Object.entries(opts.env)) args.push('-e', `${k}=${v}`);
  args.push(...(opts.extraArgs ?? []));
  args.push(resolve(opts.script));

  const log = createWriteStream(stdoutPath);
  // Owned: killed with the harness however it ends.
  const child = spawnOwned(k6, args, {
    cwd: outDir,
    env: k6ProcessEnv(dashboardPath),
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcessByStdio<null, Readable, Readable>;

  const forward = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (!opts.onProgress) return;
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const trimmed = line.trim();
        if (trimmed && PROGRESS_LINE.test(trimmed)) opts.onProgress(trimmed);
      }
    });
  };
  forward(child.stdout);
  forward(child.stderr);

  const timeoutMs = opts.timeoutMs ?? 15 * 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // SIGINT lets k6 stop VUs and still write what it has; SIGKILL 5 s later if it does not.
    void stopChild(child, 'SIGINT', 5_000);
  }, timeoutMs);

  const exitCode = await new Promise<number>((res, rej) => {
    child.once('error', (err) => rej(new Error(`could not run ${k6}: ${err.message}`)));
    child.once('close', (code, signal) => res(code ?? (signal ? 128 : -1)));
  }).finally(() => clearTimeout(timer));
  await new Promise<void>((r) => log.end(r));

  const exitMeaning = K6_EXIT_CODES[exitCode] ?? `exit code ${exitCode}`;
  if (timedOut) throw new Error(`k6 did not finish within ${timeoutMs} ms and was killed; output: ${stdoutPath}`);

  let summaryText: string;
  try {
    summaryText = await readFile(summaryPath, 'utf8');
  } catch {
    const tail = (await readFile(stdoutPath, 'utf8')).trim().split('\n').slice(-20).join('\n');
    throw new Error(
      `k6 exited with ${exitCode} (${exitMeaning}) without writing a summary; output ${stdoutPath}:\n${tail}`,
    );
  }
  const summary = parseK6Summary(summaryText);
  const thresholdsPassed = exitCode !== 99 && summary.thresholds.every((t) => t.ok);
  return {
    exitCode,
    thresholdsPassed,
    exitMeaning,
    summary,
    summaryPath,
    dashboardPath: (await nonEmptyFile(dashboardPath)) ? dashboardPath : null,
    stdoutPath,
  };
}
