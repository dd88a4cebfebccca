// A market-data subscriber behind a narrow connection (narrow_subscriber.py: the smallest TCP segment and receive
// buffer, set before it connects, which Node's `net` cannot do), so that a snapshot of some thousand levels is not
// taken by the kernel at once and stays partly in the server while the subscriber does not read. Its frames are
// validated and kept as MdClient's are (md-frame-stream.ts), so replay() reads them the same way.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onCheckStop } from '../../core/check-scope.ts';
import { findOnPath } from '../../tools/find-on-path.ts';
import type { MdLog } from './md-client.ts';
import { FrameStream } from './md-frame-stream.ts';

const SCRIPT = fileURLToPath(new URL('./narrow_subscriber.py', import.meta.url));

export interface NarrowOpen {
  /** The segment size and receive buffer the connection got (as the client's kernel reports them). */
  mss: number;
  rcvbuf: number;
  /** Bytes of frames read with the upgrade's answer (before the pause). */
  early: number;
}

export class NarrowClient extends FrameStream {
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

  private constructor(
    url: string,
    private readonly child: ChildProcessWithoutNullStreams,
    log: MdLog,
  ) {
    super(url, log);
    const unwatch = onCheckStop(() => this.terminate());
    child.stderr.resume();
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('F')) {
        if (!this.take(line.slice(1))) return;
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

  protected get ended(): boolean {
    return this.exited;
  }

  /** Sends a close frame and ends the client. */
  close(): void {
    if (!this.exited) this.child.stdin.end('close\n');
  }

  terminate(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
