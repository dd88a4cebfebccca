// The chapter's world as checks see it: users signed in on devices, each device a real WebSocket to a chat server
// chosen through service discovery, and what each device has seen. HTTP goes through the validating client typed
// from openapi.yaml; frames through the frame validator (frames.ts). `chatCheck` wraps a check so that every
// connection is closed at the end and any frame that did not fit its schema fails it.
import type { components, paths } from '../../../specs/13-chat-system/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import { type Exchange, exchangeFrom, type HttpClient } from '../../core/http-client.ts';
import { timeScale } from '../../core/time-scale.ts';
import { Device } from './device.ts';
import { FrameValidator } from './frames.ts';
import { FrameLog } from './ws-client.ts';

export type Channel = components['schemas']['Channel'];
export type Message = components['schemas']['Message'];
export type ChatServer = components['schemas']['ChatServer'];

export const MAX_TEXT = 100_000;
/** IDs no store hands out (checks expect 404 for them). */
export const UNKNOWN_USER = 'u_999999999';
export const UNKNOWN_CHANNEL = 'c_999999999';
export const MAX_MEMBERS = 100;
// Stopped with the check at its time limit (see core/check-scope.ts).
export { sleep } from '../../core/check-scope.ts';

let validator: FrameValidator | null = null;
let runCounter = 0;

/** How long discovery may answer 503 `unavailable` (with Retry-After) before a check gives up on it. */
const DISCOVERY_RETRY_MS = 10_000;

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

  /**
   * Every live chat server as discovery tells a client: the chosen one first. The spec's 503 `unavailable` with
   * Retry-After (no chat server registered yet, e.g. just after the store came back) is retried as a client would,
   * for at most DISCOVERY_RETRY_MS (scaled); a discovery that stays 503 still fails.
   */
  async servers(as: Device): Promise<ChatServer[]> {
    const until = Date.now() + DISCOVERY_RETRY_MS * timeScale();
    let r = await this.x(this.http.GET('/api/v1/chat-server', this.auth(as.token)));
    while (r.status === 503 && r.headers['retry-after'] && Date.now() < until) {
      this.ctx.evidence.discoveryRetries = ((this.ctx.evidence.discoveryRetries as number | undefined) ?? 0) + 1;
      await this.ctx.sleep(Math.min(1000, Number(r.headers['retry-after']) * 1000 || 1000));
      r = await this.x(this.http.GET('/api/v1/chat-server', this.auth(as.token)));
    }
    this.ctx.expectStatus(r, 200);
    const d = r.body as { server: ChatServer; alternatives: ChatServer[] };
    return [d.server, ...d.alternatives];
  }

  /**
   * The chat servers discovery names for `as`, for a fault check: skips unless there are two, and unless the first
   * (the one the fault hits) is a node of the manifest the harness can stop, kill or pause.
   */
  async faultServers(as: Device, why = ''): Promise<[victim: ChatServer, other: ChatServer, all: ChatServer[]]> {
    const servers = await this.servers(as);
    if (servers.length < 2) this.ctx.skip(`needs two chat servers${why}; discovery lists ${servers.length}`);
    const victim = servers[0]!;
    if (!this.ctx.target.nodes.includes(victim.name))
      this.ctx.skip(
        `discovery names chat server ${victim.name}, which is no node of the manifest (${this.ctx.target.nodes.join(', ')}): name the nodes as discovery does`,
      );
    return [victim, servers[1]!, servers];
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
