// A market-data subscriber for the checks: a real WebSocket client (the `ws` package, as chapter 13's) on
// `GET /v1/marketdata/ws?symbol=`. Every frame it receives is validated against the frame schemas and kept in
// order; a violation anywhere is recorded in the check's log and fails the check at its end. It also replays the
// stream as a subscriber would: the book from the snapshot and the l2updates, the trades, the sequence numbers.
import WebSocket from 'ws';
import type { CheckContext } from '../../core/check-context.ts';
import { onCheckStop } from '../../core/check-scope.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { FrameStream } from './md-frame-stream.ts';
import { MdFrameValidator } from './md-frames.ts';

export interface Level {
  price: number;
  size: number;
}
export interface Trade {
  type: 'trade';
  seq: number;
  sequenceId: number;
  price: number;
  quantity: number;
  makerOrderId: number;
  takerOrderId: number;
  takerSide: 'buy' | 'sell';
  time: number;
}
export interface Frame {
  type: string;
  seq?: number;
  [k: string]: unknown;
}

let shared: MdFrameValidator | null = null;

/** The violations and clients of one check. */
export class MdLog {
  readonly violations: string[] = [];
  /** Every subscriber opened for the check (MdClient, or another kind with the same frames and ways to end it). */
  readonly clients = new Set<{ readonly frames: readonly Frame[]; close(): void; terminate(): void }>();
  readonly validator: MdFrameValidator;

  constructor(readonly ctx: CheckContext) {
    shared ??= new MdFrameValidator();
    this.validator = shared;
  }

  /** Closes every client and fails the check if any frame broke the schemas. */
  finish(): void {
    for (const c of this.clients) c.close();
    if (this.violations.length)
      this.ctx.fail(
        `${this.violations.length} market-data frames do not fit marketdata-frames.schema.json: ${this.violations.slice(0, 5).join('; ')}`,
      );
  }
}

/**
 * The URL of a symbol's stream (the symbol encoded, or no parameter when null), with the query's other options
 * (`channels`, `resolution`) as given.
 */
export function streamUrl(ctx: CheckContext, symbol: string | null, options = ''): string {
  const base = ctx.target.baseUrl.replace(/^http/, 'ws').replace(/\/$/, '');
  const q = [symbol === null ? '' : `symbol=${encodeURIComponent(symbol)}`, options].filter(Boolean).join('&');
  return `${base}/v1/marketdata/ws${q ? `?${q}` : ''}`;
}

export class MdClient extends FrameStream {
  /** The bytes of the frames received (their payloads). */
  bytes = 0;
  closed: { code: number; reason: string } | null = null;
  /** The answer to a refused upgrade. */
  refused: { status: number; contentType: string; body: string } | null = null;
  private readonly ws: WebSocket;
  readonly opened: Promise<boolean>;

  constructor(url: string, log: MdLog) {
    super(url, log);
    this.ws = new WebSocket(url);
    // A check stopped at its time limit stops waiting on this socket too (until the socket closes).
    const unwatch = onCheckStop(() => this.terminate());
    this.opened = new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('error', () => resolve(false));
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => {
          this.refused = { status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body };
          resolve(false);
        });
        res.on('error', () => resolve(false));
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      this.bytes += Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
      if (this.take(isBinary ? null : data.toString())) this.wake();
    });
    this.ws.on('close', (code, reason) => {
      unwatch();
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  /** Opens a subscription; fails the check unless it opens (within the scaled 5 s). */
  static async open(ctx: CheckContext, log: MdLog, symbol: string, options = ''): Promise<MdClient> {
    const c = new MdClient(streamUrl(ctx, symbol, options), log);
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      c.opened,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeLimit(5000));
      }),
    ]).finally(() => clearTimeout(timer));
    if (!ok) {
      c.terminate();
      ctx.fail(
        `subscribing to ${symbol} on ${c.url} failed: ${c.refused ? `answered ${c.refused.status} ${c.refused.body.slice(0, 200)}` : 'no WebSocket within 5 s'}`,
      );
    }
    return c;
  }

  protected get ended(): boolean {
    return this.closed !== null;
  }

  count(type: string): number {
    return this.frames.filter((f) => f.type === type).length;
  }

  /**
   * Stops reading the connection (the socket is paused: nothing more is taken from the kernel, so what the server
   * sends piles up in the socket buffers and then in the server), as a subscriber that does not read.
   */
  pause(): void {
    this.ws.pause();
  }

  /** Reads the connection again. */
  resume(): void {
    this.ws.resume();
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/**
 * What a subscriber knows after replaying its frames: the book from the snapshot and updates, the trades, and the
 * protocol errors found on the way (a first frame that is not the snapshot, a seq out of line, a frame of another
 * symbol, an update that empties a level that was not there).
 */
export interface Replayed {
  snapshotSeq: number;
  lastSeq: number;
  bids: Level[];
  asks: Level[];
  trades: Trade[];
  updates: number;
  errors: string[];
  /** The book after each seq (for comparing with another subscriber's snapshot). */
  bookAt: Map<number, { bids: Level[]; asks: Level[] }>;
}

const sorted = (m: Map<number, number>, descending: boolean): Level[] =>
  [...m].sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0])).map(([price, size]) => ({ price, size }));

export function replay(frames: readonly Frame[], symbol: string, keepBooks = false): Replayed {
  const r: Replayed = {
    snapshotSeq: -1,
    lastSeq: -1,
    bids: [],
    asks: [],
    trades: [],
    updates: 0,
    errors: [],
    bookAt: new Map(),
  };
  const first = frames[0];
  if (!first) return { ...r, errors: ['no snapshot arrived'] };
  if (first.type !== 'snapshot') {
    r.errors.push(`the first frame is ${JSON.stringify(first).slice(0, 200)}, not the snapshot`);
    return r;
  }
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (const l of (first.bids as Level[]) ?? []) bids.set(l.price, l.size);
  for (const l of (first.asks as Level[]) ?? []) asks.set(l.price, l.size);
  r.snapshotSeq = r.lastSeq = Number(first.seq);
  const keep = () => {
    if (keepBooks) r.bookAt.set(r.lastSeq, { bids: sorted(bids, true), asks: sorted(asks, false) });
  };
  keep();
  for (const [i, f] of frames.entries()) {
    if (i === 0) continue;
    if (f.symbol !== symbol) r.errors.push(`a frame of symbol ${String(f.symbol)} on ${symbol}'s stream`);
    if (f.type === 'snapshot') {
      r.errors.push(`a second snapshot at frame ${i}`);
      continue;
    }
    // l1 and candle frames take no seq of their own (md-derived.ts grades them against this replay).
    if (f.type === 'l1' || f.type === 'candle') continue;
    if (f.seq !== r.lastSeq + 1)
      r.errors.push(`frame ${i} (${f.type}) has seq ${String(f.seq)} where ${r.lastSeq + 1} was next`);
    r.lastSeq = Number(f.seq);
    if (f.type === 'trade') r.trades.push(f as unknown as Trade);
    else if (f.type === 'l2update') {
      r.updates++;
      for (const c of (f.changes as { side: string; price: number; size: number }[]) ?? []) {
        const levels = c.side === 'buy' ? bids : asks;
        if (c.size > 0) levels.set(c.price, c.size);
        else if (!levels.delete(c.price))
          r.errors.push(`update seq ${String(f.seq)} removes ${c.side} level ${c.price}, which was not in the book`);
      }
    }
    keep();
  }
  r.bids = sorted(bids, true);
  r.asks = sorted(asks, false);
  return r;
}
