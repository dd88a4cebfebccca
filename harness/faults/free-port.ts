// Free TCP ports on 127.0.0.1: any port the kernel picks (freePort), or a port kept for a server that restarts on it
// (stablePort). There is a small window before the caller binds it, so callers that start a child process on it
// retry on "address already in use".
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/**
 * A free port for a server that will be stopped and started again on it (a manifest node, a private PostgreSQL).
 * Taken below the kernel's range for outgoing connections (net.ipv4.ip_local_port_range), so that while the server
 * is down no outgoing connection on the machine can be given its port; random within that range, and reserved for
 * this process until `releasePort` (or this process's end), so that another sdgrade process running beside it
 * (vitest's workers, a second run) does not pick it while the server is down for a restart: a CI run lost a
 * mutant's verdict when a node restarted after kill -9 found its port taken.
 */
export async function stablePort(host = '127.0.0.1'): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the IANA default's start
  }
  const from = Math.max(1024, Math.min(20_000, low - 4096));
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (reservedByAnother(port)) continue;
    if ((await canListen(port, host)) && reserve(port)) return port;
  }
  return freePort(host);
}

/** The folder of port reservations shared by every sdgrade process of this user: one file per port, its owner's pid. */
export const reservationsDir = (): string => join(tmpdir(), `sdgrade-ports-${process.getuid?.() ?? 'user'}`);

/** Gives up this process's reservation of `port` (its server is stopped for good). */
export function releasePort(port: number): void {
  const file = join(reservationsDir(), String(port));
  try {
    if (Number(readFileSync(file, 'utf8')) === process.pid) unlinkSync(file);
  } catch {
    // not reserved, or reserved by another process: nothing to give up
  }
}

/** Whether a live process other than this one holds `port`; a dead owner's reservation is removed. */
function reservedByAnother(port: number): boolean {
  const file = join(reservationsDir(), String(port));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (text === '') return true; // being written by its owner this moment
  const owner = Number(text);
  if (owner === process.pid) return true; // this process's own server, down for a restart
  if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
    try {
      unlinkSync(file);
    } catch {
      // removed meanwhile by another process
    }
    return false;
  }
  return true;
}

/** Creates the reservation, atomically: false when another process made it first. */
function reserve(port: number): boolean {
  try {
    mkdirSync(reservationsDir(), { recursive: true });
    writeFileSync(join(reservationsDir(), String(port)), String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Whether something accepts a TCP connection on 127.0.0.1:port now (a server started in the background is up). */
export function acceptsOnLoopback(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
