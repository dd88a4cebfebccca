// The yardstick of chapter 13's capacity search: the least a chat service can do and still fan a message out over
// WebSockets, in one Node process with the `ws` library. It answers the few HTTP calls the fan-out probe makes to
// set up its group (sign-up, sign-in, a group, discovery) from memory, and on a `send` frame acknowledges it and
// writes one `message` frame to every other member's connection: no store, no validation, no relay. Its capacity,
// measured in the same run as an implementation's, is what this machine allows for fan-out (k6 receiving every
// copy takes most of the CPU), so the implementation's ratio to it says how much of that the implementation keeps.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type WebSocket, WebSocketServer } from 'ws';

export interface NoopFanoutServer {
  /** HTTP base URL, e.g. http://127.0.0.1:41234 (WebSockets at /ws). */
  url: string;
  stop(): Promise<void>;
}

interface Member {
  userId: string;
  sockets: Set<WebSocket>;
}

/** Starts the no-op fan-out server on 127.0.0.1 (port 0 = any free port). */
export function startNoopFanoutServer(opts: { port?: number } = {}): Promise<NoopFanoutServer> {
  const users = new Map<string, Member>();
  const byName = new Map<string, Member>();
  const channels = new Map<string, Member[]>();
  let wsUrl = '';
  let nextId = 0;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const member = (req: IncomingMessage) => users.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/api/v1/users') {
      // The user's ID is its token too: the yardstick checks nothing.
      const userId = `u${++nextId}`;
      const m = { userId, sockets: new Set<WebSocket>() };
      users.set(userId, m);
      byName.set(String(body.username), m);
      return json(res, 201, { userId, username: body.username });
    }
    if (req.method === 'POST' && path === '/api/v1/sessions') {
      const u = byName.get(String(body.username));
      if (!u) return json(res, 401, { title: 'unknown user' });
      return json(res, 201, { token: u.userId, userId: u.userId });
    }
    if (req.method === 'POST' && path === '/api/v1/channels') {
      const owner = member(req);
      const ids = Array.isArray(body.members) ? (body.members as string[]) : [];
      const members = [owner, ...ids.map((id) => users.get(id))].filter((m): m is Member => m !== undefined);
      const channelId = `c${++nextId}`;
      channels.set(channelId, members);
      return json(res, 201, { channelId, type: 'group', members: members.map((m) => m.userId) });
    }
    if (req.method === 'GET' && path === '/api/v1/chat-server')
      return json(res, 200, { server: { name: 'noop', url: wsUrl }, alternatives: [] });
    if (path === '/' || path === '/health/ready') return json(res, 200, { ok: true });
    json(res, 404, { title: 'not found' });
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    route(req, res).catch((e: Error) => json(res, 400, { title: e.message }));
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    let me: Member | undefined;
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { type: string; token?: string; channelId?: string; text?: string };
      if (f.type === 'auth') {
        me = users.get(f.token ?? '');
        if (!me) return ws.close(4001, 'unknown token');
        me.sockets.add(ws);
        ws.send(JSON.stringify({ type: 'authenticated', userId: me.userId }));
        return;
      }
      if (f.type !== 'send' || !me) return;
      const messageId = ++nextId;
      const frame = JSON.stringify({
        type: 'message',
        channelId: f.channelId,
        messageId,
        senderId: me.userId,
        text: f.text,
      });
      for (const m of channels.get(f.channelId ?? '') ?? []) if (m !== me) for (const s of m.sockets) s.send(frame);
      ws.send(
        JSON.stringify({
          type: 'sent',
          channelId: f.channelId,
          clientMessageId: (f as { clientMessageId?: string }).clientMessageId,
          messageId,
        }),
      );
    });
    ws.on('close', () => me?.sockets.delete(ws));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      wsUrl = `ws://127.0.0.1:${port}/ws`;
      resolve({
        url: `http://127.0.0.1:${port}`,
        stop: () =>
          new Promise<void>((res, rej) => {
            for (const c of wss.clients) c.terminate();
            wss.close();
            server.close((err) => (err ? rej(err) : res()));
            server.closeAllConnections();
          }),
      });
    });
  });
}

// Runnable as a script: `tsx harness/load/noop-fanout-server.ts --port N` prints its URL and serves until killed.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${values.port}`);
    process.exit(2);
  }
  const srv = await startNoopFanoutServer({ port });
  console.log(srv.url);
  const shutdown = () => {
    srv.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
