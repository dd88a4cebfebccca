// An API server: the public HTTP API of openapi.yaml. Stateless, as the book's: tokens are signed (any node checks
// one), and users, channels, history, presence and discovery's registry are all in the shared store, so any number
// of API servers answer alike and losing one loses nothing. It also runs the presence sweep (presence.ts).
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import type { MutantName } from './mutants.ts';
import { startPresenceSweep } from './presence.ts';
import { type ChannelRecord, type ChatStore, MAX_GROUP_MEMBERS } from './store.ts';
import type { Tokens } from './token.ts';

export const SPEC_URL = new URL('../../specs/13-chat-system/openapi.yaml', import.meta.url);
export const MAX_TEXT = 100_000;

export interface ApiAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  store: ChatStore;
  tokens: Tokens;
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

type Handlers = NonNullable<CreateAppOptions['handlers']>;

/** A store that cannot be reached is a 503 `unavailable` (retry), not a 500: every handler says so. */
function outageAs503(store: ChatStore, handlers: Handlers): Handlers {
  const out: Handlers = {};
  for (const [id, h] of Object.entries(handlers)) {
    out[id] = async (request, reply) => {
      try {
        return await h(request, reply);
      } catch (e) {
        if (!(e instanceof ProblemError) && store.isOutage(e))
          throw new ProblemError(503, 'unavailable', 'the store cannot be reached; retry', {
            headers: { 'retry-after': '1' },
          });
        throw e;
      }
    };
  }
  return out;
}

export function buildApiApp(o: ApiAppOptions): { app: FastifyInstance; close: () => Promise<void> } {
  const { store, tokens, mutant } = o;
  let app: FastifyInstance;
  const log = (msg: string) => app?.log.warn(msg);
  const sweep = startPresenceSweep(store, o.presenceTimeoutMs, log);
  // MUTANT api-state-in-memory: sessions this API server issued, kept in its memory (tokens from another are unknown).
  const issued = mutant === 'api-state-in-memory' ? new Set<string>() : null;

  function caller(request: FastifyRequest): { userId: string; deviceId: string } {
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    const claims = token ? tokens.verify(token) : null;
    if (!claims || (issued && !issued.has(token)))
      throw new ProblemError(401, 'unauthorized', 'a valid bearer token from createSession is required');
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

  // MUTANT outage-as-500: store outages are not turned into 503s (they answer 500).
  const outageAsProblem = mutant === 'outage-as-500' ? (_: ChatStore, h: Handlers) => h : outageAs503;

  // MUTANT group-limit-101: one member too many fits.
  const groupLimit = mutant === 'group-limit-101' ? MAX_GROUP_MEMBERS + 1 : MAX_GROUP_MEMBERS;

  app = createApp({
    spec: o.spec,
    readiness: o.readiness,
    logger: o.logger,
    // MUTANT unvalidated-input: sign-up bodies reach the handler unchecked.
    unvalidated: mutant === 'unvalidated-input' ? ['createUser'] : [],
    handlers: outageAsProblem(store, {
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
        issued?.add(token);
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
        return reply.header('cache-control', 'no-store').send({ userId, ...(await store.presence(userId)) });
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
        // MUTANT push-subscription-kept: a device's first subscription stays; a new endpoint is ignored.
        if (
          mutant === 'push-subscription-kept' &&
          (await store.pushSubscriptions(me.userId)).some((s) => s.deviceId === deviceId)
        )
          return reply.code(204).send();
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
        // MUTANT full-group-refuses-member: the limit is checked before "already a member".
        if (mutant === 'full-group-refuses-member' && c.members.length >= groupLimit)
          throw new ProblemError(409, 'group_full', `a group has at most ${MAX_GROUP_MEMBERS} members`);
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
        // MUTANT discovery-keeps-dead: every chat server ever registered, dead or alive.
        const seenSince = mutant === 'discovery-keeps-dead' ? 0 : Date.now() - o.serverTtlMs;
        // The book's "best server" by load: least connections first.
        // MUTANT discovery-most-loaded: the busiest chat server first.
        const load = mutant === 'discovery-most-loaded' ? -1 : 1;
        const live = (await store.servers(seenSince)).sort(
          (a, b) => load * (a.connections - b.connections) || a.name.localeCompare(b.name),
        );
        if (!live.length)
          throw new ProblemError(503, 'unavailable', 'no chat server is up', { headers: { 'retry-after': '1' } });
        const [best, ...rest] = live.map((s) => ({ name: s.name, url: s.url }));
        return reply.header('cache-control', 'no-store').send({ server: best, alternatives: rest });
      },
    }),
  });

  return {
    app,
    close: async () => {
      sweep.stop();
      await store.close();
    },
  };
}
