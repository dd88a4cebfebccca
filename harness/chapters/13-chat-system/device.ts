// One signed-in device as checks drive it: its WebSocket to a chat server, the frames it got, and its local history
// per channel (what a real client keeps to sync from its cur_max_message_id).

import { timeLimit } from '../../core/time-scale.ts';
import type { ChatServer, User, World } from './api.ts';
import { ChatClient, type Frame } from './ws-client.ts';

/** How long a device waits for an answer before calling it missing: a hang bound (SDGRADE_TIME_SCALE scales it on
 * a busy machine), not a speed the spec asks for. */
const ANSWER_MS = timeLimit(5000);

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
  /**
   * Message frames, and `sent` answers to new messages (not to resends), in arrival order, with the connection number
   * they came on.
   */
  readonly arrivals: { channelId: string; messageId: number; conn: number; at: number; sent?: true }[] = [];
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
    } else if (f.type === 'sent' && f.duplicate === false) {
      this.arrivals.push({
        channelId: String(f.channelId),
        messageId: Number(f.messageId),
        conn: this.conn,
        at: Date.now(),
        sent: true,
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
    const ok = await client.waitFor((f) => f.type === 'authenticated' || f.type === 'error', ANSWER_MS, from);
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
  async send(channelId: string, text: string, clientMessageId = newClientMessageId(), timeoutMs = ANSWER_MS) {
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
        `${this.label}: send to ${channelId} answered ${answer ? JSON.stringify(answer) : `nothing within ${ANSWER_MS / 1000} s`}`,
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
  async waitSeen(channelId: string, ids: number[], timeoutMs = ANSWER_MS): Promise<number[]> {
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
