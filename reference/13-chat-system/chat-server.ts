// A chat server: holds the clients' WebSockets (the only stateful service), checks their tokens, and passes sends,
// syncs, acks and heartbeats to the API server's message and presence services; relays what the API server
// delivers to its local connections. Policy for a client that does not read: once what the server holds for it
// passes SLOW_CLIENT_LIMIT_BYTES, it is closed with 4008 (and dropped 30 s later), so memory stays bounded.
import Fastify, { type FastifyInstance } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Readiness, readinessHandler } from '../kit/health.ts';
import { problemBody, sendProblem } from '../kit/problem.ts';
import { MAX_TEXT } from './api-app.ts';
import { type ClientFrame, clientFrameParser } from './frames.ts';
import { type Delivery, postJson, type SendResult, type ServerFrame, type SyncResult } from './internal.ts';
import type { MutantName } from './mutants.ts';
import type { Tokens } from './token.ts';

export interface ChatServerOptions {
  name: string;
  apiUrl: string;
  tokens: Tokens;
  readiness: Readiness;
  heartbeatIntervalMs: number;
  presenceTimeoutMs: number;
  slowClientLimitBytes: number;
  mutant?: MutantName | undefined;
  logLevel: string;
}

const MAX_FRAME_BYTES = 1024 * 1024;
const AUTH_TIMEOUT_MS = 5000;
const SLOW_CLIENT_GRACE_MS = 30_000;

interface Conn {
  id: string;
  ws: WebSocket;
  userId?: string;
  deviceId?: string;
  /** Highest message ID sent on this connection, per channel: nothing goes twice on one connection. */
  lastSent: Map<string, number>;
  /** Messages this connection sent (it got `sent` for them, not `message`). */
  own: Set<string>;
  /** Live messages held back while a sync is being answered. */
  held: ServerFrame[] | null;
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
  const app = Fastify({ logger: { level: o.logLevel, stream: process.stderr }, bodyLimit: 256 * 1024 * 1024 });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const conns = new Map<string, Conn>();
  const byUser = new Map<string, Set<Conn>>();
  const beats = new Set<string>();
  let seq = 0;
  let registerTimer: NodeJS.Timeout | undefined;
  let beatTimer: NodeJS.Timeout | undefined;
  const localIds = new Map<string, number>();
  const serverIndex = Number(/(\d+)$/.exec(o.name)?.[1] ?? 1);

  const api = (path: string, body: unknown) => postJson<unknown>(`${o.apiUrl}${path}`, body);

