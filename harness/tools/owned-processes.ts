// Nothing a run starts may outlive it, however it ends: normal exit, Ctrl-C, a test time-out, or kill -9 of the
// harness. Exit hooks cannot run on SIGKILL, so every process is started here, in a process group of its own, and
// recorded in a registry file; a tiny detached watchdog (owned-processes-watchdog.mjs) holds the read end of a pipe
// whose only writer is this process. When this process is gone, for whatever reason, the kernel closes the pipe and
// the watchdog kills every recorded group, stops every recorded PostgreSQL cluster (pg_ctl daemonizes it: it is in
// no group of ours) and removes the recorded temporary folders.
//
//   const child = spawnOwned(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });   // like spawn, in its own group
//   const { stdout } = await execOwned(cmd, args, { timeoutMs: 60_000 });          // like execFile
//   const release = ownPostgres(dataDir);  ...  release();                          // once it is stopped
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Registry {
  /** Process group ids (= the leader's pid) of children we started and have not seen exit. */
  groups: number[];
  /** Data folders of PostgreSQL clusters that may be running (their postmaster.pid names the server). */
  postgres: string[];
  /** Folders to remove once the processes are gone. */
  dirs: string[];
}

const WATCHDOG = fileURLToPath(new URL('./owned-processes-watchdog.mjs', import.meta.url));
const groups = new Set<number>();
const postgres = new Set<string>();
const dirs = new Set<string>();
let registryFile: string | null = null;
let watchdog: ChildProcess | null = null;

/** Starts the watchdog once per process, on the first registration. */
function ensureWatchdog(): void {
  if (registryFile) return;
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-owned-'));
  registryFile = join(dir, 'registry.json');
  save();
  // Detached (its own session): Ctrl-C in the terminal does not reach it, and it outlives us by design. Plain
  // JavaScript without tsx, so it is running within milliseconds. Its stdin is the pipe it watches.
  watchdog = spawn(process.execPath, [WATCHDOG, registryFile], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', () => {
    /* exit hooks remain; nothing better to do */
  });
  // Neither the watchdog nor its pipe may keep this process alive.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  process.once('exit', killOwnedNow);
}

/** Written synchronously on every change, so the file is current whenever this process dies. */
function save(): void {
  if (!registryFile) return;
  const state: Registry = { groups: [...groups], postgres: [...postgres], dirs: [...dirs] };
  const tmp = `${registryFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, registryFile);
}

/**
 * Like child_process.spawn, but the child leads a process group of its own (so a signal to the group reaches
 * everything it starts, and Ctrl-C in a terminal reaches only the harness, which then stops it), and that group is
 * killed when this process ends in any way, unless it has exited first.
 */
export function spawnOwned(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  ensureWatchdog();
  const child = spawn(cmd, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid) {
    groups.add(pid);
    save();
    child.once('exit', () => {
      // The leader is gone; anything it left in its group dies with the group now rather than at our exit.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* the group is empty */
      }
      groups.delete(pid);
      save();
    });
  }
  return child;
}

export interface ExecOwnedError extends Error {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Like execFile (output as text, rejects on a non-zero exit), through spawnOwned; killed after timeoutMs. */
export function execOwned(
  cmd: string,
  args: readonly string[],
  o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnOwned(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(o.env ? { env: o.env } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    let timedOut = false;
    const timer = o.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        }, o.timeoutMs)
      : null;
    const fail = (message: string, code: number | null) =>
      reject(Object.assign(new Error(message), { stdout, stderr, code }) as ExecOwnedError);
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      fail(`could not run ${cmd}: ${e.message}`, null);
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else
        fail(
          `${cmd} ${timedOut ? `was killed after ${o.timeoutMs} ms` : signal ? `was killed by ${signal}` : `exited with ${code}`}`,
          code,
        );
    });
  });
}

/** Records a PostgreSQL data folder whose server must be stopped if this process dies; call the result once it is. */
export function ownPostgres(dataDir: string): () => void {
  ensureWatchdog();
  postgres.add(dataDir);
  save();
  return () => {
    if (postgres.delete(dataDir)) save();
  };
}

/** Records a folder to remove if this process dies before it does; call the result once it is removed. */
export function ownDir(dir: string): () => void {
  ensureWatchdog();
  dirs.add(dir);
  save();
  return () => {
    if (dirs.delete(dir)) save();
  };
}

/** The process group ids currently owned (for tests and diagnostics). */
export function ownedGroups(): number[] {
  return [...groups];
}

/**
 * Synchronous, for the 'exit' hook: kills every owned group and asks every owned PostgreSQL to shut down at once
 * (SIGQUIT). The watchdog, which notices our exit a moment later, escalates and removes the folders.
 */
export function killOwnedNow(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const dataDir of postgres) {
    const pid = postmasterPid(dataDir);
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* already gone */
      }
    }
  }
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Sends `signal` to the child, then SIGKILL if it has not exited after `graceMs`. Resolves once it has. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (!child.kill(signal)) {
      // Could not signal it (already gone): 'exit' may never come, so do not wait for it.
      clearTimeout(timer);
      resolve();
    }
  });
}
