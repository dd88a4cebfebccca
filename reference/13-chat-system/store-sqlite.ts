// The embedded default store: one SQLite file in the API server's DATA_DIR (better-sqlite3, synchronous: a whole
// append - dedup look-up, next sequence number, insert - runs in one transaction with nothing interleaved).
// WAL with synchronous=NORMAL: a committed message is in the OS page cache before `sent` goes out, so it survives
// kill -9 of the process.
import Database from 'better-sqlite3';
import type { AppendOptions, ChannelRecord, ChatStore, MessageRecord, UserRecord } from './store.ts';

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

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS chat_users (
        id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS chat_friends (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b)) STRICT;
      CREATE TABLE IF NOT EXISTS chat_channels (
        id INTEGER PRIMARY KEY, type TEXT NOT NULL, name TEXT, direct_key TEXT UNIQUE,
        created_at TEXT NOT NULL, last_message_id INTEGER NOT NULL DEFAULT 0) STRICT;
      CREATE TABLE IF NOT EXISTS chat_members (
        channel_id TEXT NOT NULL, user_id TEXT NOT NULL, position INTEGER NOT NULL,
        PRIMARY KEY (channel_id, user_id)) STRICT;
      CREATE INDEX IF NOT EXISTS chat_members_user ON chat_members (user_id);
      -- the book's message table for group chat: (channel_id, message_id) is the key
      CREATE TABLE IF NOT EXISTS chat_messages (
        channel_id TEXT NOT NULL, message_id INTEGER NOT NULL, sender_id TEXT NOT NULL,
        client_message_id TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (channel_id, message_id)) STRICT;
      CREATE INDEX IF NOT EXISTS chat_messages_client ON chat_messages (channel_id, sender_id, client_message_id);
      CREATE TABLE IF NOT EXISTS chat_cursors (
        user_id TEXT NOT NULL, device_id TEXT NOT NULL, channel_id TEXT NOT NULL, message_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id, channel_id)) STRICT;
      CREATE TABLE IF NOT EXISTS chat_push (
        user_id TEXT NOT NULL, device_id TEXT NOT NULL, endpoint TEXT NOT NULL, PRIMARY KEY (user_id, device_id)) STRICT;
    `);
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
      ins.run(b, a);
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
          const old = this.db
            .prepare(
              'SELECT * FROM chat_messages WHERE channel_id = ? AND sender_id = ? AND client_message_id = ? LIMIT 1',
            )
            .get(m.channelId, m.senderId, m.clientMessageId) as MessageRow | undefined;
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
        return { message: { ...m, messageId }, duplicate: false };
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

  async close() {
    this.db.close();
  }
}
