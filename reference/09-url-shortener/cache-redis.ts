// Redis as the read-through cache (REDIS_URL). The cache must never make the service slower or less available
// than the database alone (URL-F3):
// - enableOfflineQueue false: while disconnected a command fails at once instead of queueing until Redis is back;
// - commandTimeout: a slow Redis costs at most that much before the request falls back to the database;
// - a breaker: after a failure the cache is skipped for a second, so a slow or dead Redis costs one timeout per
//   second, not one per request;
// - no per-request retries; the connection itself keeps reconnecting (capped backoff) and the cache is used again
//   once Redis answers;
// - the cache going down and coming back are logged once each, not per request.
import { Redis } from 'ioredis';
import type { DependencyState } from '../kit/health.ts';
import { CacheUnavailableError, type LinkCache } from './cache.ts';

export interface RedisCacheOptions {
  url: string;
  /** Key prefix, e.g. `sdgrade:09:<store instance id>:`. */
  namespace: string;
  /** Longest wait for one command; default 30 ms. */
  commandTimeoutMs?: number;
  /** A hand-written mutant (mutants.ts) that lives in the cache. */
  mutant?: 'redis-waits-forever' | 'cache-health-inverted';
  /** How long the cache is skipped after a failure; default 1000 ms. */
  breakerMs?: number;
  /** Entries expire after this many seconds (bounded memory without maxmemory); default one day. */
  ttlSeconds?: number;
  log?: { warn: (message: string) => void; info: (message: string) => void };
}

export class RedisCache implements LinkCache {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly namespace: string;
  private readonly breakerMs: number;
  private readonly ttlSeconds: number;
  private readonly log: RedisCacheOptions['log'];
  private skipUntil = 0;
  private down = false;
  private readonly mutant: RedisCacheOptions['mutant'];

  constructor(options: RedisCacheOptions) {
    this.namespace = options.namespace;
    this.breakerMs = options.breakerMs ?? 1000;
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
    this.log = options.log;
    this.mutant = options.mutant;
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      // MUTANT redis-waits-forever: no command timeout ("Redis answers in microseconds"), so a Redis that is
      // connected but answers nothing holds every redirect until it does.
      ...(options.mutant === 'redis-waits-forever' ? {} : { commandTimeout: options.commandTimeoutMs ?? 30 }),
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
      connectionName: 'sdgrade-reference/09-url-shortener',
    });
    this.redis.on('error', (error: Error) => this.markDown(error.message));
    this.redis.on('close', () => this.markDown('connection closed'));
    this.redis.on('ready', () => {
      this.skipUntil = 0;
      if (this.down) this.log?.info('cache (Redis) is back; using it again');
      this.down = false;
    });
  }

  /** Try to connect within `timeoutMs`; on failure the service starts without the cache and reconnects later. */
  async connect(timeoutMs = 2000): Promise<boolean> {
    const timeout = new Promise<false>((resolve) => setTimeout(resolve, timeoutMs, false).unref());
    const connected = this.redis.connect().then(
      () => true,
      () => false,
    );
    const ok = await Promise.race([connected, timeout]);
    if (!ok) this.markDown('not reachable at startup');
    return ok;
  }

  async get(code: string): Promise<string | undefined> {
    if (Date.now() < this.skipUntil || this.redis.status !== 'ready') {
      throw new CacheUnavailableError('cache (Redis) is unavailable');
    }
    try {
      const value = await this.redis.get(this.namespace + code);
      if (this.down) {
        this.down = false;
        this.log?.info('cache (Redis) answers again; using it');
      }
      return value ?? undefined;
    } catch (error) {
      this.trip((error as Error).message);
      throw new CacheUnavailableError(`cache (Redis) failed: ${(error as Error).message}`, error);
    }
  }

  set(code: string, longUrl: string): void {
    if (Date.now() < this.skipUntil || this.redis.status !== 'ready') return;
    this.redis
      .set(this.namespace + code, longUrl, 'EX', this.ttlSeconds)
      .catch((error: Error) => this.trip(error.message));
  }

  health(): DependencyState {
    // MUTANT cache-health-inverted: the breaker's test turned round, so readiness says the cache is down while it
    // answers (and up while it is skipped).
    if (this.mutant === 'cache-health-inverted')
      return this.redis.status === 'ready' && Date.now() < this.skipUntil ? 'up' : 'down';
    return this.redis.status === 'ready' && Date.now() >= this.skipUntil ? 'up' : 'down';
  }

  async close(): Promise<void> {
    this.down = false; // closing is not an outage
    this.redis.removeAllListeners('close');
    this.redis.disconnect();
  }

  private trip(reason: string): void {
    this.skipUntil = Date.now() + this.breakerMs;
    this.markDown(reason);
  }

  private markDown(reason: string): void {
    if (this.down) return;
    this.down = true;
    this.log?.warn(`cache (Redis) is down (${reason}); answering from the database until it is back`);
  }
}
