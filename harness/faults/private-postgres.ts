// A PostgreSQL cluster the harness owns, for faults that need the server itself, not a link to it: crash it
// (`pg_ctl stop -m immediate`: no checkpoint, no goodbye to clients, recovery from the WAL on the next start) and
// start it again on the same port and data; or drop the connections inside writing transactions
// (`pg_terminate_backend`). Built from the installed server's binaries (Debian:
// /usr/lib/postgresql/<version>/bin), initdb'd into a temporary folder, on a free port on 127.0.0.1 below the
// ephemeral range (so nothing takes it while the server is down), trust authentication for the user postgres.
// As root the server runs as the `postgres` user (PostgreSQL refuses root), through runuser.
//
//   const pg = await startPrivatePostgres();          // throws PostgresMissing when there are no binaries
//   target.useDependency('database', pg.url);  ...  await pg.crash();  ...  await pg.start();
//   await pg.close();                                  // stops it and removes its folder
// The cluster and its folder are owned (harness/tools/owned-processes.ts): if the harness dies, even by SIGKILL,
// its watchdog stops the server (pg_ctl daemonizes it: it is not our child) and removes the folder.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { execOwned, ownDir, ownPostgres } from '../tools/owned-processes.ts';
import { releasePort, stablePort } from './free-port.ts';

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
  /**
   * Drops every client connection that is inside a transaction which has written or locked rows (it has a
   * transaction ID), with pg_terminate_backend: those transactions roll back and their clients see the connection
   * end mid-transaction. Returns how many were terminated.
   */
  terminateWriting(): Promise<number>;
  /**
   * Gathers every table's planner statistics now (ANALYZE), as autovacuum does on its own within a minute of enough
   * changes: the plans a busy database runs, without waiting for them.
   */
  analyze(): Promise<void>;
  /** Deadlocks the server has detected (and aborted a transaction for) since it was made. */
  deadlocks(): Promise<number>;
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
  const releaseDir = ownDir(dir);
  const releaseServer = ownPostgres(dataDir);
  const discard = () => {
    releaseServer();
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  };
  const logFile = join(dir, 'server.log');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  // As root: the same command as the postgres user.
  const as = (cmd: string, args: string[]) =>
    execOwned(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { timeoutMs: 60_000 });
  const pgCtl = join(bin, 'pg_ctl');
  try {
    await as(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (e) {
    discard();
    throw new Error(`initdb failed: ${(e as { stderr?: string }).stderr || (e as Error).message}`);
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
  };
  try {
    await startServer();
  } catch (e) {
    await as(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => undefined);
    discard();
    releasePort(port);
    throw new Error(
      `the private PostgreSQL did not start: ${(e as { stderr?: string }).stderr || (e as Error).message}`,
    );
  }
  let closed = false;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dataDir,
    logFile,
    get running() {
      return running;
    },
    async crash() {
      await as(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']);
      running = false;
    },
    start: startServer,
    async terminateWriting() {
      const rows = await queryOnce<{ n: string }>(
        url,
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
         WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND backend_xid IS NOT NULL`,
      );
      return Number(rows[0]?.n ?? 0);
    },
    async analyze() {
      await queryOnce(url, 'ANALYZE');
    },
    async deadlocks() {
      // The statistics collector's view lags a commit by a moment; the figure is evidence, not a verdict.
      const rows = await queryOnce<{ n: string }>(url, 'SELECT coalesce(sum(deadlocks), 0) AS n FROM pg_stat_database');
      return Number(rows[0]?.n ?? 0);
    },
    async close() {
      if (closed) return;
      closed = true;
      await as(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => undefined);
      running = false;
      discard();
      releasePort(port);
    },
  };
}

/** One statement on a connection of its own, closed after. */
async function queryOnce<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'sdgrade-harness-fault' });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
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
