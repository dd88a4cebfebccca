// stablePort's reservations: a port kept for a server that restarts on it is never given to another sdgrade process
// while its owner lives, and a dead owner's reservation does not keep it forever.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { releasePort, reservationsDir, stablePort } from './free-port.ts';

/** The range stablePort draws from, as it computes it. */
function range(): { from: number; low: number } {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux
  }
  return { from: Math.max(1024, Math.min(20_000, low - 4096)), low };
}

/** The Math.random() value that makes stablePort try `port`. */
const drawOf = (port: number): number => {
  const { from, low } = range();
  return (port - from + 0.5) / (low - from);
};

describe('stablePort reservations', () => {
  let saved: string | undefined;
  let dir: string;
  let other: ChildProcess | undefined;
  beforeEach(() => {
    saved = process.env['TMPDIR'];
    dir = mkdtempSync(join(tmpdir(), 'sdgrade-ports-test-'));
    process.env['TMPDIR'] = dir; // os.tmpdir() reads it on each call: this test's reservations stay its own
  });
  afterEach(() => {
    vi.restoreAllMocks();
    other?.kill('SIGKILL');
    other = undefined;
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reserves the port it returns for this process, until released', async () => {
    const port = await stablePort();
    const file = join(reservationsDir(), String(port));
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    releasePort(port);
    expect(existsSync(file)).toBe(false);
  });

  it('skips a port another live process holds, and takes one whose owner died', async () => {
    const { from } = range();
    const held = from + 101;
    const stale = from + 202;
    other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    mkdirSync(reservationsDir(), { recursive: true });
    writeFileSync(join(reservationsDir(), String(held)), String(other.pid));
    writeFileSync(join(reservationsDir(), String(stale)), '999999999'); // no such process
    vi.spyOn(Math, 'random').mockReturnValueOnce(drawOf(held)).mockReturnValueOnce(drawOf(stale));
    const port = await stablePort();
    expect(port).toBe(stale);
    expect(readFileSync(join(reservationsDir(), String(held)), 'utf8')).toBe(String(other.pid));
    expect(readFileSync(join(reservationsDir(), String(stale)), 'utf8')).toBe(String(process.pid));
    releasePort(port);
  });

  it("does not give up another process's reservation", () => {
    const { from } = range();
    const held = from + 303;
    mkdirSync(reservationsDir(), { recursive: true });
    writeFileSync(join(reservationsDir(), String(held)), '1'); // init: alive, not us
    releasePort(held);
    expect(readFileSync(join(reservationsDir(), String(held)), 'utf8')).toBe('1');
  });
});
