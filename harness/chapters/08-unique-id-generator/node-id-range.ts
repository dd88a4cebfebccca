// Part of UID-F3: a node ID outside 0..31 is a misconfiguration the node must refuse at start-up (the spec README:
// "a value outside 0..31 refuses to start (exit 2, a message naming the variable)"). A node that accepts 32 carries
// it into the field above (datacenter 32 is timestamp + 1 ms), where its IDs can collide with another node's.
// The harness starts one more process of the manifest's first node with DATACENTER_ID=32, then with MACHINE_ID=32,
// on a port and a data directory of its own, and watches whether it exits (with 2) or becomes ready. Found by a
// blind bug (node-id-32-accepted: the range checked against 2^5, not 2^5 - 1).
//
// The process gets the environment the running node was given (read from /proc where the harness can: it carries
// what the run adds to the manifest, a variant's settings or MUTANT), with its port and data directory swapped for
// fresh ones; elsewhere the manifest's own environment.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import { fillPlaceholders, loadManifest } from '../../core/manifest.ts';

/** The node-ID variables the spec names, each set one past its 5-bit range. */
const OUT_OF_RANGE: readonly [string, string][] = [
  ['DATACENTER_ID', '32'],
  ['MACHINE_ID', '32'],
];
const DEFAULT_READY_MS = 30_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The environment of the running process whose environment holds `dataDir` (the node's ${dataDir}), or null. */
function runningNodeEnv(dataDir: string): Record<string, string> | null {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return null;
  }
  for (const pid of pids) {
    let raw: string;
    try {
      raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue;
    }
    const entries = raw.split('\0').filter(Boolean);
    if (!entries.some((e) => e.slice(e.indexOf('=') + 1) === dataDir)) continue;
    return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  }
  return null;
}

/** Checks that the first node refuses to start with each node ID one past its range. */
export async function outOfRangeNodeIdsRefused(ctx: CheckContext): Promise<void> {
  const file = ctx.target.manifestFile;
  if (ctx.target.mode !== 'manifest' || !file || !ctx.target.dataDir) {
    ctx.evidence['outOfRangeNodeIds'] = 'not tried: starting a misconfigured node needs a manifest';
    return;
  }
  const m = loadManifest(file);
  const spec = m.nodes[0]!;
  const runningDir = ctx.target.dataDir(spec.name);
  const runningPort = new URL(ctx.target.nodeUrl(spec.name)).port;
  const readyPath = m.readiness?.path ?? '/health/ready';
  const boundMs = m.readiness?.timeoutMs ?? DEFAULT_READY_MS;
  const deps = Object.fromEntries(
    Object.entries(m.dependencies ?? {}).map(([k, d]) => [
      k,
      fillPlaceholders(d.url, { port: 0, host: '', dataDir: '', url: '', name: k, peers: '', deps: {} }),
    ]),
  );
  const seen: Record<string, string> = {};
  for (const [name, value] of OUT_OF_RANGE) {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'sdgrade-08-node-id-'));
    const values = {
      port,
      host: '127.0.0.1',
      dataDir,
      url: `http://127.0.0.1:${port}`,
      name: `${spec.name}-${name.toLowerCase()}-${value}`,
      peers: '',
      deps,
    };
    const fromProc = runningNodeEnv(runningDir);
    const env: Record<string, string> = {};
    if (fromProc) {
      for (const [k, v] of Object.entries(fromProc))
        env[k] = v === runningPort ? String(port) : v.split(runningDir).join(dataDir);
    } else {
      Object.assign(env, process.env);
      for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = fillPlaceholders(v, values);
    }
    env[name] = value;
    const [cmd, ...args] = spec.command.map((a) => fillPlaceholders(a, values));
    const child = spawn(cmd!, args, { cwd: m.workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    let exit: number | null | undefined;
    const exited = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        exit = code ?? (signal ? -1 : null);
        resolve();
      });
      child.on('error', () => {
        exit = -1;
        resolve();
      });
    });
    const started = performance.now();
    let ready = false;
    try {
      while (exit === undefined && performance.now() - started < boundMs) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}${readyPath}`, { signal: AbortSignal.timeout(1000) });
          await r.arrayBuffer();
          if (r.status === 200) {
            ready = true;
            break;
          }
        } catch {
          // not listening yet
        }
        await ctx.sleep(100);
      }
    } finally {
      if (exit === undefined) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
    const what = `the first node started with ${name}=${value}`;
    seen[name] = ready ? 'started' : exit === undefined ? 'no answer' : `exit ${exit}`;
    ctx.expect(!ready, `${what} became ready: a node ID outside 0..31 must refuse to start (exit 2)`);
    if (ready) continue;
    ctx.expect(
      exit !== undefined,
      `${what} neither exited nor became ready within the manifest's readiness timeout (${boundMs} ms)`,
    );
    if (exit === undefined) continue;
    ctx.expect(exit === 2, `${what} exited with ${exit}, not 2 (a configuration error)`);
    ctx.expect(output.includes(name), `${what} exited without a message naming ${name}: ${output.trim().slice(-300)}`);
  }
  ctx.evidence['outOfRangeNodeIds'] = seen;
}
