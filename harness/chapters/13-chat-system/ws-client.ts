// A real WebSocket client (the `ws` package) for the checks: every frame it sends and receives goes through the
// frame validator, and is kept, so that a check can wait for a frame and a violation anywhere fails the check.
import WebSocket from 'ws';
import type { FrameValidator } from './frames.ts';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface FrameViolation {
  direction: 'sent' | 'received';
  frame: unknown;
  violations: string[];
  url: string;
}

/** The frames and violations of one check, across all its connections. */
export class FrameLog {
  readonly violations: FrameViolation[] = [];
  sent = 0;
  received = 0;
  readonly clients = new Set<ChatClient>();
  constructor(readonly validator: FrameValidator) {}
}

export class ChatClient {
  readonly frames: Frame[] = [];
  /** Called with every received frame, in order (after validation). */
  onFrame: ((f: Frame) => void) | null = null;
  closed: { code: number; reason: string } | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly ws: WebSocket;
  readonly opened: Promise<void>;

  private constructor(
    readonly url: string,
    private readonly log: FrameLog,
  ) {
    this.ws = new WebSocket(url, { maxPayload: 8 * 1024 * 1024 });
    log.clients.add(this);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', (e) => reject(e));
      this.ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`${url}: the upgrade was answered ${res.statusCode}`)),
      );
    });
    this.opened.catch(() => {});
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      let frame: unknown;
      try {
        frame = JSON.parse(isBinary ? '' : data.toString());
      } catch {
        log.violations.push({
          direction: 'received',
          frame: String(data).slice(0, 200),
          violations: ['not JSON'],
          url,
        });
        return;
      }
      log.received++;
      const v = log.validator.check('ServerFrame', frame);
      if (v.length) log.violations.push({ direction: 'received', frame: clip(frame), violations: v, url });
      this.frames.push(frame as Frame);
      this.onFrame?.(frame as Frame);
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async connect(url: string, log: FrameLog, timeoutMs = 5000): Promise<ChatClient> {
    const c = new ChatClient(url, log);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.opened,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${url}: no WebSocket within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      c.terminate();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return c;
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame; `valid: false` for deliberately bad frames (not checked against the schema). */
  send(frame: unknown, o: { valid?: boolean; raw?: boolean } = {}): void {
    if (o.valid !== false) {
      const v = this.log.validator.check('ClientFrame', frame);
      if (v.length)
        this.log.violations.push({
          direction: 'sent',
          frame: clip(frame),
          violations: v.map((x) => `harness sent ${x}`),
          url: this.url,
        });
    }
    this.log.sent++;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(o.raw ? String(frame) : JSON.stringify(frame));
  }

  /**
   * Waits for a frame received after index `from` that satisfies `pred`; null on timeout or close. Frames before
   * `from` are not looked at, so a caller can wait for the answer to what it just sent.
   */
  async waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i]!)) return this.frames[i]!;
      from = this.frames.length;
      if (this.closed || Date.now() >= deadline) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, Math.max(1, deadline - Date.now()));
        this.waiters.add(done);
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string } | null> {
    await this.waitFor(() => false, timeoutMs, this.frames.length);
    return this.closed;
  }

  /** Stops reading from the socket (a slow client); `resume()` reads again. */
  pause(): void {
    (this.ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
  }

  resume(): void {
    (this.ws as unknown as { _socket?: { resume(): void } })._socket?.resume();
  }

  close(code = 1000): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
  }

  /** Drops the TCP connection without a closing handshake (a phone going into a tunnel). */
  terminate(): void {
    this.ws.terminate();
  }
}

function clip(v: unknown): unknown {
  const s = JSON.stringify(v);
  return s.length > 2000 ? `${s.slice(0, 2000)}... (${s.length} bytes)` : v;
}
