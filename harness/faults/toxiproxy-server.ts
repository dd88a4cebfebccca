// Runs toxiproxy-server as a child process on a free loopback port. One server per test file (or per graded
// run) keeps runs independent: no shared state on the well-known port 8474, and nothing listens beyond 127.0.0.1.
import type { ChildProcessByStdio } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { spawnOwned, stopChild } from '../tools/owned-processes.ts';
import { findToxiproxy } from '../tools/toxiproxy.ts';
import { freePort } from './free-port.ts';
import { ToxiproxyClient } from './toxiproxy-client.ts';

export interface ToxiproxyServerOptions {
  /** toxiproxy-server binary; default: findToxiproxy({ build }) */
  binary?: string;
  /** Allow a one-time build when no binary is found (default false: starting a server should not take minutes). */
  build?: boolean;
  /** Also append the server's log to this file. */
  logFile?: string;
  /** How long to wait for the API to answer (default 10 s). */
  startTimeoutMs?: number;
  /** Seed for toxicity randomness, for reproducible partial faults. */
  seed?: number;
  /** toxiproxy's LOG_LEVEL (default "info": one line per accepted connection, useful when a fault test fails). */
  logLevel?: string;
}

export interface ToxiproxyServer {
  /** e.g. http://127.0.0.1:40123 */
  apiUrl: string;
  port: number;
  pid: number;
  binary: string;
  client: ToxiproxyClient;
  /** The captured log (the last 256 KiB). */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s). Safe to call more than once. */
  stop(): Promise<void>;
}

const LOG_CAP = 256 * 1024;
const PORT_ATTEMPTS = 3;

export async function startToxiproxyServer(opts: ToxiproxyServerOptions = {}): Promise<ToxiproxyServer> {
  const binary = opts.binary ?? (await findToxiproxy({ build: opts.build ?? false })).path;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      return await startOnPort(binary, port, opts);
    } catch (err) {
      lastError = err as Error;
      // Another process took the port between freePort() and the child's bind: try another one.
      if (!/address already in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error('toxiproxy-server did not start');
}

async function startOnPort(binary: string, port: number, opts: ToxiproxyServerOptions): Promise<ToxiproxyServer> {
  const args = ['-host', '127.0.0.1', '-port', String(port)];
  if (opts.seed !== undefined) args.push('-seed', String(opts.seed));
  // Owned: killed with the harness however it ends.
  const child = spawnOwned(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: opts.logLevel ?? process.env.LOG_LEVEL ?? 'info' },
  }) as ChildProcessByStdio<null, Readable, Readable>;

  let log = '';
  const file: WriteStream | null = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : null;
  const capture = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    log = (log + text).slice(-LOG_CAP);
    file?.write(text);
  };
  child.stdout.on('data', capture);
  child.stderr.on('data', capture);

  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= stopChild(child, 'SIGTERM', 3_000).then(
      () =>
        new Promise<void>((resolve) => {
          if (file) file.end(resolve);
          else resolve();
        }),
    );
    return stopped;
  };

  const apiUrl = `http://127.0.0.1:${port}`;
  const client = new ToxiproxyClient(apiUrl);
  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  try {
    for (;;) {
      if (spawnError) throw new Error(`could not run ${binary}: ${(spawnError as Error).message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `toxiproxy-server exited (${child.exitCode ?? child.signalCode}) before its API answered:\n${log.slice(-4000)}`,
        );
      }
      if (await client.isUp()) break;
      if (Date.now() > deadline) {
        throw new Error(`toxiproxy-server API at ${apiUrl} did not answer in time:\n${log.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    // Never leave a half-started server behind.
    await stop();
    throw err;
  }

  return { apiUrl, port, pid: child.pid ?? -1, binary, client, log: () => log, stop };
}
