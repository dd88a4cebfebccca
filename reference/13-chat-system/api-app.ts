// The API server: the public HTTP API of openapi.yaml (stateless: tokens are signed, state is in the store), and
// behind /internal/* the services the chat servers use - the message service (ID + store + relay), presence,
// discovery's registry and the notification servers.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import { messageFrame, type SendRequest, type SendResult, type SyncRequest, type SyncResult } from './internal.ts';
import type { MutantName } from './mutants.ts';
import { Presence } from './presence.ts';
import { pushMessage } from './push.ts';
import { Router } from './router.ts';
import { type ChannelRecord, type ChatStore, MAX_GROUP_MEMBERS } from './store.ts';
import type { Tokens } from './token.ts';

export const SPEC_URL = new URL('../../specs/13-chat-system/openapi.yaml', import.meta.url);
export const MAX_TEXT = 100_000;
const INTERNAL_BODY_LIMIT = 64 * 1024 * 1024;

export interface ApiAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  store: ChatStore;
  tokens: Tokens;
  peers: Map<string, string>;
  presenceTimeoutMs: number;
  serverTtlMs: number;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('base64')}:${scryptSync(password, salt, 32, { N: 1024 }).toString('base64')}`;
}

function passwordMatches(password: string, stored: string): boolean {
  const [salt, hash] = stored.split(':');
  const got = scryptSync(password, Buffer.from(salt!, 'base64'), 32, { N: 1024 });
  return timingSafeEqual(got, Buffer.from(hash!, 'base64'));
}

export function buildApiApp(o: ApiAppOptions): { app: FastifyInstance; close: () => Promise<void> } {
  const { store, tokens, mutant } = o;
  let app: FastifyInstance;
  const log = (msg: string) => app?.log.warn(msg);
  const router = new Router(o.peers, o.serverTtlMs, log, mutant === 'discovery-keeps-dead');
  const presence = new Presence(o.presenceTimeoutMs, (userId, state) => {
    void store.friendsOf(userId).then((friends) => {
      if (friends.length) router.relay({ frame: { type: 'presence', userId, ...state }, userIds: friends });
    });
  });

  function caller(request: FastifyRequest): { userId: string; deviceId: string } {
    const auth = request.headers.authorization ?? '';
    const claims = auth.startsWith('Bearer ') ? tokens.verify(auth.slice(7).trim()) : null;
    if (!claims) throw new ProblemError(401, 'unauthorized', 'a valid bearer token from createSession is required');
    return claims;
  }

  async function memberChannel(channelId: string, userId: string): Promise<ChannelRecord> {
    const c = await store.channel(channelId);
    if (!c) throw new ProblemError(404, 'not_found', `no channel ${channelId}`);
    if (!c.members.includes(userId)) throw new ProblemError(403, 'not_member', `you are not a member of ${channelId}`);
    return c;
  }

  async function requireUsers(ids: string[]): Promise<void> {
    for (const id of ids)
      if (!(await store.userById(id))) throw new ProblemError(404, 'user_not_found', `no user ${id}`);
  }

  // MUTANT group-limit-101: one member too many fits.
  const groupLimit = mutant === 'group-limit-101' ? MAX_GROUP_MEMBERS + 1 : MAX_GROUP_MEMBERS;

  app = createApp({
    spec: o.spec,
    readiness: o.readiness,
    logger: o.logger,
    // MUTANT unvalidated-input: sign-up bodies reach the handler unchecked.
    unvalidated: mutant === 'unvalidated-input' ? ['createUser'] : [],
    handlers: {
      async createUser(request, reply) {
        const { username, password } = request.body as { username: string; password: string };
        const u = await store.createUser(username, hashPassword(password));
        if (u === 'taken') throw new ProblemError(409, 'username_taken', `${username} is taken`);
        return reply.code(201).send({ userId: u.userId, username: u.username });
      },
      async createSession(request, reply) {
        const { username, password, deviceId } = request.body as Record<string, string>;
        const u = await store.userByName(username!);
        if (!u || !passwordMatches(password!, u.passwordHash))
          throw new ProblemError(401, 'unauthorized', 'wrong username or password');
        const token = tokens.issue(u.userId, deviceId!);
        return reply.code(201).send({ token, userId: u.userId, deviceId, expiresInS: tokens.ttlS });
      },
      async getUser(request, reply) {
        caller(request);
        const u = await store.userById((request.params as { userId: string }).userId);
        if (!u) throw new ProblemError(404, 'not_found', 'no such user');
        return reply.send({ userId: u.userId, username: u.username });
      },
      async getPresence(request, reply) {
        caller(request);
        const { userId } = request.params as { userId: string };
        if (!(await store.userById(userId))) throw new ProblemError(404, 'not_found', 'no such user');
        return reply.header('cache-control', 'no-store').send({ userId, ...presence.state(userId) });
      },
      async addFriend(request, reply) {
        const me = caller(request);
        const { userId } = request.body as { userId: string };
        if (userId === me.userId) throw new ProblemError(400, 'invalid_friend', 'you cannot befriend yourself');
        if (!(await store.userById(userId))) throw new ProblemError(404, 'not_found', `no user ${userId}`);
        await store.addFriends(me.userId, userId);
        return reply.code(204).send();
      },
      async setPushSubscription(request, reply) {
        const me = caller(request);
        const { deviceId } = request.params as { deviceId: string };
        await store.setPush(me.userId, deviceId, (request.body as { endpoint: string }).endpoint);
        return reply.code(204).send();
      },
      async createChannel(request, reply) {
        const me = caller(request);
        const body = request.body as { type: 'direct' | 'group'; name?: string; members: string[] };
        const others = [...new Set(body.members)].filter((m) => m !== me.userId);
        const now = new Date().toISOString();
        if (body.type === 'direct') {
          if (others.length !== 1)
            throw new ProblemError(400, 'invalid_members', 'a direct channel names exactly one other user');
          await requireUsers(others);
          // MUTANT direct-not-reused: every request makes a new one-on-one channel.
          const { channel, created } =
            mutant === 'direct-not-reused'
              ? { channel: await store.createGroup(undefined, [me.userId, others[0]!], now), created: true }
              : await store.directChannel(me.userId, others[0]!, now);
          if (mutant === 'direct-not-reused') channel.type = 'direct';
          return reply
            .code(created ? 201 : 200)
            .header('location', `/api/v1/channels/${channel.channelId}`)
            .send(channel);
        }
        if (others.length + 1 > groupLimit)
          throw new ProblemError(409, 'group_full', `a group has at most ${MAX_GROUP_MEMBERS} members`);
        await requireUsers(others);
        const c = await store.createGroup(body.name, [me.userId, ...others], now);
        return reply.code(201).header('location', `/api/v1/channels/${c.channelId}`).send(c);
      },
      async getChannel(request, reply) {
        const me = caller(request);
        return reply.send(await memberChannel((request.params as { channelId: string }).channelId, me.userId));
      },
      async addMember(request, reply) {
        const me = caller(request);
        const { channelId } = request.params as { channelId: string };
        const c = await memberChannel(channelId, me.userId);
        if (c.type !== 'group') throw new ProblemError(400, 'not_a_group', 'members cannot join a one-on-one channel');
        const { userId } = request.body as { userId: string };
        if (!(await store.userById(userId))) throw new ProblemError(404, 'user_not_found', `no user ${userId}`);
        const r = await store.addMember(channelId, userId, groupLimit);
        if (r === 'full') throw new ProblemError(409, 'group_full', `a group has at most ${MAX_GROUP_MEMBERS} members`);
        return reply.send(r);
      },
      async listMessages(request, reply) {
        const me = caller(request);
        const { channelId } = request.params as { channelId: string };
        const { after = 0, limit = 50 } = request.query as { after?: number; limit?: number };
        await memberChannel(channelId, me.userId);
        const messages = await store.messagesAfter(channelId, after, limit);
        const nextAfter = messages.length === limit ? messages[messages.length - 1]!.messageId : null;
        return reply.send({ messages, nextAfter });
      },
      async getChatServer(request, reply) {
        caller(request);
        const live = router.live();
        if (!live.length)
          throw new ProblemError(503, 'unavailable', 'no chat server is up', { headers: { 'retry-after': '1' } });
        const [best, ...rest] = live.map((s) => ({ name: s.name, url: s.url }));
        return reply.header('cache-control', 'no-store').send({ server: best, alternatives: rest });
      },
    },
  });

  // ---- internal services for the chat servers ----
  const internal = { bodyLimit: INTERNAL_BODY_LIMIT };
  app.post('/internal/servers', internal, async (request, reply) => {
    const { name, url } = request.body as { name: string; url: string };
    router.register(name, url);
    return reply.code(204).send();
  });

  app.post('/internal/connections', internal, async (request, reply) => {
    const b = request.body as {
      op: 'open' | 'close';
      connId: string;
      userId: string;
      deviceId: string;
      server: string;
    };
    if (b.op === 'open') {
      router.open(b.connId, { userId: b.userId, deviceId: b.deviceId, server: b.server });
      presence.beat(b.userId);
    } else {
      const r = router.close(b.connId);
      // MUTANT offline-on-disconnect: the naive presence - offline as soon as the last connection closes.
      if (r && !r.stillConnected && mutant === 'offline-on-disconnect') presence.markOffline(r.userId);
    }
    return reply.code(204).send();
  });

  app.post('/internal/heartbeats', internal, async (request, reply) => {
    for (const u of (request.body as { userIds: string[] }).userIds) presence.beat(u);
    return reply.code(204).send();
  });

  app.post('/internal/messages', internal, async (request, reply): Promise<SendResult> => {
    const b = request.body as SendRequest;
    const c = await store.channel(b.channelId);
    if (!c) return reply.code(404).send({ error: 'not_found', detail: `no channel ${b.channelId}` });
    if (!c.members.includes(b.senderId))
      return reply.code(403).send({ error: 'not_member', detail: `you are not a member of ${b.channelId}` });
    const { message, duplicate } = await store.append(
      {
        channelId: b.channelId,
        senderId: b.senderId,
        clientMessageId: b.clientMessageId,
        text: b.text,
        createdAt: new Date().toISOString(),
      },
      {
        // MUTANT no-dedup / dedup-per-connection: the store does not look for an earlier copy.
        dedup: mutant !== 'no-dedup' && mutant !== 'dedup-per-connection',
        ...(b.forcedId !== undefined ? { forcedId: b.forcedId } : {}),
      },
    );
    if (!duplicate) {
      router.relay(
        { frame: messageFrame(message), userIds: c.members, exceptConn: b.connId },
        // MUTANT no-cross-server-relay: only members on the sender's own chat server get it live.
        mutant === 'no-cross-server-relay' ? (router.serverOf(b.connId) ?? '') : undefined,
      );
      for (const member of c.members) {
        if (member === b.senderId) continue;
        // MUTANT push-always: push whether or not the member is connected.
        if (router.connected(member) && mutant !== 'push-always') continue;
        void store.pushSubscriptions(member).then((subs) => pushMessage(subs, member, message, log));
      }
    }
    return reply.send({ message, duplicate });
  });

  app.post('/internal/sync', internal, async (request, reply): Promise<SyncResult> => {
    const b = request.body as SyncRequest;
    const given = new Map(b.cursors.map((c) => [c.channelId, c.curMaxMessageId]));
    const out: SyncResult = { messages: [], channels: [] };
    for (const channelId of await store.channelsOf(b.userId)) {
      let after = given.get(channelId) ?? (await store.cursor(b.userId, b.deviceId, channelId));
      // MUTANT sync-ignores-cursor: every sync starts from the beginning of the channel.
      if (mutant === 'sync-ignores-cursor') after = 0;
      for (;;) {
        const page = await store.messagesAfter(channelId, after, 1000);
        // MUTANT sync-skips-own: "you already have what you sent" - wrong for the user's other devices.
        out.messages.push(...(mutant === 'sync-skips-own' ? page.filter((m) => m.senderId !== b.userId) : page));
        if (page.length < 1000) break;
        after = page[page.length - 1]!.messageId;
      }
      out.channels.push({ channelId, maxMessageId: await store.maxMessageId(channelId) });
    }
    return reply.send(out);
  });

  app.post('/internal/acks', internal, async (request, reply) => {
    const b = request.body as { userId: string; deviceId: string; channelId: string; messageId: number };
    const c = await store.channel(b.channelId);
    if (!c) return reply.code(404).send({ error: 'not_found', detail: `no channel ${b.channelId}` });
    if (!c.members.includes(b.userId))
      return reply.code(403).send({ error: 'not_member', detail: `you are not a member of ${b.channelId}` });
    await store.setCursor(b.userId, b.deviceId, b.channelId, b.messageId);
    return reply.code(204).send();
  });

  return {
    app,
    close: async () => {
      presence.close();
      await store.close();
    },
  };
}
