// The chapter's world as checks see it: users signed in on devices, each device a real WebSocket to a chat server
// chosen through service discovery, and what each device has seen. HTTP goes through the validating client typed
// from openapi.yaml; frames through the frame validator (frames.ts). `chatCheck` wraps a check so that every
// connection is closed at the end and any frame that did not fit its schema fails it.
import type { components, paths } from '../../../specs/13-chat-system/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import { type Exchange, exchangeFrom, type HttpClient } from '../../core/http-client.ts';
import { FrameValidator } from './frames.ts';
import { ChatClient, type Frame, FrameLog } from './ws-client.ts';

export type Channel = components['schemas']['Channel'];
export type Message = components['schemas']['Message'];
export type ChatServer = components['schemas']['ChatServer'];

export const MAX_TEXT = 100_000;
/** IDs no store hands out (checks expect 404 for them). */
export const UNKNOWN_USER = 'u_999999999';
export const UNKNOWN_CHANNEL = 'c_999999999';
export const MAX_MEMBERS = 100;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let validator: FrameValidator | null = null;
let runCounter = 0;

export class World {
  readonly log: FrameLog;
  readonly devices: Device[] = [];
  private users = 0;
  /** Unique per check run: the store outlives a check (and may hold an earlier run's users). */
  readonly prefix: string;
  /** The API server the world talks HTTP to: the target's base URL unless a check moves it (useApiServer). */
  private api: HttpClient;

  constructor(readonly ctx: CheckContext) {
    validator ??= new FrameValidator();
    this.log = new FrameLog(validator);
    this.prefix = `t${(ctx.seed >>> 0).toString(36)}${(++runCounter).toString(36)}${Date.now().toString(36).slice(-4)}`;
    this.api = ctx.http;
  }

  get http() {
    return this.api.typed<paths>();
  }

  /** From now on, talk HTTP to this API server (every exchange still validated and recorded). */
  useApiServer(baseUrl: string): void {
    this.api = this.ctx.http.withBaseUrl(baseUrl);
  }

  async x(call: Promise<{ response: Response }>): Promise<Exchange> {
    return exchangeFrom(call);
  }

  /** Signs up a user and signs in `devices` devices of it. */
  async user(devices: string[] = ['phone']): Promise<User> {
    const username = `${this.prefix}_${++this.users}`;
    const password = 'correct-horse-battery';
    const created = await this.x(this.http.POST('/api/v1/users', { body: { username, password } }));
    this.ctx.expectStatus(created, 201);
    const userId = (created.body as { userId: string }).userId;
    const u = new User(this, userId, username);
    for (const d of devices) {
      const s = await this.x(this.http.POST('/api/v1/sessions', { body: { username, password, deviceId: d } }));
      this.ctx.expectStatus(s, 201);
      const dev = new Device(this, u, d, (s.body as { token: string }).token);
      u.devices.push(dev);
      this.devices.push(dev);
    }
    return u;
  }

  auth(token: string) {
    return { headers: { authorization: `Bearer ${token}` } };
  }

  async group(owner: User, members: User[], name = 'group'): Promise<Channel> {
    const r = await this.x(
      this.http.POST('/api/v1/channels', {
        body: { type: 'group', name, members: members.map((m) => m.userId) },
        ...this.auth(owner.token),
      }),
    );
    this.ctx.expectStatus(r, 201);
    const channel = r.body as Channel;
    for (const u of [owner, ...members]) for (const d of u.devices) d.knowChannel(channel.channelId);
    return channel;
  }

  async direct(a: User, b: User): Promise<Channel> {
    const r = await this.x(
      this.http.POST('/api/v1/channels', { body: { type: 'direct', members: [b.userId] }, ...this.auth(a.token) }),
    );
    this.ctx.expect(
      r.status === 201 || r.status === 200,
      `creating a direct channel answered ${r.status ?? r.error}`,
      r,
    );
    const channel = r.body as Channel;
    for (const u of [a, b]) for (const d of u.devices) d.knowChannel(channel.channelId);
    return channel;
  }

