// The embedded default store: one SQLite file every node of the manifest opens (SHARED_DIR, the manifest's
// ${sharedDir}): WAL lets the processes read at once while one writes, and every multi-step change (an append:
// dedup look-up, next sequence number, insert, relay entry) is one IMMEDIATE transaction, so the processes take
// turns on it as Redis's scripts would. synchronous=NORMAL: a committed message is in the OS page cache before
// `sent` goes out, so it survives kill -9 of any process.
import Database from 'better-sqlite3';
import { type Delivery, messageFrame, presenceFrame } from './internal.ts';
import { CHAT_SCHEMA } from './sqlite-schema.ts';
import type {
  AppendOptions,
  ChannelRecord,
  ChatStore,
  ConnectionEntry,
  MessageRecord,
  PresenceRecord,
  RelayEntry,
  ServerEntry,
  UserRecord,
} from './store.ts';

/** How often an idle relay reader looks again (the embedded log has no blocking read). */
const RELAY_POLL_MS = 10;
/** Relay entries older than this are dropped (a reader further behind has been gone for long; it syncs). */
const RELAY_KEEP_MS = 30_000;

interface MessageRow {
  channel_id: string;
  message_id: number;
  sender_id: string;
  client_message_id: string;
  text: string;
  created_at: string;
}

const toMessage = (r: MessageRow): MessageRecord => ({
  channelId: r.channel_id,
  messageId: r.message_id,
  senderId: r.sender_id,
  clientMessageId: r.client_message_id,
  text: r.text,
  createdAt: r.created_at,
});

