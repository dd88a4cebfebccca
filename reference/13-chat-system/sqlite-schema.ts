// The embedded store's tables (SQLite, STRICT), made if missing by every process that opens the shared file: the
// book's user, channel, member and message tables, plus the cluster's state (chat servers, connections, presence)
// and the relay log every chat server tails.
export const CHAT_SCHEMA = `
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
  CREATE TABLE IF NOT EXISTS chat_servers (name TEXT PRIMARY KEY, url TEXT NOT NULL, last_seen INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS chat_connections (
    conn_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, device_id TEXT NOT NULL, server TEXT NOT NULL) STRICT;
  CREATE INDEX IF NOT EXISTS chat_connections_user ON chat_connections (user_id);
  CREATE INDEX IF NOT EXISTS chat_connections_server ON chat_connections (server);
  CREATE TABLE IF NOT EXISTS chat_presence (
    user_id TEXT PRIMARY KEY, status TEXT NOT NULL, since TEXT NOT NULL, last_beat INTEGER NOT NULL) STRICT;
  CREATE INDEX IF NOT EXISTS chat_presence_online ON chat_presence (status, last_beat);
  CREATE TABLE IF NOT EXISTS chat_relay (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL, at INTEGER NOT NULL) STRICT;
`;
