// A Redis server the harness owns, for faults that need the server itself, not a link to it: crash it (SIGKILL) and
// start it again on the same port. It runs without persistence (no RDB, no AOF), as a cache-only Redis often does,
// so a restart comes back empty: every key is gone, which is the fault (a proxy can only cut the link, never lose
// the data). redis-server from the PATH, in the foreground (our child, in a group of its own), on a port below the
// ephemeral range (so nothing takes it while the server is down), on 127.0.0.1.
//
//   const redis = await startPrivateRedis(server);  // server: findOnPath('redis-server')
//   target.useDependency('redis', redis.url);  ...  await redis.restart();  ...
//   await redis.close();                            // stops it and removes its folder
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownDir, spawnOwned, stopChild } from '../tools/owned-processes.ts';
import { stablePort } from './free-port.ts';

export interface PrivateRedis {
  /** redis://127.0.0.1:<port>/0 */
  url: string;
  port: number;
  /** Kills the server (SIGKILL) and starts it again on the same port, empty; resolves once it answers PING. */
  restart(): Promise<void>;
  /** The number of keys in database 0 (DBSIZE), to show a restart really emptied it. */
  keyCount(): Promise<number>;
  /** Stops it and removes its folder. Safe to call more than once. */
  close(): Promise<void>;
}

export async function startPrivateRedis(server: string): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-private-redis-'));
  const releaseDir = ownDir(dir);
  const port = await stablePort();
  let log = '';
  let child: ChildProcess | null = null;
  const startServer = async () => {
    const c = spawnOwned(
      server,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    const keep = (b: Buffer) => {
      log = (log + b.toString('utf8')).slice(-4000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const deadline = Date.now() + 20_000;
    while ((await command(port, 'PING')) !== '+PONG') {
      if (c.exitCode !== null || c.signalCode !== null || Date.now() > deadline)
        throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${log}`);
      await sleep(50);
    }
  };
  const stopServer = async () => {
    if (child) await stopChild(child, 'SIGKILL', 3_000);
    child = null;
  };
  let closed = false;
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
    async restart() {
      await stopServer();
      await startServer();
    },
    async keyCount() {
      const reply = await command(port, 'DBSIZE');
      const n = /^:(\d+)$/.exec(reply ?? '');
      if (!n) throw new Error(`DBSIZE on 127.0.0.1:${port} answered ${JSON.stringify(reply)}`);
      return Number(n[1]);
    },
    close,
  };
}

/** Sends one inline command and returns the first line of the reply, or null when the server does not answer. */
function command(port: number, cmd: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (line: string | null) => {
      socket.destroy();
      resolve(line);
    };
    socket.setTimeout(1000, () => done(null));
    socket.on('error', () => done(null));
    socket.on('connect', () => socket.write(`${cmd}\r\n`));
    socket.on('data', (c) => {
      reply += c.toString();
      const end = reply.indexOf('\r\n');
      if (end >= 0) done(reply.slice(0, end));
    });
  });
}
