// A Redis server the harness owns, for faults that need the server itself, not a link to it: pause it (SIGSTOP: its
// connections stay open and nothing is answered), snapshot it (SAVE), crash it (SIGKILL) and start it again on the
// same port from its last snapshot, so it comes back older than the writes it had taken (as Redis does after a
// restart from RDB, or a failover to a replica that lagged). redis-server in the foreground (our child, in its own
// group, owned: harness/tools/owned-processes.ts) on a stable free port on 127.0.0.1, no automatic snapshots, no AOF.
//
//   const redis = await startPrivateRedis(serverPath);  // findOnPath('redis-server')
//   target.useDependency('redis', redis.url);  ...  await redis.snapshot(); ...  await redis.crash(); await redis.start();
//   await redis.close();                               // stops it and removes its folder
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ownDir, spawnOwned, stopChild } from '../tools/owned-processes.ts';
import { stablePort } from './free-port.ts';

export interface PrivateRedis {
  /** redis://127.0.0.1:<port>/0 */
  url: string;
  port: number;
  /** Keys in its database 0. */
  keyCount(): Promise<number>;
  /** Writes a snapshot (SAVE): what a restart comes back with. */
  snapshot(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open, commands wait unanswered. */
  pause(): void;
  resume(): void;
  /** SIGKILL: gone without a goodbye, nothing saved since the last snapshot. */
  crash(): Promise<void>;
  /** Starts it again on the same port and folder (loading the last snapshot); resolves once it answers. */
  start(): Promise<void>;
  /** Stops it and removes its folder. Safe to call more than once. */
  close(): Promise<void>;
}

/** One command on a connection of its own (none of the target's). */
async function command(port: number, ...args: string[]): Promise<unknown> {
  const c = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 10_000,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    return await c.call(args[0]!, ...args.slice(1));
  } finally {
    c.disconnect();
  }
}

export async function startPrivateRedis(server: string): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-redis-'));
  const releaseDir = ownDir(dir);
  const port = await stablePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  let child: ChildProcess | undefined;
  let log = '';
  let paused = false;
  let closed = false;

  const stopServer = async () => {
    if (!child) return;
    if (paused) child.kill('SIGCONT');
    paused = false;
    await stopChild(child, 'SIGKILL', 3_000);
    child = undefined;
  };
  const startServer = async () => {
    const c = spawnOwned(server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const keep = (b: Buffer) => {
      log = (log + b.toString('utf8')).slice(-4000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if ((await command(port, 'PING').catch(() => null)) === 'PONG') return;
      if (c.exitCode !== null || c.signalCode !== null || Date.now() > deadline)
        throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${log}`);
      await sleep(50);
    }
  };
  const close = async () => {
    if (closed) return;
    closed = true;
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  };

  try {
    await startServer();
  } catch (e) {
    await close();
    throw e;
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    keyCount: async () => Number(await command(port, 'DBSIZE')),
    snapshot: async () => {
      await command(port, 'SAVE');
    },
    pause() {
      child?.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child?.kill('SIGCONT');
      paused = false;
    },
    crash: stopServer,
    start: startServer,
    close,
  };
}
