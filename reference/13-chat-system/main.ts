// The chapter 13 reference: node --import tsx reference/13-chat-system/main.ts, one process per node, any number of
// each role; they share nothing but the store (SQLite in SHARED_DIR, or Redis):
//   ROLE=api  - an API server: the public HTTP API (sign-in, channels, history, presence, discovery).
//   ROLE=chat - a chat server: clients' WebSockets, the message service for its senders, pushes, the relay.
// See README.md for the environment.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApiApp, SPEC_URL } from './api-app.ts';
import { buildChatServer } from './chat-server.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import type { ChatStore } from './store.ts';
import { RedisChatStore } from './store-redis.ts';
import { SqliteChatStore } from './store-sqlite.ts';
import { Tokens } from './token.ts';

export const CHAPTER = '13-chat-system';

function intEnv(name: string, fallback: number): number {
  const text = process.env[name]?.trim();
  if (!text) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new ConfigError(`${name} must be a positive integer, got '${text}'`);
  return Number(text);
}

/** The shared store: Redis when REDIS_URL is set, else the SQLite file every node opens in SHARED_DIR. */
async function openStore(redisUrl: string | undefined, sharedDir: string, mutant?: MutantName): Promise<ChatStore> {
  mkdirSync(sharedDir, { recursive: true });
  if (redisUrl) return RedisChatStore.open(redisUrl, sharedDir, mutant);
  return new SqliteChatStore(join(sharedDir, 'chat.sqlite'), mutant);
}

await runServer({
  chapter: CHAPTER,
  defaultPort: 8130,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const role = process.env['ROLE']?.trim() || 'api';
    const secret = process.env['TOKEN_SECRET']?.trim();
    if (!secret) throw new ConfigError('TOKEN_SECRET is required (the same on every node: tokens are signed with it)');
    const tokens = new Tokens(secret);
    const presenceTimeoutMs = intEnv('PRESENCE_TIMEOUT_MS', 30_000);
    const heartbeatIntervalMs = intEnv('HEARTBEAT_INTERVAL_MS', Math.max(1, Math.floor(presenceTimeoutMs / 6)));
    const serverTtlMs = intEnv('CHAT_SERVER_TTL_MS', 2000);
    if (role !== 'api' && role !== 'chat') throw new ConfigError(`ROLE must be api or chat, got '${role}'`);
    const store = await openStore(config.redisUrl, process.env['SHARED_DIR']?.trim() || config.dataDir, mutant);
    readiness.dependencies =
      store instanceof RedisChatStore
        ? async () => ({ store: await store.health() })
        : async () => ({ store: 'embedded' });

    if (role === 'chat') {
      const chat = buildChatServer({
        name: process.env['NODE_NAME']?.trim() || 'chat1',
        store,
        tokens,
        readiness,
        heartbeatIntervalMs,
        presenceTimeoutMs,
        slowClientLimitBytes: intEnv('SLOW_CLIENT_LIMIT_BYTES', 4 * 1024 * 1024),
        authTimeoutMs: intEnv('AUTH_TIMEOUT_MS', 5000),
        serverTtlMs,
        mutant,
        logLevel: config.logLevel,
      });
      return { app: chat.app, onListening: chat.onListening, close: chat.close };
    }
    const { app, close } = buildApiApp({
      spec: await loadSpec(SPEC_URL),
      readiness,
      store,
      tokens,
      presenceTimeoutMs,
      serverTtlMs,
      mutant,
      logger: { level: config.logLevel },
    });
    return { app, close };
  },
});
