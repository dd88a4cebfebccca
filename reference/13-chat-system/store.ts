// What the API server keeps: users and friends, channels and members (the book's relational part), and the chat
// history keyed by (channel_id, message_id) (the book's key-value part). Async so another backend can fit.
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
  /** A message ID chosen by the caller instead of the channel's sequence (only the per-server-sequence mutant). */
  forcedId?: number;
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
  /** Stores a message with the channel's next message ID, or returns the earlier one with the same client ID. */
  append(
    m: Omit<MessageRecord, 'messageId'>,
    o: AppendOptions,
  ): Promise<{ message: MessageRecord; duplicate: boolean }>;
  messagesAfter(channelId: string, after: number, limit: number): Promise<MessageRecord[]>;
  maxMessageId(channelId: string): Promise<number>;
  setCursor(userId: string, deviceId: string, channelId: string, messageId: number): Promise<void>;
  cursor(userId: string, deviceId: string, channelId: string): Promise<number>;
  setPush(userId: string, deviceId: string, endpoint: string): Promise<void>;
  pushSubscriptions(userId: string): Promise<{ deviceId: string; endpoint: string }[]>;
  close(): Promise<void>;
}
