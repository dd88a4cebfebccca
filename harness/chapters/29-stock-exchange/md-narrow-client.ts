// A market-data subscriber behind a narrow connection (narrow_subscriber.py: the smallest TCP segment and receive
// buffer, set before it connects, which Node's `net` cannot do), so that a snapshot of some thousand levels is not
// taken by the kernel at once and stays partly in the server while the subscriber does not read. Its frames are
// validated and kept like MdClient's, so replay() reads them the same way.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onCheckStop } from '../../core/check-scope.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { findOnPath } from '../../tools/find-on-path.ts';
import type { Frame, MdLog } from './md-client.ts';

const SCRIPT = fileURLToPath(new URL('./narrow_subscriber.py', import.meta.url));

export interface NarrowOpen {
  /** The segment size and receive buffer the connection got (as the client's kernel reports them). */
  mss: number;
  rcvbuf: number;
  /** Bytes of frames read with the upgrade's answer (before the pause). */
  early: number;
}

export class NarrowClient {
  readonly frames: Frame[] = [];
  /** The bytes of each frame's payload, in order. */
  readonly sizes: number[] = [];
  opened: NarrowOpen | null = null;
  /**
   * When it started reading: bytes waiting in the client's kernel, and in the server's kernel send queue (a server
   * on this host, from /proc/net/tcp; else null).
   */
  reading: { queued: number; serverKernel: number | null } | null = null;
  refused: number | null = null;
  closed: number | null = null;
  exited = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly url: string,
    private readonly child: ChildProcessWithoutNullStreams,
    log: MdLog,
  ) {
    log.clients.add(this);
    const unwatch = onCheckStop(() => this.terminate());
    child.stderr.resume();
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('F')) {
        let frame: Frame;
        try {
          frame = JSON.parse(line.slice(1)) as Frame;
        } catch {
          log.violations.push(`${url}: a frame that is not JSON: ${line.slice(1, 101)}`);
          return;
        }
        const v = log.validator.check(frame);
        if (v.length) log.violations.push(`${line.slice(1, 301)}: ${v.join(', ')}`);
        this.frames.push(frame);
        this.sizes.push(Buffer.byteLength(line, 'utf8') - 1);
      } else {
        const m = JSON.parse(line) as {
          open?: NarrowOpen;
          refused?: number;
          reading?: NarrowClient['reading'];
          closed?: number;
        };
        if (m.open) this.opened = m.open;
        if (m.refused !== undefined) this.refused = m.refused;
        if (m.reading) this.reading = m.reading;
        if (m.closed !== undefined) this.closed = m.closed;
      }
      this.wake();
    });
    child.on('exit', () => {
      unwatch();
      this.exited = true;
      this.wake();
    });
    child.on('error', () => {
      this.exited = true;
      this.wake();
    });
  }

  /** Connects (python3 from PATH); null with the reason when there is no python3. */
  static async open(log: MdLog, url: string): Promise<NarrowClient | string> {
    const python = await findOnPath('python3');
    if (!python) return 'no python3 on PATH (the narrow subscriber sets socket options Node cannot)';
    const c = new NarrowClient(url, spawn(python, [SCRIPT, url], { stdio: 'pipe' }), log);
    await c.until(() => c.opened !== null || c.refused !== null);
    if (!c.opened) {
      c.terminate();
      return `the narrow subscriber did not open within 5 s (${c.refused === null ? 'no answer' : `answered ${c.refused}`})`;
    }
    return c;
  }

  /** Starts reading: until now nothing past the upgrade's answer was taken from the socket. */
  read(): void {
    this.child.stdin.write('read\n');
  }

  /** Waits until `done()` holds (checked on every line from the client); false on timeout or once it has ended. */
  async until(done: () => boolean, timeoutMs = timeLimit(5000)): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.exited || Date.now() >= deadline) return done();
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          this.waiters.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, Math.max(1, deadline - Date.now()));
        this.waiters.add(wake);
      });
    }
    return true;
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Sends a close frame and ends the client. */
  close(): void {
    if (!this.exited) this.child.stdin.end('close\n');
  }

  terminate(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
