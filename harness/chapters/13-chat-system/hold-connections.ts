// CHAT-T1/T2: open many authenticated WebSockets (one user, one device each) spread over the chat servers, and read
// the chat servers' resident memory before and after from /proc: the book's "10 KB per connection" measured. Needs
// the servers' processes on this Linux machine (a manifest target); by URL the memory is reported as not measured.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import WebSocket from 'ws';
import { onCheckStop, scopedFetch, sleep } from '../../core/check-scope.ts';
import type { Target } from '../../core/target.ts';

const BATCH = 100;

/** PID of the process listening on a local TCP port (Linux /proc), or null. */
export function pidListening(port: number): number | null {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  if (!inodes.size) return null;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(pid);
      } catch {
        /* gone */
      }
    }
  }
  return null;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function post(
  base: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; json: { token?: string } | null }> {
  const res = await scopedFetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

export interface Held {
  held: number;
  failed: number;
  bytesPerConnection: number | null;
  note: string;
}

export async function holdConnections(target: Target, n: number, log: (l: string) => void): Promise<Held> {
  const base = target.nodeUrl();
  const username = `hold${Date.now().toString(36)}`;
  const password = 'hold-password';
  const u = await post(base, '/api/v1/users', { username, password });
  if (u.status !== 201) throw new Error(`sign-up answered ${u.status}`);
  const tokens: string[] = [];
  for (let i = 0; i < n; i += BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(BATCH, n - i) }, (_, k) =>
        post(base, '/api/v1/sessions', { username, password, deviceId: `d${i + k}` }),
      ),
    );
    for (const s of batch) if (s.status === 201 && s.json?.token) tokens.push(s.json.token);
  }
  const d = await scopedFetch(`${base}/api/v1/chat-server`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  const disc = (await d.json()) as { server: { url: string }; alternatives: { url: string }[] };
  const urls = [disc.server, ...disc.alternatives].map((s) => s.url);
  const pids = target.mode === 'manifest' ? urls.map((x) => pidListening(Number(new URL(x).port))) : [];
  const measurable = pids.length > 0 && pids.every((p) => p !== null);
  const before = measurable ? pids.map((p) => rssBytes(p!)) : [];

  const sockets: WebSocket[] = [];
  // A check stopped at its time limit closes what it opened instead of leaving thousands of sockets behind.
  const unsubscribe = onCheckStop(() => {
    unsubscribe();
    for (const s of sockets) s.terminate();
  });
  let failed = 0;
  for (let i = 0; i < tokens.length; i += BATCH) {
    const opened = await Promise.all(
      tokens.slice(i, i + BATCH).map(
        (token, k) =>
          new Promise<WebSocket | null>((resolve) => {
            const ws = new WebSocket(urls[(i + k) % urls.length]!);
            const timer = setTimeout(() => {
              ws.terminate();
              resolve(null);
            }, 10_000);
            ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
            ws.on('message', (data) => {
              if (JSON.parse(String(data)).type === 'authenticated') {
                clearTimeout(timer);
                resolve(ws);
              }
            });
            ws.on('error', () => {
              clearTimeout(timer);
              resolve(null);
            });
          }),
      ),
    );
    for (const ws of opened) if (ws) sockets.push(ws);
    failed += opened.filter((x) => !x).length;
  }
  await sleep(1000);
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  const after = measurable ? pids.map((p) => rssBytes(p!)) : [];
  unsubscribe();
  for (const s of sockets) s.terminate();
  const growth = after.reduce((a, x, i) => a + (x - before[i]!), 0);
  // RSS can fall while connections are held (a GC returned pages to the system): then there is no figure, only noise.
  const grew = growth > 0;
  const perConn = measurable && open > 0 && grew ? Math.round(growth / open) : null;
  const note = !measurable
    ? 'memory not measured: the chat servers are not processes of this machine the harness can find (give a manifest)'
    : grew
      ? `${open} connections over ${urls.length} chat servers; RSS grew ${(growth / 1048576).toFixed(1)} MiB in all`
      : `memory not measured: the chat servers' RSS fell by ${(-growth / 1048576).toFixed(1)} MiB while ${open} ` +
        'connections were held (a GC returned memory to the system), so a per-connection figure would be noise';
  log(`held ${open} connections (${failed} failed); ${note}`);
  return { held: open, failed: failed + (n - tokens.length), bytesPerConnection: perConn, note };
}
