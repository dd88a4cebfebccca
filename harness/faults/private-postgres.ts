// A PostgreSQL cluster the harness owns, for faults that need the server itself, not a link to it: crash it
// (`pg_ctl stop -m immediate`: no checkpoint, no goodbye to clients, recovery from the WAL on the next start) and
// start it again on the same port and data. Built from the installed server's binaries (Debian:
// /usr/lib/postgresql/<version>/bin), initdb'd into a temporary folder, on a free port on 127.0.0.1 below the
// ephemeral range (so nothing takes it while the server is down), trust authentication for the user postgres.
// As root the server runs as the `postgres` user (PostgreSQL refuses root), through runuser.
//
//   const pg = await startPrivatePostgres();          // throws PostgresMissing when there are no binaries
//   target.useDependency('database', pg.url);  ...  await pg.crash();  ...  await pg.start();
//   await pg.close();                                  // stops it and removes its folder
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stablePort } from './free-port.ts';

const run = promisify(execFile);

export class PostgresMissing extends Error {}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** The server's own log (initdb's and every start's). */
  logFile: string;
  /** Whether the server is up (as far as this handle knows). */
  readonly running: boolean;
  /** Kills the server as a crash would: `pg_ctl stop -m immediate`. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections (after recovery). */
  start(): Promise<void>;
  /** Stops it and removes its data. Safe to call more than once. */
  close(): Promise<void>;
}

/** The newest installed PostgreSQL's bin folder with initdb and pg_ctl, or null. */
export function findPostgresBin(root = '/usr/lib/postgresql'): string | null {
  const fromEnv = process.env['SDGRADE_PG_BIN'];
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : null;
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

// Clusters still running when the harness exits are stopped with it (pg_ctl daemonizes the server: it is not our
// child, so nothing else would).
const live = new Map<string, () => void>();
process.on('exit', () => {
  for (const stop of live.values()) stop();
});

export async function startPrivatePostgres(o: { bin?: string } = {}): Promise<PrivatePostgres> {
  const bin = o.bin ?? findPostgresBin();
  if (!bin) {
    throw new PostgresMissing(
      'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; install the postgresql package or set SDGRADE_PG_BIN',
    );
  }
  const root = process.getuid?.() === 0;
  const owner = root ? idsOf('postgres') : null;
  if (root && !owner) throw new PostgresMissing('running as root, and there is no postgres user to run the server as');
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  // As root: the same command as the postgres user.
  const as = (cmd: string, args: string[]) =>
    run(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { timeout: 60_000 });
  const pgCtl = join(bin, 'pg_ctl');
  try {
    await as(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
  const port = await stablePort();
  let running = false;
  const startServer = async () => {
    await as(pgCtl, [
      '-D',
      dataDir,
      '-l',
      logFile,
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=50`,
      'start',
    ]);
    running = true;
    live.set(dataDir, stopNow);
  };
  // Synchronous, for the exit hook.
  function stopNow(): void {
    try {
      const args = ['-D', dataDir, '-m', 'immediate', 'stop'];
      execFileSync(root ? 'runuser' : pgCtl, root ? ['-u', 'postgres', '--', pgCtl, ...args] : args, {
        stdio: 'ignore',
        timeout: 10_000,
      });
    } catch {
      /* not running */
    }
  }
  try {
    await startServer();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `the private PostgreSQL did not start: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`,
    );
  }
  let closed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    logFile,
    get running() {
      return running;
    },
    async crash() {
      await as(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']);
      running = false;
      live.delete(dataDir);
    },
    start: startServer,
    async close() {
      if (closed) return;
      closed = true;
      live.delete(dataDir);
      await as(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function idsOf(user: string): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}
