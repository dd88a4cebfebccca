// The one shared store every node uses (API servers and chat servers hold nothing another node needs): users and
// friends, channels and members (the book's relational part), the chat history keyed by (channel_id, message_id)
// (the book's key-value part), and the cluster's state - the chat-server registry (service discovery), which chat
// server holds which connection, presence, and the relay log every chat server tails (the book's message sync
// queue). Async so either backend fits (SQLite file shared by the processes, or Redis).
import type { Delivery } from './internal.ts';

export interface UserRecord {
  userId: string;
  username: string;
  passwordHash: string;
}

export interface ChannelRecord {
  channelId: string;
  type: 'direct' | 'group';
  name?: string;
  members: string[];
  createdAt: string;
}

export interface MessageRecord {
  channelId: string;
  messageId: number;
  senderId: string;
  clientMessageId: string;
  text: string;
  createdAt: string;
}

export interface AppendOptions {
  /** Look for an earlier message of this sender with this clientMessageId first (the reference always does). */
  dedup: boolean;
  /** Only the dedup-ignores-sender mutant: the earlier copy is looked up by channel and clientMessageId alone. */
  dedupAnySender?: boolean;
  /** A message ID chosen by the caller instead of the channel's sequence (only the per-server-sequence mutant). */
  forcedId?: number;
  /** The relay entry written with a new message in the same transaction (so no stored message misses the relay). */
  relay: Omit<Delivery, 'frame'>;
}

export interface ServerEntry {
  name: string;
  /** The WebSocket URL clients use. */
  url: string;
  lastSeen: number;
  connections: number;
}

export interface ConnectionEntry {
  connId: string;
  userId: string;
  deviceId: string;
  server: string;
}

export interface RelayEntry {
  /** Its position in the log: a cursor, ordered by relayPositionAfter. */
  at: string;
  d: Delivery;
}

/** Whether relay position `a` comes after `b` (SQLite: "17"; a Redis stream ID: "1732780000000-3"). */
export function relayPositionAfter(a: string, b: string): boolean {
  const x = a.split('-').map(Number);
  const y = b.split('-').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  }
  return false;
}

/** MUTANT relay-same-ms: positions compared by their millisecond part only (entries of one millisecond tie). */
export function relayPositionAfterSameMsBroken(a: string, b: string): boolean {
  return Number(a.split('-')[0]) > Number(b.split('-')[0]);
}

export interface PresenceRecord {
  status: 'online' | 'offline';
  since: string;
}

export const MAX_GROUP_MEMBERS = 100;

export interface ChatStore {
  readonly kind: string;
  createUser(username: string, passwordHash: string): Promise<UserRecord | 'taken'>;
  userByName(username: string): Promise<UserRecord | undefined>;
  userById(userId: string): Promise<UserRecord | undefined>;
  addFriends(a: string, b: string): Promise<void>;
  friendsOf(userId: string): Promise<string[]>;
  /** The direct channel of the pair if it exists, else a new one (created: true). */
  directChannel(a: string, b: string, createdAt: string): Promise<{ channel: ChannelRecord; created: boolean }>;
  createGroup(name: string | undefined, members: string[], createdAt: string): Promise<ChannelRecord>;
  channel(channelId: string): Promise<ChannelRecord | undefined>;
  /** Adds a member to a group unless it would exceed `limit` members. */
  addMember(channelId: string, userId: string, limit: number): Promise<ChannelRecord | 'full'>;
  channelsOf(userId: string): Promise<string[]>;
  /**
   * Stores a message with the channel's next message ID and its relay entry (`relayAt`: the entry's position), or
   * returns the earlier one with the same client ID.
   */
  append(
    m: Omit<MessageRecord, 'messageId'>,
    o: AppendOptions,
  ): Promise<{ message: MessageRecord; duplicate: boolean; relayAt?: string }>;
  messagesAfter(channelId: string, after: number, limit: number): Promise<MessageRecord[]>;
  maxMessageId(channelId: string): Promise<number>;
  setCursor(userId: string, deviceId: string, channelId: string, messageId: number): Promise<void>;
  cursor(userId: string, deviceId: string, channelId: string): Promise<number>;
  setPush(userId: string, deviceId: string, endpoint: string): Promise<void>;
  pushSubscriptions(userId: string): Promise<{ deviceId: string; endpoint: string }[]>;

  // Service discovery's registry: chat servers register every few hundred ms; `servers` lists those seen since
  // `seenSince` (all of them when it is 0), with their open connections.
  registerServer(name: string, url: string, now: number): Promise<void>;
  /** A chat server starting (again) or stopping: out of the registry, its connections with it. */
  removeServer(name: string): Promise<void>;
  servers(seenSince: number): Promise<ServerEntry[]>;
  openConnection(c: ConnectionEntry): Promise<void>;
  /** Whether the user still has another connection afterwards; null for an unknown connection. */
  closeConnection(connId: string): Promise<{ userId: string; stillConnected: boolean } | null>;
  /** Those of `userIds` with a connection on a chat server seen since `seenSince`. */
  connectedUsers(userIds: string[], seenSince: number): Promise<Set<string>>;

  // Presence: each change goes into the relay log for the user's friends in the same step.
  /** Online from now (a change for those who were not); keeps the others online. */
  beat(userIds: string[], now: number): Promise<void>;
  /** Everyone online whose last beat is older than `cutoff` goes offline (one node wins each change). */
  sweepPresence(cutoff: number, now: number): Promise<void>;
  /** Only the offline-on-disconnect mutant. */
  markOffline(userId: string, now: number): Promise<void>;
  presence(userId: string): Promise<PresenceRecord>;

  // The relay log (every chat server reads it all, in order, and delivers to its own connections).
  publish(d: Delivery): Promise<void>;
  /** Where a reader starting now begins. */
  relayHead(): Promise<string>;
  /** Entries after `cursor` (may wait up to `waitMs` for one), each with its position (a cursor). */
  relayAfter(cursor: string, limit: number, waitMs: number): Promise<RelayEntry[]>;
  /** Whether an error means the store could not be reached or answer in time (a 503, not a bug). */
  isOutage(e: unknown): boolean;
  close(): Promise<void>;
}
