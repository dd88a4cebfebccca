// The main job's etcd (chapter 20's coordination service, what its `cluster` variant runs on): the one the user names
// (SDGRADE_ETCD_URL), else a throwaway single member started here from Debian's etcd-server package (`etcd` on
// PATH) on free loopback ports in a temporary folder, as scripts/services.sh does, else none, with the reason (the
// variant is then not graded and the checks only it completes stay skipped, saying so). Owned: it ends with the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { releasePort, stablePort } from '../faults/free-port.ts';
import { findOnPath } from './find-on-path.ts';
import { ownDir, spawnOwned, stopChild } from './owned-processes.ts';

export interface MainJobEtcd {
  url: string | null;
  description: string;
  stop(): Promise<void>;
}

const noop = async () => {};

export async function mainJobEtcd(o: { embedded?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<MainJobEtcd> {
  const env = o.env ?? process.env;
  const given = env['SDGRADE_ETCD_URL']?.trim();
  if (o.embedded) return { url: null, description: 'etcd: none (--embedded)', stop: noop };
  if (given) return { url: given, description: `etcd ${given} (from SDGRADE_ETCD_URL)`, stop: noop };
  const bin = await findOnPath('etcd', env);
  if (!bin)
    return {
      url: null,
      description: 'etcd: none (SDGRADE_ETCD_URL is not set and etcd is not on PATH: install the etcd-server package)',
      stop: noop,
    };
  return startLocalEtcd(bin).catch((e: Error) => ({
    url: null,
    description: `etcd: none (SDGRADE_ETCD_URL is not set and the local etcd did not start: ${e.message.split('\n')[0]})`,
    stop: noop,
  }));
}

async function startLocalEtcd(bin: string): Promise<MainJobEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-etcd-'));
  const releaseDir = ownDir(dir);
  const [port, peerPort] = [await stablePort(), await stablePort()];
  const url = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawnOwned(
    bin,
    [
      '--name=sdgrade',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=sdgrade=${peer}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (c: Buffer) => {
    log = (log + c.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    await stopChild(child, 'SIGTERM', 3_000);
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
    releasePort(port);
    releasePort(peerPort);
  };
  const deadline = Date.now() + 30_000;
  while (!(await healthy(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not start on ${url}:\n${log}`);
    }
    await sleep(100);
  }
  return {
    url,
    description: `etcd ${url} (started by the harness from ${bin}, data in ${dir}, removed at the end)`,
    stop,
  };
}

/** Whether etcd answers GET /health with "health": "true" (HTTP/1.0 by hand: no client library needed). */
function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'));
    socket.on('data', (c) => {
      reply += c.toString();
    });
    socket.on('end', () => done(/"health"\s*:\s*"true"/.test(reply)));
  });
}
