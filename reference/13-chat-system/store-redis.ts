// The shared store in Redis, the book's key-value store role: messages of a channel in one sorted set scored by
// message ID (the book's (channel_id, message_id) key), the channel's sequence in its hash, and a key per
// (channel, sender, clientMessageId) for deduplication; the cluster's state (chat-server registry, connections,
// presence) and the relay log (a stream every chat server reads with XREAD). Every multi-key step (append with its
// relay entry, a presence change with its notice, a member under the limit) is one Lua script, so it is atomic
// however many API and chat servers share the Redis.
// All keys start with `ch13:<namespace>:`; the namespace is made once per shared folder (a graded run's store).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Delivery } from './internal.ts';
import { defineChatScripts } from './redis-scripts.ts';
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

export const KEY_PREFIX = 'ch13:';
/** The relay stream keeps about this many entries (a reader further behind has been gone for long; it syncs). */
const RELAY_MAXLEN = 5000;
/** No store command may hold a send longer than this (an outage answers `unavailable`, it does not hang). */
const COMMAND_TIMEOUT_MS = 2000;
const RECONNECT_EVERY_MS = 200;

export class RedisChatStore implements ChatStore {
  readonly kind = 'redis';
  private readonly redis: Redis;
  /** XREAD BLOCK holds its connection: the relay reader gets its own (opened on first use). */
  private reader: Redis | null = null;
  private readonly ns: string;

