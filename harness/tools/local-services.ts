// The main job's PostgreSQL and Redis: the ones the user names (SDGRADE_DATABASE_URL / SDGRADE_REDIS_URL), else
// throwaway servers started here from the installed Debian packages (redis-server on PATH, PostgreSQL under
// /usr/lib/postgresql/*/bin) on free loopback ports in a temporary folder, as scripts/services.sh does, else the
// embedded defaults with the reason. The servers are owned (owned-processes.ts): they end with the run, however it
// ends. `embedded` forces the embedded defaults.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEPENDENCY_ENV, type DependencyKind, redactUrl } from '../containers/dependencies.ts';
import { releasePort, stablePort } from '../faults/free-port.ts';
import { findPostgresBin, startPrivatePostgres } from '../faults/private-postgres.ts';
import { findOnPath } from './find-on-path.ts';
import { ownDir, spawnOwned, stopChild } from './owned-processes.ts';

export interface MainJobService {
  kind: DependencyKind;
  source: 'env' | 'local' | 'embedded';
  /** The URL the chapters use; null when embedded. */
  url: string | null;
  /** One line for the output and the report's environment, e.g. "local redis-server 7.0.15 on 127.0.0.1:40123 ...". */
  description: string;
  stop(): Promise<void>;
}

const LABEL: Record<DependencyKind, string> = { postgres: 'PostgreSQL', redis: 'Redis' };
const noop = async () => {};

/** Where each of the main job's dependencies comes from, starting local servers where that is how. */
export async function mainJobServices(
  o: { embedded?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<Record<DependencyKind, MainJobService>> {
  const env = o.env ?? process.env;
  const out = {} as Record<DependencyKind, MainJobService>;
  for (const kind of ['postgres', 'redis'] as const) {
    const variable = DEPENDENCY_ENV[kind];
    const given = env[variable]?.trim();
    if (o.embedded) {
      out[kind] = embedded(kind, '--embedded');
    } else if (given) {
      out[kind] = {
        kind,
        source: 'env',
        url: given,
        description: `${redactUrl(given)} (from ${variable})`,
        stop: noop,
      };
    } else {
      // A server that is installed but will not start does not stop the main job: it grades embedded, saying why.
      out[kind] = await startLocal(kind).catch((e: Error) =>
        embedded(kind, `${variable} is not set and the local server did not start: ${e.message.split('\n')[0]}`),
      );
    }
  }
  return out;
}

function embedded(kind: DependencyKind, why: string): MainJobService {
  return { kind, source: 'embedded', url: null, description: `embedded default (${why})`, stop: noop };
}

async function startLocal(kind: DependencyKind): Promise<MainJobService> {
  const variable = DEPENDENCY_ENV[kind];
  if (kind === 'postgres') {
    const bin = findPostgresBin();
    if (!bin) {
      return embedded(
        kind,
        `${variable} is not set and no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install the postgresql package`,
      );
    }
    const pg = await startPrivatePostgres({ bin });
    return {
      kind,
      source: 'local',
      url: pg.url,
      description: `${pg.url} (started by the harness from ${bin}, data in ${pg.dataDir}, removed at the end)`,
      stop: () => pg.close(),
    };
  }
  const server = await findOnPath('redis-server');
  if (!server) {
    return embedded(kind, `${variable} is not set and redis-server is not on PATH: install the redis-server package`);
  }
  return startLocalRedis(server);
}

/** redis-server in the foreground (so it is our child, in its own group), no persistence, on a free port. */
async function startLocalRedis(server: string): Promise<MainJobService> {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-redis-'));
  const releaseDir = ownDir(dir);
  const port = await stablePort();
  const child = spawnOwned(
    server,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
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
  };
  const deadline = Date.now() + 20_000;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${log}`);
    }
    await sleep(100);
  }
  const url = `redis://127.0.0.1:${port}/0`;
  return { kind: 'redis', source: 'local', url, description: `${url} (started by the harness from ${server})`, stop };
}

/** Whether a Redis server answers PING on the port (inline command, no client library needed). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (c) => {
      reply += c.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** "PostgreSQL: <description>" */
export function describeService(s: MainJobService): string {
  return `${LABEL[s.kind]}: ${s.description}`;
}
