// A Redis server the harness owns, for faults that need the server itself, not a link to it: pause it (SIGSTOP: its
// connections stay open and nothing is answered); take a copy of its data and later put the data back to that copy
// while its clients stay connected, so it is older than the writes it had acknowledged (as behind an address that
// fails over to a replica that lagged); or crash it and start it again on the same port, empty (no RDB, no AOF, as a
// cache-only Redis often runs: a proxy can only cut the link, never lose the data). redis-server in the foreground
// (our child, in its own group, owned: harness/tools/owned-processes.ts) on a port below the ephemeral range (so
// nothing takes it while the server is down) on 127.0.0.1.
//
//   const redis = await startPrivateRedis(serverPath);  // findOnPath('redis-server')
//   target.useDependency('redis', redis.url);  ...  await redis.snapshot(); ...  await redis.rollback();
//   ...  await redis.restart();                        // empty again
//   await redis.close();                               // stops it and removes its folder
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ownDir, spawnOwned, stopChild } from '../tools/owned-processes.ts';
import { releasePort, stablePort } from './free-port.ts';

export interface PrivateRedis {
  /** redis://127.0.0.1:<port>/0 */
  url: string;
  port: number;
  /** Keys in its database 0. */
  keyCount(): Promise<number>;
  /**
   * Copies every key of database 0 (DUMP, with its time to live): what rollback goes back to. Returns how many. Keys
   * starting with `except` (another tenant's, which a check writes itself) are not copied, and rollback leaves them be.
   */
  snapshot(options?: { except?: string }): Promise<number>;
  /** How many keys of the last snapshot have been written (or deleted) since. */
  changedSinceSnapshot(): Promise<number>;
  /**
   * Puts database 0 back to the last snapshot (RESTORE ... REPLACE, newer keys deleted but the snapshot's `except`);
   * clients stay connected. After restart() it gives the empty server the copy.
   */
  rollback(): Promise<number>;
  /** SIGSTOP / SIGCONT: connections stay open, commands wait unanswered. */
  pause(): void;
  resume(): void;
  /** Kills the server (SIGKILL) and starts it again on the same port, empty; resolves once it answers PING. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. Safe to call more than once. */
  close(): Promise<void>;
}

/** fn on a connection of its own (none of the target's). */
async function withClient<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
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
    return await fn(c);
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
  let copy = new Map<string, { value: Buffer; ttlMs: number }>();
  let except: string | undefined;
  const excepted = (key: string) => except !== undefined && key.startsWith(except);

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
      if ((await withClient(port, (r) => r.ping()).catch(() => null)) === 'PONG') return;
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
    releasePort(port);
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
    keyCount: () => withClient(port, (r) => r.dbsize()),
    snapshot: (options) =>
      withClient(port, async (r) => {
        copy = new Map();
        except = options?.except;
        for (const key of await r.keys('*')) {
          if (excepted(key)) continue;
          const value = await r.dumpBuffer(key);
          if (value) copy.set(key, { value, ttlMs: Math.max(0, await r.pttl(key)) });
        }
        return copy.size;
      }),
    changedSinceSnapshot: () =>
      withClient(port, async (r) => {
        let n = 0;
        for (const [key, { value }] of copy) if (!value.equals((await r.dumpBuffer(key)) ?? Buffer.alloc(0))) n++;
        return n;
      }),
    rollback: () =>
      withClient(port, async (r) => {
        for (const key of await r.keys('*')) if (!copy.has(key) && !excepted(key)) await r.del(key);
        for (const [key, { value, ttlMs }] of copy) await r.restore(key, ttlMs, value, 'REPLACE');
        return copy.size;
      }),
    pause() {
      child?.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child?.kill('SIGCONT');
      paused = false;
    },
    async restart() {
      await stopServer();
      await startServer();
    },
    close,
  };
}
