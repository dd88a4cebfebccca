// Where every user is connected, and the relay to them: the API server's view of the chat servers (registered and
// heart-beating, the service discovery's list) and of each open connection. A message is relayed to the chat
// servers holding its members' connections, through one ordered queue per server (so each connection sees a
// channel's messages in ID order), batched into one POST per flush.
import { type Delivery, postJson } from './internal.ts';

export interface ChatServerInfo {
  name: string;
  /** The WebSocket URL clients use. */
  url: string;
  /** The base URL this API server reaches it on (its ${peers} entry, maybe a fault proxy). */
  internalUrl: string;
  lastSeen: number;
}

interface Connection {
  userId: string;
  deviceId: string;
  server: string;
}

export class Router {
  readonly servers = new Map<string, ChatServerInfo>();
  private readonly conns = new Map<string, Connection>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly queues = new Map<string, { pending: Delivery[]; flushing: boolean }>();

  constructor(
    /** Chat server name -> base URL from ${peers}. */
    private readonly peers: Map<string, string>,
    /** A chat server not heard from for this long is dead: out of discovery, its connections dropped. */
    readonly serverTtlMs: number,
    private readonly log: (msg: string) => void,
    /** Only the discovery-keeps-dead mutant sets this. */
    private readonly keepDead = false,
  ) {}

  register(name: string, url: string, now = Date.now()): void {
    const internalUrl = this.peers.get(name) ?? url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    this.servers.set(name, { name, url, internalUrl, lastSeen: now });
  }

  /** Live chat servers, least connections first (the book's "best server" by load). */
  live(now = Date.now()): ChatServerInfo[] {
    const alive = [...this.servers.values()].filter((s) => this.keepDead || now - s.lastSeen <= this.serverTtlMs);
    for (const s of this.servers.values()) if (!alive.includes(s)) this.dropServer(s.name, 'missed its heartbeats');
    const load = (name: string) => [...this.conns.values()].filter((c) => c.server === name).length;
    return alive.sort((a, b) => load(a.name) - load(b.name) || a.name.localeCompare(b.name));
  }

  open(connId: string, c: Connection): void {
    this.conns.set(connId, c);
    let set = this.byUser.get(c.userId);
    if (!set) {
      set = new Set();
      this.byUser.set(c.userId, set);
    }
    set.add(connId);
  }

  /** Closes a connection; answers whether the user still has another one. */
  close(connId: string): { userId: string; stillConnected: boolean } | null {
    const c = this.conns.get(connId);
    if (!c) return null;
    this.conns.delete(connId);
    const set = this.byUser.get(c.userId);
    set?.delete(connId);
    if (set && set.size === 0) this.byUser.delete(c.userId);
    return { userId: c.userId, stillConnected: (set?.size ?? 0) > 0 };
  }

  connected(userId: string): boolean {
    return (this.byUser.get(userId)?.size ?? 0) > 0;
  }

  private dropServer(name: string, why: string): void {
    if (!this.servers.has(name)) return;
    // MUTANT discovery-keeps-dead: a dead chat server stays in discovery's list.
    if (!this.keepDead) this.servers.delete(name);
    let n = 0;
    for (const [id, c] of this.conns) {
      if (c.server === name) {
        this.close(id);
        n++;
      }
    }
    this.log(`chat server ${name} ${why}: removed with its ${n} connections`);
  }

  /** Queues a frame for every connection of these users, on whichever chat server holds it. */
  relay(d: Delivery, onlyServer?: string): void {
    const servers = new Set<string>();
    for (const u of d.userIds) for (const id of this.byUser.get(u) ?? []) servers.add(this.conns.get(id)!.server);
    for (const s of servers) if (onlyServer === undefined || s === onlyServer) this.enqueue(s, d);
  }

  serverOf(connId: string): string | undefined {
    return this.conns.get(connId)?.server;
  }

  private enqueue(server: string, d: Delivery): void {
    let q = this.queues.get(server);
    if (!q) {
      q = { pending: [], flushing: false };
      this.queues.set(server, q);
    }
    q.pending.push(d);
    if (!q.flushing) void this.flush(server, q);
  }

  private async flush(server: string, q: { pending: Delivery[]; flushing: boolean }): Promise<void> {
    q.flushing = true;
    while (q.pending.length) {
      const items = q.pending.splice(0, 500);
      const info = this.servers.get(server);
      if (!info) {
        q.pending.length = 0;
        break;
      }
      try {
        await postJson(`${info.internalUrl}/internal/deliver`, { items }, 5000);
      } catch (e) {
        // The server is gone: its clients will reconnect elsewhere and sync; nothing is lost (it is all stored).
        this.dropServer(server, `did not take a delivery (${(e as Error).message})`);
        q.pending.length = 0;
      }
    }
    q.flushing = false;
  }
}