  async befriend(a: User, b: User): Promise<void> {
    const r = await this.x(this.http.POST('/api/v1/me/friends', { body: { userId: b.userId }, ...this.auth(a.token) }));
    this.ctx.expectStatus(r, 204);
  }

  /** The whole history of a channel over HTTP, page by page. */
  async history(as: User, channelId: string, pageSize = 200): Promise<Message[]> {
    const out: Message[] = [];
    let after = 0;
    for (;;) {
      const r = await this.x(
        this.http.GET('/api/v1/channels/{channelId}/messages', {
          params: { path: { channelId }, query: { after, limit: pageSize } },
          ...this.auth(as.token),
        }),
      );
      this.ctx.expectStatus(r, 200);
      const page = r.body as { messages: Message[]; nextAfter: number | null };
      out.push(...page.messages);
      if (page.nextAfter === null) return out;
      after = page.nextAfter;
    }
  }

  /** Every live chat server as discovery tells a client: the chosen one first. */
  async servers(as: Device): Promise<ChatServer[]> {
    const r = await this.x(this.http.GET('/api/v1/chat-server', this.auth(as.token)));
    this.ctx.expectStatus(r, 200);
    const d = r.body as { server: ChatServer; alternatives: ChatServer[] };
    return [d.server, ...d.alternatives];
  }

  /** Closes every connection; fails the check if any frame did not fit its schema. */
  finish(): void {
    for (const c of this.log.clients) c.terminate();
    this.ctx.evidence.framesSent = this.log.sent;
    this.ctx.evidence.framesReceived = this.log.received;
    const v = this.log.violations[0];
    if (v)
      this.ctx.fail(
        `a ${v.direction} frame did not fit frames.schema.json (${this.log.violations.length} in all): ${v.violations.join('; ')}`,
        { counterexample: { url: v.url, frame: v.frame } },
      );
  }
}

export class User {
  readonly devices: Device[] = [];
  constructor(
    readonly world: World,
    readonly userId: string,
    readonly username: string,
  ) {}
  get token(): string {
    return this.devices[0]!.token;
  }
  get device(): Device {
    return this.devices[0]!;
  }
}

let clientMessageCounter = 0;
export const newClientMessageId = () => `cm-${Date.now().toString(36)}-${(++clientMessageCounter).toString(36)}`;

/** One signed-in device: its connection, and every message it has seen per channel (its local history). */
export class Device {
  client: ChatClient | null = null;
  server: string | null = null;
  authenticated: Frame | null = null;
  /** channelId -> messageId -> message, from `message` frames and its own `sent` answers. */
  readonly seen = new Map<string, Map<number, { clientMessageId: string; text: string; senderId: string }>>();
  /** Problems seen as frames arrived: a message twice on one connection, two messages with one ID. */
  readonly anomalies: string[] = [];
  /** Message frames in arrival order, with the connection number they came on. */
  readonly arrivals: { channelId: string; messageId: number; conn: number; at: number }[] = [];
  private conn = 0;
  private perConn = new Set<string>();
  presence: { userId: string; status: string; at: number }[] = [];

  constructor(
    readonly world: World,
    readonly user: User,
    readonly deviceId: string,
    readonly token: string,
  ) {}

  get label(): string {
    return `${this.user.username}/${this.deviceId}${this.server ? `@${this.server}` : ''}`;
  }

  /**
   * A channel the device's user belongs to (as a real client learns from its channel list): its sync cursor starts at
   * 0 even before the first message arrives, so a device away from a channel's very first message still asks for it.
   */
  knowChannel(channelId: string): void {
    if (!this.seen.has(channelId)) this.seen.set(channelId, new Map());
  }

  /** cur_max_message_id of a channel on this device. */
  curMax(channelId: string): number {
    return Math.max(0, ...(this.seen.get(channelId)?.keys() ?? []));
  }

