// When did the crawler close a connection it gave up on? This process learns it only when its event loop next polls
// the socket, which on a busy machine is tens of ms later: beside stress-ng a hanging response's close was noticed
// about 50 ms late, so a correct crawler's next request to that host, noticed with no such lag, seemed to follow it
// by 0.3 ms (WC-I3). So the close is bounded from below instead: while a response is open, a 1 ms interval stamps the
// loop's turns (an interval fires at most once a turn, in its timers phase, before its poll). A close the loop
// notices in some turn (the socket's end or error, emitted in the turn that read it) arrived after the previous
// turn's poll, which came after every stamp but the last; so the stamp before the last is never later than the close,
// however late the loop noticed it, and on a loop that is not held it is a few ms earlier (a crawler that asks again
// at once after a timeout still shows a gap far below the delay).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Hit } from './web.ts';

/** Stamps of the loop's turns while at least one response is open; no timer otherwise. */
export class CloseBound {
  private open = 0;
  private timer: NodeJS.Timeout | null = null;
  private stamps: number[] = [];
  /** The open response of each kept-alive socket (one listener per socket, not one per request). */
  private readonly onSocket = new WeakMap<Socket, () => void>();

  /**
   * Watches `hit`'s response until it is answered (the returned function, called as it is sent) or the crawler
   * closes the connection first: `hit.end` is then set no later than the close, and closedByCrawler.
   */
  watch(req: IncomingMessage, res: ServerResponse, hit: Hit): () => void {
    this.opened();
    const socket = req.socket;
    let open = true;
    const ended = () => {
      if (!open) return;
      open = false;
      if (this.onSocket.get(socket) === closed) this.onSocket.set(socket, () => undefined);
      this.ended();
    };
    const closed = () => {
      if (open && hit.end === null) {
        const noticed = performance.now();
        hit.end = this.closedBy(hit.start);
        hit.closedByCrawler = true;
        hit.closeNoticedLateMs = noticed - hit.end;
      }
      ended();
    };
    // The earliest sign of the crawler's close: the socket's end (its FIN) or error (a reset), else the close.
    if (!this.onSocket.has(socket)) {
      const now = () => this.onSocket.get(socket)?.();
      socket.once('end', now).once('error', now);
    }
    this.onSocket.set(socket, closed);
    res.once('close', closed);
    return ended;
  }

  private opened(): void {
    if (this.open++ > 0) return;
    this.stamps = [performance.now()];
    this.timer = setInterval(() => {
      this.stamps.push(performance.now());
      if (this.stamps.length > 2) this.stamps.shift();
    }, 1);
  }

  /** A time no later than the close the loop has just noticed of a response opened at `openedAt`. */
  private closedBy(openedAt: number): number {
    return this.stamps.length < 2 ? openedAt : Math.max(openedAt, this.stamps[this.stamps.length - 2]!);
  }

  /** A response ended (answered or closed): stops stamping when none is open. */
  private ended(): void {
    if (--this.open > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