  function send(c: Conn, frame: ServerFrame): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (frame.type === 'message') {
      const ch = frame['channelId'] as string;
      const id = frame['messageId'] as number;
      if (id <= (c.lastSent.get(ch) ?? 0) || c.own.has(`${ch} ${id}`)) return;
      c.lastSent.set(ch, id);
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

  app.get('/health/ready', readinessHandler(o.readiness));
  app.post('/internal/deliver', async (request, reply) => {
    for (const d of (request.body as { items: Delivery[] }).items)
      for (const u of d.userIds) for (const c of byUser.get(u) ?? []) if (c.id !== d.exceptConn) deliver(c, d.frame);
    return reply.code(204).send();
  });
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
    const c: Conn = { id: `${o.name}-${++seq}`, ws, lastSent: new Map(), own: new Set(), held: null };
    if (mutant === 'dedup-per-connection') c.sentByClientId = new Map();
    conns.set(c.id, c);
    const authTimer = setTimeout(() => ws.close(4001, 'unauthorized'), AUTH_TIMEOUT_MS);
    let queue = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      // One frame at a time per connection: a send is answered before the next frame is looked at.
      queue = queue
        .then(() => handle(c, isBinary ? '' : data.toString()))
        .catch((e) => {
          app.log.error({ err: e, conn: c.id }, 'frame failed');
        });
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      conns.delete(c.id);
      if (c.userId) {
        byUser.get(c.userId)?.delete(c);
        if (byUser.get(c.userId)?.size === 0) byUser.delete(c.userId);
        void api('/internal/connections', { op: 'close', connId: c.id }).catch(() => {});
      }
    });
    ws.on('error', () => {});
    ws.once('message', () => clearTimeout(authTimer));
  }

  async function handle(c: Conn, text: string): Promise<void> {
    const f = parse(text);
    if ('invalid' in f) return send(c, { type: 'error', code: 'invalid_frame', detail: f.invalid });
    if (!c.userId && f.type !== 'auth')
      return send(c, { type: 'error', code: 'not_authenticated', detail: 'send auth first' });
    switch (f.type) {
      case 'auth':
        return authenticate(c, f.token);
      case 'send':
        return sendMessage(c, f);
      case 'ack':
        try {
          const r = (await api('/internal/acks', { userId: c.userId, deviceId: c.deviceId, ...f, type: undefined })) as
            | { error: string; detail: string }
            | undefined;
          if (r?.error) send(c, { type: 'error', code: r.error, detail: r.detail });
        } catch (e) {
          send(c, { type: 'error', code: 'unavailable', detail: (e as Error).message });
        }
        return;
      case 'sync':
        return sync(c, f.cursors);
      case 'heartbeat':
        beats.add(c.userId!);
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
    try {
      await api('/internal/connections', {
        op: 'open',
        connId: c.id,
        userId: claims.userId,
        deviceId: claims.deviceId,
        server: o.name,
      });
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
    if (f.text.length > MAX_TEXT)
      return send(c, {
        type: 'error',
        code: 'message_too_long',
        detail: `text has ${f.text.length} characters; at most ${MAX_TEXT}`,
        ref: f.clientMessageId,
      });
    const earlier = c.sentByClientId?.get(`${f.channelId} ${f.clientMessageId}`);
    if (earlier) return send(c, { ...earlier, duplicate: true });
    let forcedId: number | undefined;
    if (mutant === 'per-server-sequence') {
      // MUTANT per-server-sequence: each chat server numbers a channel's messages itself (interleaved, unique).
      const n = (localIds.get(f.channelId) ?? 0) + 1;
      localIds.set(f.channelId, n);
      forcedId = (n - 1) * 2 + serverIndex;
    }
    let r: SendResult;
    try {
      r = await postJson<SendResult>(`${o.apiUrl}/internal/messages`, {
        channelId: f.channelId,
        senderId: c.userId,
        clientMessageId: f.clientMessageId,
        text: f.text,
        connId: c.id,
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
    // The sending connection has this message: a later sync on it must not send it back.
    c.own.add(`${f.channelId} ${r.message.messageId}`);
    send(c, sent);
  }

  async function sync(c: Conn, cursors: { channelId: string; curMaxMessageId: number }[]): Promise<void> {
    c.held = [];
    try {
      const r = (await api('/internal/sync', { userId: c.userId, deviceId: c.deviceId, cursors })) as SyncResult;
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

  async function registerOnce(url: string): Promise<void> {
    // A short deadline: through a fault proxy, an API server that is not up yet can mean silence, not a refusal.
    await postJson(`${o.apiUrl}/internal/servers`, { name: o.name, url: `${url.replace(/^http/, 'ws')}/ws` }, 500);
  }

  return {
    app,
    async onListening(url) {
      // Ready once the API server knows this chat server (service discovery can hand it out).
      for (let i = 0; ; i++) {
        try {
          await registerOnce(url);
          break;
        } catch (e) {
          if (i > 150) throw new Error(`cannot register with the API server at ${o.apiUrl}: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      registerTimer = setInterval(() => void registerOnce(url).catch(() => {}), 500);
      beatTimer = setInterval(() => {
        if (!beats.size) return;
        const userIds = [...beats];
        beats.clear();
        void api('/internal/heartbeats', { userIds }).catch(() => {});
      }, 100);
    },
    async close() {
      clearInterval(registerTimer);
      clearInterval(beatTimer);
      for (const c of conns.values()) c.ws.close(1001, 'going away');
      wss.close();
    },
  };
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