export class SqliteChatStore implements ChatStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  /** MUTANT relay-keep-30ms: the retention in the wrong unit, 30 ms instead of 30 s. */
  private readonly relayKeepMs: number;

  constructor(
    file: string,
    private readonly mutant?: string,
  ) {
    this.relayKeepMs = mutant === 'relay-keep-30ms' ? 30 : RELAY_KEEP_MS;
    this.db = new Database(file);
    // Several processes write: wait for the lock instead of failing at once.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(CHAT_SCHEMA);
  }

  async createUser(username: string, passwordHash: string): Promise<UserRecord | 'taken'> {
    const r = this.db
      .prepare('INSERT INTO chat_users (username, password_hash) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id')
      .get(username, passwordHash) as { id: number } | undefined;
    return r ? { userId: `u_${r.id}`, username, passwordHash } : 'taken';
  }

  private user(where: string, value: string | number): UserRecord | undefined {
    const r = this.db.prepare(`SELECT id, username, password_hash FROM chat_users WHERE ${where} = ?`).get(value) as
      | { id: number; username: string; password_hash: string }
      | undefined;
    return r ? { userId: `u_${r.id}`, username: r.username, passwordHash: r.password_hash } : undefined;
  }

  async userByName(username: string) {
    return this.user('username', username);
  }

  async userById(userId: string) {
    const m = /^u_(\d+)$/.exec(userId);
    return m ? this.user('id', Number(m[1])) : undefined;
  }

  async addFriends(a: string, b: string) {
    const ins = this.db.prepare('INSERT INTO chat_friends (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING');
    this.db.transaction(() => {
      ins.run(a, b);
      // MUTANT friends-one-way: only the asker's side is stored (the asker never hears of the friend's presence).
      if (this.mutant !== 'friends-one-way') ins.run(b, a);
    })();
  }

  async friendsOf(userId: string) {
    return this.db.prepare('SELECT b FROM chat_friends WHERE a = ?').pluck().all(userId) as string[];
  }

  private channelSync(channelId: string): ChannelRecord | undefined {
    const m = /^c_(\d+)$/.exec(channelId);
    if (!m) return undefined;
    const r = this.db.prepare('SELECT id, type, name, created_at FROM chat_channels WHERE id = ?').get(Number(m[1])) as
      | { id: number; type: 'direct' | 'group'; name: string | null; created_at: string }
      | undefined;
    if (!r) return undefined;
    const members = this.db
      .prepare('SELECT user_id FROM chat_members WHERE channel_id = ? ORDER BY position')
      .pluck()
      .all(channelId) as string[];
    return {
      channelId,
      type: r.type,
      ...(r.name !== null ? { name: r.name } : {}),
      members,
      createdAt: r.created_at,
    };
  }

  private insertChannel(type: string, name: string | null, key: string | null, members: string[], at: string) {
    const { id } = this.db
      .prepare('INSERT INTO chat_channels (type, name, direct_key, created_at) VALUES (?, ?, ?, ?) RETURNING id')
      .get(type, name, key, at) as { id: number };
    const ins = this.db.prepare('INSERT INTO chat_members (channel_id, user_id, position) VALUES (?, ?, ?)');
    for (const [i, u] of members.entries()) ins.run(`c_${id}`, u, i);
    return this.channelSync(`c_${id}`)!;
  }

  async directChannel(a: string, b: string, createdAt: string) {
    const key = [a, b].sort().join(' ');
    return this.db.transaction(() => {
      const id = this.db.prepare('SELECT id FROM chat_channels WHERE direct_key = ?').pluck().get(key) as
        | number
        | undefined;
      if (id !== undefined) return { channel: this.channelSync(`c_${id}`)!, created: false };
      return { channel: this.insertChannel('direct', null, key, [a, b], createdAt), created: true };
    })();
  }

  async createGroup(name: string | undefined, members: string[], createdAt: string) {
    return this.db.transaction(() => this.insertChannel('group', name ?? null, null, members, createdAt))();
  }

  async channel(channelId: string) {
    return this.channelSync(channelId);
  }

  async addMember(channelId: string, userId: string, limit: number) {
    return this.db
      .transaction((): ChannelRecord | 'full' => {
        const c = this.channelSync(channelId)!;
        if (c.members.includes(userId)) return c;
        if (c.members.length >= limit) return 'full';
        this.db
          .prepare('INSERT INTO chat_members (channel_id, user_id, position) VALUES (?, ?, ?)')
          .run(channelId, userId, c.members.length);
        return this.channelSync(channelId)!;
      })
      .immediate();
  }

  async channelsOf(userId: string) {
    return this.db
      .prepare('SELECT channel_id FROM chat_members WHERE user_id = ? ORDER BY channel_id')
      .pluck()
      .all(userId) as string[];
  }

  async append(m: Omit<MessageRecord, 'messageId'>, o: AppendOptions) {
    return this.db
      .transaction(() => {
        if (o.dedup) {
          const old = (
            o.dedupAnySender
              ? this.db
                  .prepare('SELECT * FROM chat_messages WHERE channel_id = ? AND client_message_id = ? LIMIT 1')
                  .get(m.channelId, m.clientMessageId)
              : this.mutant === 'dedup-recent-50'
                ? // MUTANT dedup-recent-50: only the channel's latest 50 messages are looked at for the earlier copy.
                  this.db
                    .prepare(
                      'SELECT * FROM (SELECT * FROM chat_messages WHERE channel_id = ? ORDER BY message_id DESC LIMIT 50) WHERE sender_id = ? AND client_message_id = ? LIMIT 1',
                    )
                    .get(m.channelId, m.senderId, m.clientMessageId)
                : this.db
                    .prepare(
                      'SELECT * FROM chat_messages WHERE channel_id = ? AND sender_id = ? AND client_message_id = ? LIMIT 1',
                    )
                    .get(m.channelId, m.senderId, m.clientMessageId)
          ) as MessageRow | undefined;
          if (old) return { message: toMessage(old), duplicate: true };
        }
        let messageId = o.forcedId;
        if (messageId === undefined) {
          // The channel's own sequence: unique and increasing within the channel (the book's local sequence).
          messageId = this.db
            .prepare(
              'UPDATE chat_channels SET last_message_id = last_message_id + 1 WHERE id = ? RETURNING last_message_id',
            )
            .pluck()
            .get(Number(m.channelId.slice(2))) as number;
        }
        this.db
          .prepare(
            'INSERT OR REPLACE INTO chat_messages (channel_id, message_id, sender_id, client_message_id, text, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(m.channelId, messageId, m.senderId, m.clientMessageId, m.text, m.createdAt);
        const message = { ...m, messageId };
        const relayAt = this.publishSync({ frame: messageFrame(message), ...o.relay });
        return { message, duplicate: false, relayAt };
      })
      .immediate();
  }

  async messagesAfter(channelId: string, after: number, limit: number) {
    const rows = this.db
      .prepare('SELECT * FROM chat_messages WHERE channel_id = ? AND message_id > ? ORDER BY message_id LIMIT ?')
      .all(channelId, after, limit) as MessageRow[];
    return rows.map(toMessage);
  }

  async maxMessageId(channelId: string) {
    return (this.db
      .prepare('SELECT COALESCE(MAX(message_id), 0) FROM chat_messages WHERE channel_id = ?')
      .pluck()
      .get(channelId) ?? 0) as number;
  }

  async setCursor(userId: string, deviceId: string, channelId: string, messageId: number) {
    this.db
      .prepare(
        `INSERT INTO chat_cursors (user_id, device_id, channel_id, message_id) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET message_id = MAX(message_id, excluded.message_id)`,
      )
      .run(userId, deviceId, channelId, messageId);
  }

  async cursor(userId: string, deviceId: string, channelId: string) {
    return (this.db
      .prepare('SELECT message_id FROM chat_cursors WHERE user_id = ? AND device_id = ? AND channel_id = ?')
      .pluck()
      .get(userId, deviceId, channelId) ?? 0) as number;
  }

  async setPush(userId: string, deviceId: string, endpoint: string) {
    // MUTANT push-subscription-per-user: a subscription replaces those of the user's other devices too.
    if (this.mutant === 'push-subscription-per-user')
      this.db.prepare('DELETE FROM chat_push WHERE user_id = ?').run(userId);
    this.db
      .prepare(
        'INSERT INTO chat_push (user_id, device_id, endpoint) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET endpoint = excluded.endpoint',
      )
      .run(userId, deviceId, endpoint);
  }

  async pushSubscriptions(userId: string) {
    return this.db.prepare('SELECT device_id AS deviceId, endpoint FROM chat_push WHERE user_id = ?').all(userId) as {
      deviceId: string;
      endpoint: string;
    }[];
  }

  async registerServer(name: string, url: string, now: number) {
    this.db
      .prepare(
        'INSERT INTO chat_servers (name, url, last_seen) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET url = excluded.url, last_seen = excluded.last_seen',
      )
      .run(name, url, now);
  }

  async removeServer(name: string) {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM chat_connections WHERE server = ?').run(name);
      this.db.prepare('DELETE FROM chat_servers WHERE name = ?').run(name);
    })();
  }

  async servers(seenSince: number): Promise<ServerEntry[]> {
    return this.db
      .prepare(
        `SELECT name, url, last_seen AS lastSeen,
           (SELECT COUNT(*) FROM chat_connections c WHERE c.server = s.name) AS connections
         FROM chat_servers s WHERE last_seen >= ?`,
      )
      .all(seenSince) as ServerEntry[];
  }

  async openConnection(c: ConnectionEntry) {
    this.db
      .prepare('INSERT OR REPLACE INTO chat_connections (conn_id, user_id, device_id, server) VALUES (?, ?, ?, ?)')
      .run(c.connId, c.userId, c.deviceId, c.server);
  }

  async closeConnection(connId: string) {
    return this.db
      .transaction(() => {
        const userId = this.db.prepare('SELECT user_id FROM chat_connections WHERE conn_id = ?').pluck().get(connId) as
          | string
          | undefined;
        if (userId === undefined) return null;
        this.db.prepare('DELETE FROM chat_connections WHERE conn_id = ?').run(connId);
        const left = this.db.prepare('SELECT COUNT(*) FROM chat_connections WHERE user_id = ?').pluck().get(userId);
        return { userId, stillConnected: (left as number) > 0 };
      })
      .immediate();
  }

  async connectedUsers(userIds: string[], seenSince: number) {
    const rows = this.db
      .prepare(
        `SELECT DISTINCT c.user_id FROM chat_connections c JOIN chat_servers s ON s.name = c.server
         WHERE s.last_seen >= ? AND c.user_id IN (SELECT value FROM json_each(?))`,
      )
      .pluck()
      .all(seenSince, JSON.stringify(userIds)) as string[];
    return new Set(rows);
  }

  private publishSync(d: Delivery): string {
    const r = this.db.prepare('INSERT INTO chat_relay (entry, at) VALUES (?, ?)').run(JSON.stringify(d), Date.now());
    return String(r.lastInsertRowid);
  }

  private presenceChange(userId: string, status: 'online' | 'offline', since: string): void {
    const friends = this.db.prepare('SELECT b FROM chat_friends WHERE a = ?').pluck().all(userId) as string[];
    if (friends.length) this.publishSync({ frame: presenceFrame(userId, status, since), userIds: friends });
  }

  async beat(userIds: string[], now: number) {
    const since = new Date(now).toISOString();
    // Prepared once per batch: a chat server sends every connected user's heartbeats in one.
    const statusOf = this.db.prepare('SELECT status FROM chat_presence WHERE user_id = ?').pluck();
    const keep = this.db.prepare('UPDATE chat_presence SET last_beat = MAX(last_beat, ?) WHERE user_id = ?');
    const online = this.db.prepare(
      `INSERT INTO chat_presence (user_id, status, since, last_beat) VALUES (?, 'online', ?, ?)
       ON CONFLICT DO UPDATE SET status = 'online', since = excluded.since, last_beat = excluded.last_beat`,
    );
    this.db
      .transaction(() => {
        for (const u of userIds) {
          if (statusOf.get(u) === 'online') {
            keep.run(now, u);
            // MUTANT presence-since-on-beat: a heartbeat moves `since` (the last change) to the beat's time.
            if (this.mutant === 'presence-since-on-beat')
              this.db.prepare('UPDATE chat_presence SET since = ? WHERE user_id = ?').run(since, u);
            continue;
          }
          online.run(u, since, now);
          this.presenceChange(u, 'online', since);
        }
      })
      .immediate();
  }

  private offline(userIds: string[], now: number): void {
    const since = new Date(now).toISOString();
    for (const u of userIds) {
      this.db.prepare(`UPDATE chat_presence SET status = 'offline', since = ? WHERE user_id = ?`).run(since, u);
      this.presenceChange(u, 'offline', since);
    }
  }

  private prunedAt = 0;

  async sweepPresence(cutoff: number, now: number) {
    // Every node sweeps several times a second: take the write lock only when someone is due.
    const due = this.db
      .prepare(`SELECT 1 FROM chat_presence WHERE status = 'online' AND last_beat < ? LIMIT 1`)
      .get(cutoff);
    if (due)
      this.db
        .transaction(() => {
          const gone = this.db
            .prepare(`SELECT user_id FROM chat_presence WHERE status = 'online' AND last_beat < ?`)
            .pluck()
            .all(cutoff) as string[];
          this.offline(gone, now);
        })
        .immediate();
    if (now - this.prunedAt > 2000) {
      this.prunedAt = now;
      // The log is in seq order and `at` grows with seq: the first young entry is found at the low end.
      const keepFrom = this.db
        .prepare('SELECT seq FROM chat_relay WHERE at >= ? ORDER BY seq LIMIT 1')
        .pluck()
        .get(now - this.relayKeepMs) as number | undefined;
      if (keepFrom !== undefined) this.db.prepare('DELETE FROM chat_relay WHERE seq < ?').run(keepFrom);
    }
  }

  async markOffline(userId: string, now: number) {
    this.db
      .transaction(() => {
        const status = this.db.prepare('SELECT status FROM chat_presence WHERE user_id = ?').pluck().get(userId);
        if (status === 'online') this.offline([userId], now);
      })
      .immediate();
  }

  async presence(userId: string): Promise<PresenceRecord> {
    const r = this.db.prepare('SELECT status, since FROM chat_presence WHERE user_id = ?').get(userId) as
      | PresenceRecord
      | undefined;
    return r ?? { status: 'offline', since: new Date(0).toISOString() };
  }

  async publish(d: Delivery) {
    this.publishSync(d);
  }

  async relayHead() {
    return String(this.db.prepare('SELECT COALESCE(MAX(seq), 0) FROM chat_relay').pluck().get());
  }

  async relayAfter(cursor: string, limit: number, waitMs: number): Promise<RelayEntry[]> {
    const read = () =>
      this.db
        .prepare('SELECT seq, entry FROM chat_relay WHERE seq > ? ORDER BY seq LIMIT ?')
        .all(Number(cursor), limit) as { seq: number; entry: string }[];
    let rows = read();
    if (!rows.length && waitMs > 0) {
      await new Promise((r) => setTimeout(r, Math.min(waitMs, RELAY_POLL_MS)));
      rows = read();
    }
    return rows.map((r) => ({ at: String(r.seq), d: JSON.parse(r.entry) as Delivery }));
  }

  isOutage(e: unknown): boolean {
    // Another process held the write lock past busy_timeout.
    return (e as { code?: string })?.code === 'SQLITE_BUSY';
  }

  async close() {
    this.db.close();
  }
}
