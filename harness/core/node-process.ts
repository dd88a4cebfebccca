// One node process of a manifest target: started in its own process group with its output in its log, signalled,
// and waited for; ProcessTarget decides when and with what environment.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { spawnOwned } from '../tools/owned-processes.ts';
import { waitReady } from './wait-ready.ts';

export interface NodeState {
  name: string;
  port: number;
  url: string;
  dataDir: string;
  logPath: string;
  log: WriteStream;
  child: ChildProcess | null;
  exit: string | null;
  paused: boolean;
}

/** Starts the node's command and waits until its readiness path answers (or the process exits first). */
export async function launchNode(
  s: NodeState,
  cmd: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; readiness: { path?: string; timeoutMs?: number } },
): Promise<void> {
  s.log.write(`--- ${new Date().toISOString()} start ${[cmd, ...args].join(' ')}\n`);
  // The node gets its own process group, so kill -9 and SIGSTOP reach every process it started, and the group
  // dies with the harness however the harness ends (owned-processes.ts).
  const child = spawnOwned(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  s.child = child;
  s.exit = null;
  s.paused = false;
  child.stdout?.pipe(s.log, { end: false });
  child.stderr?.pipe(s.log, { end: false });
  child.on('error', (e) => {
    s.exit = `could not start: ${e.message}`;
  });
  child.on('exit', (code, signal) => {
    s.exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
    // The exit of a node that outlived close()'s wait (a very busy machine) comes after the log was ended.
    if (!s.log.writableEnded) s.log.write(`--- ${new Date().toISOString()} ${s.exit}\n`);
  });
  try {
    await waitReady(s.url + (o.readiness.path ?? '/health/ready'), {
      timeoutMs: o.readiness.timeoutMs ?? 30_000,
      abortReason: () => (s.exit ? `the process ${s.exit} (log: ${s.logPath})` : null),
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlog: ${s.logPath}`);
  }
}

/** Sends a signal to the node's whole process group; throws if the node is not running. */
export function signalNode(s: NodeState, sig: NodeJS.Signals): void {
  if (!s.child?.pid || s.exit !== null) throw new Error(`node ${s.name} is not running (${s.exit ?? 'never started'})`);
  process.kill(-s.child.pid, sig);
}

/** Resolves true once the node has exited, false if it is still running after `ms`. */
export function waitNodeExit(s: NodeState, ms: number): Promise<boolean> {
  if (s.exit !== null || !s.child) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.child!.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Whether a node of a failed start exited because its port was taken (its log says EADDRINUSE). */
export function portTakenMeanwhile(nodesDir: string): boolean {
  if (!existsSync(nodesDir)) return false;
  return readdirSync(nodesDir)
    .filter((f) => f.endsWith('.log'))
    .some((f) => /EADDRINUSE/.test(readFileSync(join(nodesDir, f), 'utf8')));
}
