// Finds a free TCP port on 127.0.0.1 by letting the kernel pick one. There is a small window before the caller
// binds it, so callers that start a child process on it retry on "address already in use".
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

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
 * A free port for a server that will be stopped and started again on it (a manifest node). Taken below the kernel's
 * range for outgoing connections (net.ipv4.ip_local_port_range), so that while the node is down no outgoing
 * connection on the machine can be given its port; random within that range, so parallel runs rarely meet.
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
    if (await canListen(port, host)) return port;
  }
  return freePort(host);
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