  /**
   * During an outage a command fails at once instead of waiting in a queue to run later (a send answered
   * `unavailable` is not stored behind the client's back), and none waits for an answer longer than
   * COMMAND_TIMEOUT_MS.
   */
  private static readonly options = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Back soon after the store is: try again every 200 ms, not with a backoff up to 2 s.
    retryStrategy: () => RECONNECT_EVERY_MS,
  };

  private constructor(
    private readonly url: string,
    namespace: string,
    private readonly mutant?: string,
  ) {
    this.redis = new Redis(url, RedisChatStore.options);
    this.redis.on('error', () => {}); // reconnects on its own; each failed command reports itself
    defineChatScripts(this.redis);
    this.ns = `${KEY_PREFIX}${namespace}:`;
  }

  /**
   * Connects; the namespace is kept in `sharedDir` (every node of a manifest sees the same folder), so every node
   * of one run, and a restarted one, use the same keys, and two runs never share any.
   */
  static async open(url: string, sharedDir: string, mutant?: string): Promise<RedisChatStore> {
    const file = join(sharedDir, 'redis-namespace');
    try {
      writeFileSync(file, randomBytes(6).toString('hex'), { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let namespace = '';
    // Another node may have created the file and not written it yet.
    for (let i = 0; !namespace && i < 50; i++) {
      namespace = readFileSync(file, 'utf8').trim();
      if (!namespace) await new Promise((r) => setTimeout(r, 20));
    }
    const s = new RedisChatStore(url, namespace, mutant);
    await s.redis.connect();
    return s;
  }

  private call<T>(name: string, ...args: unknown[]): Promise<T> {
    return (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<T>>)[name]!(...args);
  }

  private k(...parts: (string | number)[]): string {
    return this.ns + parts.join(':');
  }

  async health(): Promise<'up' | 'down'> {
    try {
      await this.redis.ping();
      return 'up';
    } catch {
      return 'down';
    }
  }

  async createUser(username: string, passwordHash: string): Promise<UserRecord | 'taken'> {
    const id = `u_${await this.redis.incr(this.k('seq', 'user'))}`;
    if (!(await this.redis.set(this.k('username', username), id, 'NX'))) return 'taken';
    await this.redis.hset(this.k('user', id), { username, passwordHash });
    return { userId: id, username, passwordHash };
  }

  async userByName(username: string) {
    const id = await this.redis.get(this.k('username', username));
    return id ? this.userById(id) : undefined;
  }

  async userById(userId: string) {
    const h = await this.redis.hgetall(this.k('user', userId));
    return h['username'] ? { userId, username: h['username'], passwordHash: h['passwordHash']! } : undefined;
  }

  async addFriends(a: string, b: string) {
    // MUTANT friends-one-way: only the asker's side is stored.
    if (this.mutant === 'friends-one-way') await this.redis.sadd(this.k('friends', a), b);
    else await this.redis.multi().sadd(this.k('friends', a), b).sadd(this.k('friends', b), a).exec();
  }

  async friendsOf(userId: string) {
    return this.redis.smembers(this.k('friends', userId));
  }

  private async newChannel(type: 'direct' | 'group', name: string | undefined, members: string[], at: string) {
    const id = `c_${await this.redis.incr(this.k('seq', 'channel'))}`;
    const m = this.redis
      .multi()
      .hset(this.k('channel', id), { type, createdAt: at, last: 0, ...(name ? { name } : {}) });
    m.sadd(this.k('memberset', id), ...members).rpush(this.k('members', id), ...members);
    for (const u of members) m.sadd(this.k('userchannels', u), id);
    await m.exec();
    return id;
  }

  async directChannel(a: string, b: string, createdAt: string) {
    const key = this.k('direct', [a, b].sort().join('+'));
    const existing = await this.redis.get(key);
    if (existing) return { channel: (await this.channel(existing))!, created: false };
    const id = await this.newChannel('direct', undefined, [a, b], createdAt);
    // MUTANT direct-check-then-create: the pair's key is written unconditionally (the last of two racers wins).
    if (this.mutant === 'direct-check-then-create') {
      await this.redis.set(key, id);
      return { channel: (await this.channel(id))!, created: true };
    }
    // Two racing creators: the first SET wins and the loser's channel is left unused (never returned).
    if (!(await this.redis.set(key, id, 'NX')))
      return { channel: (await this.channel((await this.redis.get(key))!))!, created: false };
    return { channel: (await this.channel(id))!, created: true };
  }

  async createGroup(name: string | undefined, members: string[], createdAt: string) {
    return (await this.channel(await this.newChannel('group', name, members, createdAt)))!;
  }

  async channel(channelId: string): Promise<ChannelRecord | undefined> {
    const h = await this.redis.hgetall(this.k('channel', channelId));
    if (!h['type']) return undefined;
    const members = await this.redis.lrange(this.k('members', channelId), 0, -1);
    return {
      channelId,
      type: h['type'] as 'direct' | 'group',
      ...(h['name'] ? { name: h['name'] } : {}),
      members,
      createdAt: h['createdAt']!,
    };
  }

  async addMember(channelId: string, userId: string, limit: number) {
    const ok = await this.call<number>(
      'chatAddMember',
      this.k('memberset', channelId),
      this.k('members', channelId),
      userId,
      limit,
    );
    if (!ok) return 'full' as const;
    // MUTANT added-member-not-indexed: the user's channel index misses a group it was added to.
    if (this.mutant !== 'added-member-not-indexed') await this.redis.sadd(this.k('userchannels', userId), channelId);
    return (await this.channel(channelId))!;
  }

  async channelsOf(userId: string) {
    return (await this.redis.smembers(this.k('userchannels', userId))).sort();
  }

  async append(m: Omit<MessageRecord, 'messageId'>, o: AppendOptions) {
    const [json, dup, relayAt] = await this.call<[string, number, string?]>(
      'chatAppend',
      this.k('msgs', m.channelId),
      this.k('cmid', m.channelId, o.dedupAnySender ? '*' : m.senderId, m.clientMessageId),
      this.k('channel', m.channelId),
      this.k('relay'),
      o.dedup ? '1' : '0',
      o.forcedId ?? '',
      m.channelId,
      m.senderId,
      m.clientMessageId,
      m.text,
      m.createdAt,
      JSON.stringify(o.relay),
      RELAY_MAXLEN,
    );
    return { message: toMessage(json), duplicate: dup === 1, ...(relayAt ? { relayAt } : {}) };
  }

  async messagesAfter(channelId: string, after: number, limit: number) {
    const rows = await this.redis.zrangebyscore(this.k('msgs', channelId), `(${after}`, '+inf', 'LIMIT', 0, limit);
    return rows.map(toMessage);
  }

  async maxMessageId(channelId: string) {
    const top = await this.redis.zrevrange(this.k('msgs', channelId), 0, 0, 'WITHSCORES');
    return top[1] ? Number(top[1]) : 0;
  }

  async setCursor(userId: string, deviceId: string, channelId: string, messageId: number) {
    // MUTANT cursor-device-only: the cursor is keyed by the device ID alone (another user's device of that name shares it).
    const key = this.mutant === 'cursor-device-only' ? this.k('cursor', deviceId) : this.k('cursor', userId, deviceId);
    const old = Number((await this.redis.hget(key, channelId)) ?? 0);
    if (messageId > old) await this.redis.hset(key, channelId, messageId);
  }

  async cursor(userId: string, deviceId: string, channelId: string) {
    const key = this.mutant === 'cursor-device-only' ? this.k('cursor', deviceId) : this.k('cursor', userId, deviceId);
    return Number((await this.redis.hget(key, channelId)) ?? 0);
  }

  async setPush(userId: string, deviceId: string, endpoint: string) {
    await this.redis.hset(this.k('push', userId), deviceId, endpoint);
  }

  async pushSubscriptions(userId: string) {
    const h = await this.redis.hgetall(this.k('push', userId));
    return Object.entries(h).map(([deviceId, endpoint]) => ({ deviceId, endpoint }));
  }

  async registerServer(name: string, url: string, now: number) {
    await this.redis.multi().zadd(this.k('servers'), now, name).hset(this.k('serverurls'), name, url).exec();
  }

  async removeServer(name: string) {
    await this.call('chatRemoveServer', this.ns, name);
  }

  private async liveServers(seenSince: number): Promise<[string, number][]> {
    const flat = await this.redis.zrangebyscore(this.k('servers'), seenSince, '+inf', 'WITHSCORES');
    const out: [string, number][] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
    return out;
  }

  async servers(seenSince: number): Promise<ServerEntry[]> {
    const live = await this.liveServers(seenSince);
    if (!live.length) return [];
    const urls = await this.redis.hmget(this.k('serverurls'), ...live.map(([n]) => n));
    const p = this.redis.pipeline();
    for (const [n] of live) p.scard(this.k('serverconns', n));
    const counts = (await p.exec()) ?? [];
    return live.map(([name, lastSeen], i) => ({
      name,
      url: urls[i] ?? '',
      lastSeen,
      connections: Number(counts[i]?.[1] ?? 0),
    }));
  }

  async openConnection(c: ConnectionEntry) {
    await this.redis
      .multi()
      .hset(this.k('conn', c.connId), { userId: c.userId, deviceId: c.deviceId, server: c.server })
      .sadd(this.k('userconns', c.userId), `${c.server}|${c.connId}`)
      .sadd(this.k('serverconns', c.server), c.connId)
      .exec();
  }

  async closeConnection(connId: string) {
    const r = await this.call<[string, number] | null>('chatCloseConnection', this.k('conn', connId), this.ns, connId);
    return r ? { userId: r[0], stillConnected: Number(r[1]) > 0 } : null;
  }

  async connectedUsers(userIds: string[], seenSince: number) {
    const live = new Set((await this.liveServers(seenSince)).map(([n]) => n));
    const p = this.redis.pipeline();
    for (const u of userIds) p.smembers(this.k('userconns', u));
    const res = (await p.exec()) ?? [];
    const out = new Set<string>();
    userIds.forEach((u, i) => {
      const members = (res[i]?.[1] ?? []) as string[];
      if (members.some((m) => live.has(m.slice(0, m.lastIndexOf('|'))))) out.add(u);
    });
    return out;
  }

  async beat(userIds: string[], now: number) {
    if (!userIds.length) return;
    // MUTANT presence-since-on-beat: a heartbeat moves `since` of a user already online to the beat's time.
    const wasOnline =
      this.mutant === 'presence-since-on-beat'
        ? await Promise.all(userIds.map((u) => this.redis.zscore(this.k('online'), u)))
        : [];
    await this.call('chatBeat', this.k('online'), this.ns, RELAY_MAXLEN, now, new Date(now).toISOString(), ...userIds);
    for (const [i, u] of userIds.entries())
      if (wasOnline[i] !== undefined && wasOnline[i] !== null)
        await this.redis.hset(this.k('presence', u), 'since', new Date(now).toISOString());
  }

  async sweepPresence(cutoff: number, now: number) {
    await this.call('chatOffline', this.k('online'), this.ns, RELAY_MAXLEN, cutoff, new Date(now).toISOString(), '');
  }

  async markOffline(userId: string, now: number) {
    await this.call('chatOffline', this.k('online'), this.ns, RELAY_MAXLEN, 0, new Date(now).toISOString(), userId);
  }

  async presence(userId: string): Promise<PresenceRecord> {
    const h = await this.redis.hgetall(this.k('presence', userId));
    return h['status']
      ? { status: h['status'] as PresenceRecord['status'], since: h['since']! }
      : { status: 'offline', since: new Date(0).toISOString() };
  }

  async publish(d: Delivery) {
    await this.redis.xadd(this.k('relay'), 'MAXLEN', '~', RELAY_MAXLEN, '*', 'e', JSON.stringify(d));
  }

  async relayHead() {
    const last = await this.redis.xrevrange(this.k('relay'), '+', '-', 'COUNT', 1);
    return last[0]?.[0] ?? '0-0';
  }

  async relayAfter(cursor: string, limit: number, waitMs: number): Promise<RelayEntry[]> {
    if (!this.reader) {
      // No command timeout here: XREAD BLOCK waits on purpose.
      this.reader = new Redis(this.url, { ...RedisChatStore.options, commandTimeout: undefined });
      this.reader.on('error', () => {});
      await this.reader.connect();
    }
    const r = (await this.reader.xread('COUNT', limit, 'BLOCK', waitMs, 'STREAMS', this.k('relay'), cursor)) as
      | [string, [string, string[]][]][]
      | null;
    return (r?.[0]?.[1] ?? []).map(([at, fields]) => ({ at, d: JSON.parse(fields[1]!) as Delivery }));
  }

  isOutage(e: unknown): boolean {
    return (
      e instanceof Error &&
      /writeable|timed out|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|MaxRetriesPerRequest|LOADING/i.test(
        e.message,
      )
    );
  }

  async close() {
    this.redis.disconnect();
    this.reader?.disconnect();
  }
}

function toMessage(json: string): MessageRecord {
  const m = JSON.parse(json) as MessageRecord;
  return {
    channelId: m.channelId,
    messageId: Number(m.messageId),
    senderId: m.senderId,
    clientMessageId: m.clientMessageId,
    text: m.text,
    createdAt: m.createdAt,
  };
}
