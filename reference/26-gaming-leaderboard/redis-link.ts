// The Redis connection of the boards on Redis (one sorted set per month, or one per shard of a month): made the same
// way for both, with connect, ping (readiness asks it) and close.
import { Redis } from 'ioredis';

const COMMAND_TIMEOUT_MS = 5000;

export class RedisLink<R extends Redis = Redis> {
  protected readonly redis: R;

  constructor(url: string) {
    // A store kept away is 503 promptly (the spec), never a request held: a command waits at most COMMAND_TIMEOUT_MS,
    // and reconnection attempts stay frequent (ioredis's default backs off to 2 s, so 2 retries could take 4 s+).
    this.redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * 50, 500),
      // A command sent before the connection dropped may have run: sent again on the new connection, an update
      // would count twice (ioredis resends by default). It fails instead (503: it ran at most once).
      autoResendUnfulfilledCommands: false,
    }) as R;
  }

  async connect(): Promise<void> {
    await this.redis.connect();
  }

  /** Whether Redis answers now (readiness reports it). */
  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