  private record(channelId: string, messageId: number, m: { clientMessageId: string; text: string; senderId: string }) {
    let ch = this.seen.get(channelId);
    if (!ch) {
      ch = new Map();
      this.seen.set(channelId, ch);
    }
    const had = ch.get(messageId);
    if (had && (had.clientMessageId !== m.clientMessageId || had.senderId !== m.senderId || had.text !== m.text))
      this.anomalies.push(
        `${this.label}: message ID ${messageId} of ${channelId} named two messages (${had.clientMessageId} and ${m.clientMessageId})`,
      );
    ch.set(messageId, m);
  }

  private onFrame(f: Frame): void {
    if (f.type === 'message') {
      const key = `${f.channelId} ${f.messageId}`;
      if (this.perConn.has(key))
        this.anomalies.push(`${this.label}: message ${f.messageId} of ${f.channelId} arrived twice on one connection`);
      this.perConn.add(key);
      this.arrivals.push({
        channelId: String(f.channelId),
        messageId: Number(f.messageId),
        conn: this.conn,
        at: Date.now(),
      });
      this.record(String(f.channelId), Number(f.messageId), {
        clientMessageId: String(f.clientMessageId),
        text: String(f.text),
        senderId: String(f.senderId),
      });
    } else if (f.type === 'presence') {
      this.presence.push({ userId: String(f.userId), status: String(f.status), at: Date.now() });
    }
  }

  /** Opens a WebSocket (to the named chat server, else discovery's choice) and authenticates. */
  async connect(serverName?: string): Promise<Frame> {
    const ctx = this.world.ctx;
    const servers = await this.world.servers(this);
    const target = serverName ? servers.find((s) => s.name === serverName) : servers[0];
    if (!target)
      return ctx.fail(
        `discovery does not list chat server ${serverName} (it lists ${servers.map((s) => s.name).join(', ')})`,
      );
    return this.connectTo(target);
  }

  async connectTo(target: ChatServer): Promise<Frame> {
    const ctx = this.world.ctx;
    this.client?.terminate();
    this.conn++;
    this.perConn = new Set();
    let client: ChatClient;
    try {
      client = await ChatClient.connect(target.url, this.world.log);
    } catch (e) {
      return ctx.fail(
        `${this.label}: cannot open a WebSocket to ${target.name} (${target.url}): ${(e as Error).message}`,
      );
    }
    client.onFrame = (f) => this.onFrame(f);
    this.client = client;
    this.server = target.name;
    const from = client.frames.length;
    client.send({ type: 'auth', token: this.token });
    const ok = await client.waitFor((f) => f.type === 'authenticated' || f.type === 'error', 5000, from);
    if (ok?.type !== 'authenticated')
      return ctx.fail(
        `${this.label}: auth answered ${ok ? JSON.stringify(ok) : `nothing (closed: ${JSON.stringify(client.closed)})`}`,
      );
    this.authenticated = ok;
    return ok;
  }

  /** Connects to the first live server discovery lists that accepts the connection (a client after a failure). */
  async reconnect(): Promise<void> {
    const servers = await this.world.servers(this);
    const errors: string[] = [];
    for (const s of servers) {
      try {
        const c = await ChatClient.connect(s.url, this.world.log, 2000);
        c.terminate();
      } catch (e) {
        errors.push(`${s.name}: ${(e as Error).message}`);
        continue;
      }
      await this.connectTo(s);
      return;
    }
    this.world.ctx.fail(`${this.label}: no chat server discovery lists takes a connection: ${errors.join('; ')}`);
  }

  private get c(): ChatClient {
    if (!this.client) return this.world.ctx.fail(`${this.label} is not connected`);
    return this.client;
  }

