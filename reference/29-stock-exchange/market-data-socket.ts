// `GET /v1/marketdata/ws?symbol=`: the WebSocket in front of the market data publisher. The upgrade is checked
// before the handshake (a malformed symbol is refused 400 with a problem body, as the spec documents); an accepted
// subscriber gets the first frames of its channels (the snapshot by default) and then every update of the symbol on
// them. A subscriber that does not read is closed once what it has not taken passes MAX_BUFFERED_BYTES, so memory
// stays bounded.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../kit/problem.ts';
import { RESOLUTIONS, type Resolution } from './candles.ts';
import type { Channel, MarketDataFrame, MarketDataPublisher, Subscription } from './market-data.ts';

export const MARKET_DATA_PATH = '/v1/marketdata/ws';
const SYMBOL = /^[A-Z]{1,8}$/;
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const CHANNELS: readonly string[] = ['l2', 'l1', 'candles'] satisfies Channel[];

/** The subscription the query asks for (channels default `l2`, resolution 60), or why it is refused. */
export function parseSubscription(url: URL, o: MarketDataSocketOptions = {}): Subscription | string {
  const list = url.searchParams.getAll('channels');
  const resolutions = url.searchParams.getAll('resolution');
  if (list.length > 1 || resolutions.length > 1) return 'channels and resolution may each be given once';
  // MUTANT md-default-all-channels: a client that chooses nothing gets every channel (frames it never asked for).
  // MUTANT md-resolution-implies-candles: a resolution given without channels adds the candles channel.
  const fallback = o.resolutionImpliesCandles && resolutions.length > 0 ? 'l2,candles' : 'l2';
  const named = (list[0] ?? (o.defaultAllChannels ? 'l2,l1,candles' : fallback)).split(',');
  // MUTANT md-unknown-channel-skipped: unknown channels are dropped from the list (all unknown: refused).
  const names = o.unknownChannelsSkipped ? named.filter((n) => CHANNELS.includes(n)) : named;
  if (names.length === 0 || names.some((n) => !CHANNELS.includes(n)) || new Set(names).size !== names.length)
    return 'channels is a comma-separated list of l2, l1 and candles, each at most once';
  // MUTANT md-resolution-parseint: parseInt reads 60s or 60.5 as 60.
  const resolution = o.resolutionParseInt
    ? Number.parseInt(resolutions[0] ?? '60', 10)
    : Number(resolutions[0] ?? '60');
  if (
    (!o.resolutionParseInt && !/^[0-9]+$/.test(resolutions[0] ?? '60')) ||
    !RESOLUTIONS.includes(resolution as Resolution)
  )
    return `resolution is one of ${RESOLUTIONS.join(', ')} (seconds)`;
  // MUTANT md-candle-resolution-ignored: candles always of 60-second windows, whatever was asked.
  return { channels: new Set(names as Channel[]), resolution: (o.resolutionIgnored ? 60 : resolution) as Resolution };
}

export interface MarketDataSocketOptions {
  /** MUTANT md-bad-symbol-accepted: any symbol text is subscribed. */
  acceptAnySymbol?: boolean;
  /** MUTANT md-snapshot-after-deltas: the subscriber is registered first, the snapshot is taken after a 50 ms step. */
  snapshotLate?: boolean;
  /** MUTANT md-stop-drops-subscribers: a stopping server drops the connections without a close frame (1006). */
  dropOnStop?: boolean;
  /** MUTANT md-default-all-channels: a subscription that names no channels gets l2, l1 and candles. */
  defaultAllChannels?: boolean;
  /** MUTANT md-candle-resolution-ignored: the candles channel always sends 60-second candles. */
  resolutionIgnored?: boolean;
  /** MUTANT md-resolution-parseint: the resolution is read with parseInt (60s, 60.5 subscribe). */
  resolutionParseInt?: boolean;
  /** MUTANT md-unknown-channel-skipped: unknown channels beside known ones are skipped, not refused. */
  unknownChannelsSkipped?: boolean;
  /** MUTANT md-resolution-implies-candles: a resolution without channels subscribes candles too. */
  resolutionImpliesCandles?: boolean;
  /** MUTANT md-slow-bound-shared: the 8 MiB bound counts every subscriber's unsent frames together. */
  boundShared?: boolean;
  /** MUTANT md-slow-subscriber-kept: the bound is 8 GiB, so a subscriber that does not read is never closed. */
  boundNeverReached?: boolean;
  /** MUTANT md-answers-await-subscribers: an order's answer waits until every subscriber's socket took its frames. */
  answersAwaitSubscribers?: boolean;
  /** MUTANT md-registered-once-written: the subscriber is registered once its first frames' writes have completed. */
  registerOnceWritten?: boolean;
}

