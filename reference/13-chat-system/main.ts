// The chapter 13 reference: node --import tsx reference/13-chat-system/main.ts, one process per role.
//   ROLE=api  - the API server: public HTTP API, message service (IDs, store, relay), presence, discovery, pushes.
//   ROLE=chat - a chat server: clients' WebSockets; reaches the API server through PEERS (the manifest's ${peers}).
// See README.md for the environment.
import { join } from 'node:path';
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { parsePeers } from '../kit/peers.ts';
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
    const peers = parsePeers(process.env['PEERS']);

    if (role === 'chat') {
      const name = process.env['NODE_NAME']?.trim() || 'chat1';
      const apiName = process.env['API_NODE']?.trim() || 'api';
      const apiUrl = process.env['API_URL']?.trim() || peers.get(apiName);
      if (!apiUrl) throw new ConfigError(`a chat server needs API_URL or a peer named ${apiName} in PEERS`);
      const chat = buildChatServer({
        name,
        apiUrl: apiUrl.replace(/\/$/, ''),
        tokens,
        readiness,
        heartbeatIntervalMs,
        presenceTimeoutMs,
        slowClientLimitBytes: intEnv('SLOW_CLIENT_LIMIT_BYTES', 4 * 1024 * 1024),
        mutant,
        logLevel: config.logLevel,
      });
      return { app: chat.app, onListening: chat.onListening, close: chat.close };
    }
    if (role !== 'api') throw new ConfigError(`ROLE must be api or chat, got '${role}'`);
    // REDIS_URL: the chat history in Redis (the book's key-value store); else SQLite in DATA_DIR.
    const spec = await loadSpec(SPEC_URL);
    let store: ChatStore;
    if (config.redisUrl) {
      const redis = await RedisChatStore.open(config.redisUrl, config.dataDir);
      readiness.dependencies = async () => ({ store: await redis.health() });
      store = redis;
    } else {
      store = new SqliteChatStore(join(config.dataDir, 'chat.sqlite'));
      readiness.dependencies = async () => ({ store: 'embedded' });
    }
    const { app, close } = buildApiApp({
      spec,
      readiness,
      store,
      tokens,
      peers,
      presenceTimeoutMs,
      serverTtlMs: intEnv('CHAT_SERVER_TTL_MS', 2000),
      mutant,
      logger: { level: config.logLevel },
    });
    return { app, close };
  },
});