  /** Sends a text; resolves with the `sent` or `error` answer (null: none within the timeout). */
  async send(channelId: string, text: string, clientMessageId = newClientMessageId(), timeoutMs = 5000) {
    const c = this.c;
    const from = c.frames.length;
    c.send({ type: 'send', channelId, clientMessageId, text });
    const answer = await c.waitFor(
      (f) =>
        (f.type === 'sent' || f.type === 'error') &&
        (f.clientMessageId === clientMessageId || f.ref === clientMessageId),
      timeoutMs,
      from,
    );
    if (answer?.type === 'sent')
      this.record(channelId, Number(answer.messageId), { clientMessageId, text, senderId: this.user.userId });
    return { answer, clientMessageId };
  }

  /** Sends and expects `sent`; returns its message ID. */
  async sendOk(channelId: string, text: string, clientMessageId?: string): Promise<number> {
    const { answer } = await this.send(channelId, text, clientMessageId);
    if (answer?.type !== 'sent')
      return this.world.ctx.fail(
        `${this.label}: send to ${channelId} answered ${answer ? JSON.stringify(answer) : 'nothing within 5 s'}`,
      );
    return Number(answer.messageId);
  }

  /** Sync from this device's cur_max_message_id of every channel it knows (or the given cursors). */
  async sync(
    cursors?: { channelId: string; curMaxMessageId: number }[],
  ): Promise<{ synced: Frame; messages: Frame[] }> {
    const c = this.c;
    const from = c.frames.length;
    const cs =
      cursors ?? [...this.seen.keys()].map((channelId) => ({ channelId, curMaxMessageId: this.curMax(channelId) }));
    c.send({ type: 'sync', cursors: cs });
    const synced = await c.waitFor((f) => f.type === 'synced', 10_000, from);
    if (!synced) return this.world.ctx.fail(`${this.label}: no synced frame within 10 s of sync`);
    const end = c.frames.indexOf(synced);
    return { synced, messages: c.frames.slice(from, end).filter((f) => f.type === 'message') };
  }

  /** Waits until this device has seen every (channel, message ID) pair given. */
  async waitSeen(channelId: string, ids: number[], timeoutMs = 5000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = ids.filter((id) => !this.seen.get(channelId)?.has(id));
      if (!missing.length || Date.now() >= deadline || !this.client) return missing;
      await this.client.waitFor(() => true, Math.min(200, deadline - Date.now()), this.client.frames.length);
    }
  }

  heartbeat(): void {
    this.client?.send({ type: 'heartbeat' });
  }

  drop(): void {
    this.client?.terminate();
    this.client = null;
  }
}

/** Runs a check body with a world, closing every connection and checking every frame afterwards. */
export function chatCheck(body: (w: World) => Promise<void>): (ctx: CheckContext) => Promise<void> {
  return async (ctx) => {
    const w = new World(ctx);
    let failure: unknown;
    try {
      await body(w);
    } catch (e) {
      failure = e;
    }
    // The body's own failure comes first; frame violations fail an otherwise passing check.
    if (failure) {
      for (const c of w.log.clients) c.terminate();
      throw failure;
    }
    w.finish();
  };
}

/** How many messages of the channel's history carry this client message ID. */
export async function storedCopies(w: World, as: Device, channelId: string, cid: string): Promise<number> {
  return (await w.history(as.user, channelId)).filter((m) => m.clientMessageId === cid).length;
}

/** Connects each device to the servers in turn (device i to server i mod n). */
export async function spread(devices: Device[], servers: ChatServer[]): Promise<void> {
  for (const [i, d] of devices.entries()) await d.connectTo(servers[i % servers.length]!);
}

/** Chat servers discovery lists, or a skip when fewer than `n`. */
export async function needServers(w: World, as: Device, n: number): Promise<ChatServer[]> {
  const s = await w.servers(as);
  if (s.length < n)
    w.ctx.skip(`needs ${n} chat servers; discovery lists ${s.length} (${s.map((x) => x.name).join(', ')})`);
  return s;
}
