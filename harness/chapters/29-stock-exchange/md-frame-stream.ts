// What every market-data subscriber of the checks shares, whatever carries its frames (MdClient: the `ws` package;
// NarrowClient: a python3 child on a narrow connection): each frame's text parsed, validated against the frame
// schemas (a violation recorded in the check's log, which fails it at its end) and kept in order, and a wait for
// the frames so far to satisfy a condition. One place, so both subscribers grade frames alike.
import { timeLimit } from '../../core/time-scale.ts';
import type { Frame, MdLog } from './md-client.ts';

export abstract class FrameStream {
  readonly frames: Frame[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly url: string,
    private readonly log: MdLog,
  ) {
    log.clients.add(this);
  }

  /** Whether no more frames can come (the socket closed, the child exited): a wait ends there. */
  protected abstract get ended(): boolean;

  abstract close(): void;

  abstract terminate(): void;

  /** One frame's payload (null: a binary frame): kept if it is JSON, recorded as a violation unless it fits. */
  protected take(text: string | null): Frame | null {
    let frame: Frame;
    try {
      frame = JSON.parse(text ?? '') as Frame;
    } catch {
      this.log.violations.push(`${this.url}: a frame that is not JSON: ${(text ?? '<binary>').slice(0, 100)}`);
      return null;
    }
    const v = this.log.validator.check(frame);
    if (v.length) this.log.violations.push(`${(text ?? '').slice(0, 300)}: ${v.join(', ')}`);
    this.frames.push(frame);
    return frame;
  }

  protected wake(): void {
    for (const w of this.waiters) w();
  }

  /** Waits until `done()` holds (checked on every frame and once the stream ends); false on timeout or at its end. */
  async until(done: () => boolean, timeoutMs = timeLimit(5000)): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ended || Date.now() >= deadline) return done();
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
}
