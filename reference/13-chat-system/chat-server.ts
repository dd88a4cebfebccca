// A chat server: holds the clients' WebSockets (the only stateful service: its state is the open sockets), checks
// their tokens, runs the message service for its senders and syncs, records connections and heartbeats in the
// shared store, and delivers what the store's relay log carries to its own connections. It talks to no other node:
// everything goes through the store, so any node can die without taking state with it.
// Policy for a client that does not read: once what the server holds for it passes SLOW_CLIENT_LIMIT_BYTES, it is
// closed with 4008 (and dropped 30 s later), so memory stays bounded.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Readiness, readinessHandler } from '../kit/health.ts';
import { problemBody, sendProblem } from '../kit/problem.ts';
import { MAX_TEXT } from './api-app.ts';
import { type ClientFrame, clientFrameParser, NOT_JSON } from './frames.ts';
import type { ServerFrame } from './internal.ts';
import { type SendOutcome, storeMessage, syncMessages } from './message-service.ts';
import type { MutantName } from './mutants.ts';
import { startPresenceSweep } from './presence.ts';
import { type RelayReader, startRelayReader } from './relay-reader.ts';
import { SentRecord } from './sent-record.ts';
import { type ChatStore, type RelayEntry, relayPositionAfter, relayPositionAfterSameMsBroken } from './store.ts';
import type { Tokens } from './token.ts';

export interface ChatServerOptions {
  name: string;
  store: ChatStore;
  tokens: Tokens;
  readiness: Readiness;
  heartbeatIntervalMs: number;
  presenceTimeoutMs: number;
  slowClientLimitBytes: number;
  /** No `auth` frame within this long: close 4001 (the spec's bound is 5 s). */
  authTimeoutMs: number;
  /** Discovery's TTL: a chat server not seen for this long is dead (its users count as not connected). */
  serverTtlMs: number;
  mutant?: MutantName | undefined;
  logLevel: string;
}

const MAX_FRAME_BYTES = 1024 * 1024;
const SLOW_CLIENT_GRACE_MS = 30_000;
const REGISTER_EVERY_MS = 500;
const BEATS_EVERY_MS = 100;
/** How long a `sent` waits for this server's relay reader to pass its message (then it goes anyway). */
const RELAY_CATCH_UP_MS = 2000;
/** How long a stopping server waits for its clients to answer the 1001 close. */
const STOP_CLOSE_WAIT_MS = 1000;

interface Conn {
  id: string;
  ws: WebSocket;
  userId?: string;
  deviceId?: string;
  /** The message IDs this connection has had, live, by sync or as its own `sent`: none goes twice. */
  sent: SentRecord;
  /** Closes the socket 4001 if no valid `auth` came in time; cleared once one has (its storage may take longer). */
  authTimer?: NodeJS.Timeout;
  /** Live messages held back while a sync is being answered (they follow its `synced`). */
  held: ServerFrame[] | null;
  /** The relay log's end when it authenticated: what was written before, it gets by sync, not live. */
  relayFrom?: string;
  /** Only the dedup-per-connection mutant. */
  sentByClientId?: Map<string, ServerFrame>;
}