/** Answers an upgrade request with a problem instead of the handshake. */
function refuse(socket: Duplex, status: number, code: string, detail: string): void {
  const body = JSON.stringify(problemBody(status, code, detail));
  const reason = status === 404 ? 'Not Found' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function attachMarketDataSocket(
  app: FastifyInstance,
  publisher: MarketDataPublisher,
  o: MarketDataSocketOptions = {},
): void {
  // Client frames are ignored, so a small limit: nothing a client sends needs more.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const open = new Set<WebSocket>();
  // MUTANT md-slow-subscriber-kept: a bound no subscriber reaches (a unit slip).
  const bound = o.boundNeverReached ? 8 * 1024 ** 3 : MAX_BUFFERED_BYTES;
  // MUTANT md-slow-bound-shared: one subscriber's backlog gets the others closed too.
  const unsent = (ws: WebSocket) =>
    o.boundShared ? [...open].reduce((n, s) => n + s.bufferedAmount, 0) : ws.bufferedAmount;
  // MUTANT md-answers-await-subscribers: the frames not yet taken by their sockets, which every answer to a request
  // that changes something waits for (so a subscriber that does not read holds up the exchange).
  const writing = new Set<Promise<void>>();
  if (o.answersAwaitSubscribers)
    app.addHook('onSend', async (request, _reply, payload) => {
      if (request.method !== 'GET') await Promise.all([...writing]);
      return payload;
    });

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== MARKET_DATA_PATH) {
      refuse(socket, 404, 'not_found', `no WebSocket at ${url.pathname}`);
      return;
    }
    const symbols = url.searchParams.getAll('symbol');
    const symbol = symbols[0] ?? '';
    if (!o.acceptAnySymbol && (symbols.length !== 1 || !SYMBOL.test(symbol))) {
      refuse(socket, 400, 'invalid_request', 'symbol must be given once, 1 to 8 capital letters');
      return;
    }
    const sub = parseSubscription(url, o);
    if (typeof sub === 'string') {
      refuse(socket, 400, 'invalid_request', sub);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      open.add(ws);
      ws.on('close', () => open.delete(ws));
      ws.on('error', () => ws.terminate());
      void subscribe(ws, symbol, sub);
    });
  });

  async function subscribe(ws: WebSocket, symbol: string, sub: Subscription): Promise<void> {
    const send = (frame: MarketDataFrame) => {
      if (ws.readyState !== ws.OPEN) return;
      if (unsent(ws) > bound) {
        ws.close(1008, 'too slow');
        return;
      }
      if (!o.answersAwaitSubscribers) ws.send(JSON.stringify(frame));
      else {
        const taken = new Promise<void>((resolve) => ws.send(JSON.stringify(frame), () => resolve()));
        writing.add(taken);
        void taken.then(() => writing.delete(taken));
      }
    };
    let unsubscribe: () => void;
    if (o.registerOnceWritten) {
      // MUTANT md-registered-once-written: the first frames are on the wire (their writes' callbacks came) before the
      // subscriber is registered. A snapshot the kernel takes at once calls back on the next tick, before any other
      // request is handled; a larger one waits for the client to read, and updates published meanwhile are lost.
      const first = publisher.firstFrames(symbol, sub).map((f) => JSON.stringify(f));
      await Promise.all(first.map((f) => new Promise<void>((resolve) => ws.send(f, () => resolve()))));
      unsubscribe = publisher.subscribe(symbol, send, sub);
    } else if (o.snapshotLate) {
      // MUTANT md-snapshot-after-deltas: updates flow from here, the snapshot comes after an asynchronous step (a
      // read of the book from a cache, say): updates published meanwhile go out before it and are in it as well.
      unsubscribe = publisher.subscribe(symbol, send, sub);
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const f of publisher.firstFrames(symbol, sub)) send(f);
    } else {
      // First frames and registration in one synchronous step: no update can fall between them.
      for (const f of publisher.firstFrames(symbol, sub)) send(f);
      unsubscribe = publisher.subscribe(symbol, send, sub);
    }
    if (ws.readyState !== ws.OPEN) unsubscribe();
    else ws.on('close', unsubscribe);
  }

  // Stopping: every subscriber gets 1001 before the HTTP server closes.
  app.addHook('preClose', async () => {
    // MUTANT md-stop-drops-subscribers: no closing handshake, so subscribers see 1006 instead of 1001.
    if (o.dropOnStop) for (const ws of open) ws.terminate();
    const closed = [...open].map((ws) => new Promise((resolve) => ws.once('close', resolve)));
    for (const ws of open) ws.close(1001, 'going away');
    await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 1000))]);
    for (const ws of open) ws.terminate();
  });
}