export function buildChatServer(o: ChatServerOptions): {
  app: FastifyInstance;
  onListening: (url: string) => Promise<void>;
  close: () => Promise<void>;
} {
  const { mutant } = o;
  const parse = clientFrameParser();
  const app = Fastify({ logger: { level: o.logLevel, stream: process.stderr } });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const conns = new Map<string, Conn>();
  const byUser = new Map<string, Set<Conn>>();
  const beats = new Set<string>();
  // Connection IDs are unique across restarts of this server (the store outlives it).
  const life = randomBytes(4).toString('hex');
  let seq = 0;
  let registerTimer: NodeJS.Timeout | undefined;
  let beatTimer: NodeJS.Timeout | undefined;
  const stops: (() => void)[] = [];
  let reader: RelayReader | undefined;
  const localIds = new Map<string, number>();
  /** Only the dedup-ignores-channel mutant. */
  const sentAnywhere = new Map<string, ServerFrame>();
  const serverIndex = Number(/(\d+)$/.exec(o.name)?.[1] ?? 1);
  const store = o.store;
  const log = (msg: string) => app.log.warn(msg);
  const service = { store, serverTtlMs: o.serverTtlMs, mutant, log };
  // MUTANT relay-same-ms: relay positions compared by their millisecond only.
  const after = mutant === 'relay-same-ms' ? relayPositionAfterSameMsBroken : relayPositionAfter;

  function send(c: Conn, frame: ServerFrame): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (frame.type === 'message') {
      const ch = frame['channelId'] as string;
      const id = frame['messageId'] as number;
      if (c.sent.has(ch, id)) return;
      c.sent.add(ch, id);
    }
    c.ws.send(JSON.stringify(frame));
    // MUTANT no-backpressure: the buffer grows for as long as the client does not read.
    if (mutant !== 'no-backpressure' && c.ws.bufferedAmount > o.slowClientLimitBytes) {
      app.log.warn({ conn: c.id, buffered: c.ws.bufferedAmount }, 'client does not read: closing 4008');
      // Nothing more is queued for it (send() skips a closing socket); the close frame waits behind what is
      // already buffered, so a client that reads again learns why. One that never reads is dropped after 30 s.
      c.ws.close(4008, 'too_slow');
      setTimeout(() => c.ws.terminate(), SLOW_CLIENT_GRACE_MS).unref();
    }
  }

  function deliver(c: Conn, frame: ServerFrame): void {
    if (c.held && frame.type === 'message') c.held.push(frame);
    else send(c, frame);
  }

  /**
   * A relay entry: to this server's connections of the named users that were authenticated when it was written (an
   * older one, read late, would put a gap before it in the device's cur_max_message_id; the device syncs it instead).
   */
  function onRelay({ at, d }: RelayEntry): void {
    // MUTANT no-cross-server-relay: only messages stored by this chat server reach its connections live.
    if (mutant === 'no-cross-server-relay' && d.frame.type === 'message' && d.origin !== o.name) return;
    // MUTANT echo-to-sender: the sending connection gets the relayed `message` as well as its `sent`.
    const except = mutant === 'echo-to-sender' ? undefined : d.exceptConn;
    for (const u of d.userIds)
      for (const c of byUser.get(u) ?? [])
        if (c.id !== except && c.relayFrom !== undefined && after(at, c.relayFrom)) {
          if (mutant === 'relay-reorders' && d.frame.type === 'message') deliverReordered(c, d.frame);
          else deliver(c, d.frame);
        }
  }

  /** MUTANT relay-reorders: a connection's message frames are held 50 ms, then sent newest first (none lost). */
  const reordering = new Map<Conn, ServerFrame[]>();
  function deliverReordered(c: Conn, frame: ServerFrame): void {
    const held = reordering.get(c);
    if (held) return void held.push(frame);
    reordering.set(c, [frame]);
    setTimeout(() => {
      const frames = reordering.get(c) ?? [];
      reordering.delete(c);
      for (const f of frames.reverse()) if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(f));
    }, 50);
  }

  // Stopping: every client gets close 1001 before the HTTP server closes (which would drop the upgraded sockets
  // without a close frame, 1006 at the client); the closing handshakes get a moment to finish.
  app.addHook('preClose', async () => {
    const open = [...conns.values()].filter((c) => c.ws.readyState === c.ws.OPEN);
    // MUTANT stop-without-1001: the sockets are dropped without a close frame.
    for (const c of open)
      if (mutant === 'stop-without-1001') c.ws.terminate();
      else c.ws.close(1001, 'going away');
    const closed = open.map(
      (c) => new Promise<void>((r) => (c.ws.readyState === c.ws.CLOSED ? r() : c.ws.once('close', () => r()))),
    );
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, STOP_CLOSE_WAIT_MS))]);
  });

  app.get('/health/ready', readinessHandler(o.readiness));
  app.setNotFoundHandler(async (request, reply) =>
    sendProblem(reply, problemBody(404, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.server.on('upgrade', (request, socket, head) => {
    if ((request.url ?? '').split('?')[0] !== '/ws' || o.readiness.state !== 'ready') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    const c: Conn = { id: `${o.name}-${life}-${++seq}`, ws, sent: new SentRecord(), held: null };
    if (mutant === 'dedup-per-connection') c.sentByClientId = new Map();
    conns.set(c.id, c);
    // MUTANT no-auth-timeout: a socket that never authenticates is kept for ever.
    const authTimer =
      mutant === 'no-auth-timeout'
        ? undefined
        : setTimeout(() => {
            if (!c.userId) ws.close(4001, 'unauthorized');
          }, o.authTimeoutMs);
    c.authTimer = authTimer;
    let queue = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      // One frame at a time per connection: a send is answered before the next frame is looked at.
      queue = queue
        .then(() => handle(c, isBinary ? '' : data.toString()))
        .catch((e) => {
          app.log.error({ err: e, conn: c.id }, 'frame failed');
        });
    });
    ws.on('close', (code) => {
      clearTimeout(authTimer);
      conns.delete(c.id);
      if (c.userId) {
        byUser.get(c.userId)?.delete(c);
        if (byUser.get(c.userId)?.size === 0) byUser.delete(c.userId);
        // MUTANT dropped-connection-kept: a connection that ends without a 1000/1001 close stays recorded as open.
        if (mutant === 'dropped-connection-kept' && code !== 1000 && code !== 1001) return;
        const userId = c.userId;
        void store
          .closeConnection(c.id)
          .then(async (r) => {
            // MUTANT offline-on-disconnect: the naive presence - offline as soon as the last connection closes.
            if (r && !r.stillConnected && mutant === 'offline-on-disconnect')
              await store.markOffline(userId, Date.now());
          })
          .catch((e) => log(`closing connection ${c.id} in the store failed: ${(e as Error).message}`));
      }
    });
    ws.on('error', () => {});
  }

  async function handle(c: Conn, text: string): Promise<void> {
    const f = parse(text);
    // MUTANT schema-misfit-ignored: JSON that is not a client frame is dropped without an answer.
    if ('invalid' in f && mutant === 'schema-misfit-ignored' && f.invalid !== NOT_JSON) return;
    if ('invalid' in f) return send(c, { type: 'error', code: 'invalid_frame', detail: f.invalid });
    if (!c.userId && f.type !== 'auth')
      return send(c, { type: 'error', code: 'not_authenticated', detail: 'send auth first' });
    switch (f.type) {
      case 'auth':
        return authenticate(c, f.token);
      case 'send':
        return sendMessage(c, f);
      case 'ack':
        return acknowledge(c, f);
      case 'sync':
        return sync(c, f.cursors);
      case 'heartbeat':
        // MUTANT heartbeats-ignored: heartbeat frames are read and dropped; only connecting counts as a beat.
        if (mutant !== 'heartbeats-ignored') beats.add(c.userId!);
        return;
    }
  }

  async function authenticate(c: Conn, token: string): Promise<void> {
    if (c.userId) return send(c, { type: 'error', code: 'invalid_frame', detail: 'already authenticated' });
    // MUTANT bad-token-accepted: the signature is not checked; any token naming a user passes.
    const claims = mutant === 'bad-token-accepted' ? lenientClaims(token) : o.tokens.verify(token);
    if (!claims) {
      c.ws.close(4001, 'unauthorized');
      return;
    }
    // A valid token came within the bound: the socket is not closed as unauthenticated while its connection is
    // recorded (a loaded store can take longer than what is left of the bound).
    clearTimeout(c.authTimer);
    try {
      await store.openConnection({ connId: c.id, userId: claims.userId, deviceId: claims.deviceId, server: o.name });
      await store.beat([claims.userId], Date.now());
      c.relayFrom = await store.relayHead();
    } catch {
      c.ws.close(1011, 'unavailable');
      return;
    }
    c.userId = claims.userId;
    c.deviceId = claims.deviceId;
    let set = byUser.get(c.userId);
    if (!set) {
      set = new Set();
      byUser.set(c.userId, set);
    }
    set.add(c);
    send(c, {
      type: 'authenticated',
      userId: c.userId,
      deviceId: c.deviceId,
      server: o.name,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      presenceTimeoutMs: o.presenceTimeoutMs,
    });
  }

  async function sendMessage(c: Conn, f: Extract<ClientFrame, { type: 'send' }>): Promise<void> {
    // Characters are code points, as JSON Schema's maxLength counts them (an emoji is one, not two UTF-16 units).
    // MUTANT length-in-utf16-units: String.length, so a text of astral characters counts double.
    const chars = mutant === 'length-in-utf16-units' ? f.text.length : codePointLength(f.text, mutant);
    if (chars > MAX_TEXT)
      return send(c, {
        type: 'error',
        code: 'message_too_long',
        detail: `text has ${chars} characters; at most ${MAX_TEXT}`,
        ref: f.clientMessageId,
      });
    const earlier = c.sentByClientId?.get(`${f.channelId} ${f.clientMessageId}`);
    if (earlier) return send(c, { ...earlier, duplicate: true });
    // MUTANT dedup-ignores-channel: a server-wide memory of sends keyed by (sender, clientMessageId) without the
    // channel: the same client ID in another channel is answered as a "duplicate" of the first channel's message.
    const wrongKey = mutant === 'dedup-ignores-channel' ? `${c.userId} ${f.clientMessageId}` : undefined;
    const remembered = wrongKey === undefined ? undefined : sentAnywhere.get(wrongKey);
    if (remembered) return send(c, { ...remembered, clientMessageId: f.clientMessageId, duplicate: true });
    let forcedId: number | undefined;
    if (mutant === 'per-server-sequence') {
      // MUTANT per-server-sequence: each chat server numbers a channel's messages itself (interleaved, unique).
      const n = (localIds.get(f.channelId) ?? 0) + 1;
      localIds.set(f.channelId, n);
      forcedId = (n - 1) * 2 + serverIndex;
    }
    // MUTANT ack-before-store: `sent` at once with the ID the server expects, the write left to finish (or not).
    if (mutant === 'ack-before-store') return ackBeforeStore(c, f);
    let r: SendOutcome;
    try {
      r = await storeMessage(service, {
        channelId: f.channelId,
        senderId: c.userId!,
        clientMessageId: f.clientMessageId,
        text: f.text,
        connId: c.id,
        server: o.name,
        ...(forcedId !== undefined ? { forcedId } : {}),
      });
    } catch (e) {
      return send(c, { type: 'error', code: 'unavailable', detail: (e as Error).message, ref: f.clientMessageId });
    }
    if ('error' in r) return send(c, { type: 'error', code: r.error, detail: r.detail, ref: f.clientMessageId });
    const sent = {
      type: 'sent',
      channelId: r.message.channelId,
      clientMessageId: r.message.clientMessageId,
      messageId: r.message.messageId,
      createdAt: r.message.createdAt,
      duplicate: r.duplicate,
    };
    c.sentByClientId?.set(`${f.channelId} ${f.clientMessageId}`, sent);
    if (wrongKey !== undefined) sentAnywhere.set(wrongKey, sent);
    // Every earlier message of the channel reaches this connection before its `sent` does.
    // MUTANT sent-before-relay: `sent` as soon as the store has the message, without waiting for the relay reader.
    if (r.relayAt && mutant !== 'sent-before-relay') await reader?.caughtUp(r.relayAt, RELAY_CATCH_UP_MS);
    // The sending connection has this message: a later sync on it must not send it back.
    c.sent.add(f.channelId, r.message.messageId);
    send(c, sent);
  }

  /** Only the ack-before-store mutant: the next ID guessed from what this server has seen of the channel. */
  function ackBeforeStore(c: Conn, f: Extract<ClientFrame, { type: 'send' }>): void {
    const guess = (localIds.get(f.channelId) ?? 0) + 1;
    localIds.set(f.channelId, guess);
    const input = { ...f, senderId: c.userId!, connId: c.id, server: o.name };
    void storeMessage(service, input)
      .then((r) => {
        if ('message' in r) localIds.set(f.channelId, Math.max(guess, r.message.messageId));
      })
      .catch((e) => log(`a message acknowledged as ${guess} was not stored: ${(e as Error).message}`));
    send(c, {
      type: 'sent',
      channelId: f.channelId,
      clientMessageId: f.clientMessageId,
      messageId: guess,
      createdAt: new Date().toISOString(),
      duplicate: false,
    });
  }

  async function acknowledge(c: Conn, f: Extract<ClientFrame, { type: 'ack' }>): Promise<void> {
    try {
      const ch = await store.channel(f.channelId);
      if (!ch) return send(c, { type: 'error', code: 'not_found', detail: `no channel ${f.channelId}` });
      if (!ch.members.includes(c.userId!))
        return send(c, { type: 'error', code: 'not_member', detail: `you are not a member of ${f.channelId}` });
      // MUTANT cursor-per-user: one cursor per user, whichever device acks.
      await store.setCursor(c.userId!, mutant === 'cursor-per-user' ? '*' : c.deviceId!, f.channelId, f.messageId);
    } catch (e) {
      send(c, { type: 'error', code: 'unavailable', detail: (e as Error).message });
    }
  }

  /**
   * The sync's answer, then `synced`; live messages that arrive meanwhile are held and follow it. With the answer read
   * up to each channel's greatest ID when the sync began (what `synced` names), `synced` is a cut on the connection:
   * no message above it before, none at or below it after.
   */
  async function sync(c: Conn, cursors: { channelId: string; curMaxMessageId: number }[]): Promise<void> {
    // MUTANT sync-live-not-held: live messages go out while the sync is answered.
    if (mutant !== 'sync-live-not-held') c.held = [];
    try {
      const r = await syncMessages(store, mutant, { userId: c.userId!, deviceId: c.deviceId! }, cursors);
      for (const m of r.messages) send(c, { type: 'message', ...m });
      send(c, { type: 'synced', channels: r.channels });
    } catch (e) {
      send(c, { type: 'error', code: 'unavailable', detail: (e as Error).message });
    } finally {
      const held = c.held ?? [];
      c.held = null;
      for (const f of held) send(c, f);
    }
  }

  const register = (url: string) => store.registerServer(o.name, url, Date.now());

  return {
    app,
    async onListening(url) {
      const wsUrl = `${url.replace(/^http/, 'ws')}/ws`;
      // A restarted server starts clean: the connections of its previous life are gone.
      // MUTANT restart-keeps-connections: the previous life's connections stay in the store (and count as open).
      if (mutant !== 'restart-keeps-connections') await store.removeServer(o.name);
      // Read the relay log from now on before anyone can connect here.
      reader = await startRelayReader(store, onRelay, log, after);
      stops.push(reader.stop);
      stops.push(startPresenceSweep(store, o.presenceTimeoutMs, log).stop);
      // Ready once discovery can hand it out.
      await register(wsUrl);
      registerTimer = setInterval(
        () => void register(wsUrl).catch((e) => log(`registering failed: ${(e as Error).message}`)),
        REGISTER_EVERY_MS,
      );
      beatTimer = setInterval(() => {
        if (!beats.size) return;
        const userIds = [...beats];
        beats.clear();
        void store.beat(userIds, Date.now()).catch((e) => log(`heartbeats failed: ${(e as Error).message}`));
      }, BEATS_EVERY_MS);
    },
    async close() {
      clearInterval(registerTimer);
      clearInterval(beatTimer);
      for (const stop of stops) stop();
      for (const c of conns.values()) c.ws.close(1001, 'going away');
      wss.close();
      // Out of discovery at once (a killed server leaves it after the TTL instead).
      await store.removeServer(o.name).catch(() => {});
      await store.close();
    },
  };
}

/**
 * Unicode code points in a string: its UTF-16 length less one for each surrogate pair. A lone surrogate (a client
 * may send one as a JSON escape) is one code point, as JSON Schema's maxLength counts it.
 */
function codePointLength(text: string, mutant?: MutantName): number {
  // MUTANT surrogate-range-off-by-one: U+10000..U+103FF (high surrogate 0xD800) count as two characters.
  const offByOne = mutant === 'surrogate-range-off-by-one';
  // MUTANT surrogate-low-bound-dropped: any unit below 0xDC00 opens a pair (a character, then a lone low surrogate).
  const noLowBound = mutant === 'surrogate-low-bound-dropped';
  let pairs = 0;
  for (let i = 0; i < text.length - 1; i++) {
    const hi = text.charCodeAt(i);
    const fromHighStart = noLowBound || (offByOne ? hi > 0xd800 : hi >= 0xd800);
    if (fromHighStart && hi <= 0xdbff) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return text.length - pairs;
}

/** Only for the bad-token-accepted mutant: reads the claims without checking the signature. */
function lenientClaims(token: string): { userId: string; deviceId: string } | null {
  try {
    const c = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    return typeof c.u === 'string' && typeof c.d === 'string' ? { userId: c.u, deviceId: c.d } : null;
  } catch {
    return null;
  }
}
