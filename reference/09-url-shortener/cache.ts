// The read-through cache in front of the store for redirects (the book's redirection deep dive): code -> long URL.
// Links are immutable, so entries never need invalidating. Implementations: cache-memory.ts (bounded LRU, the
// default), cache-redis.ts (REDIS_URL), and NoCache (CACHE=none).
import type { DependencyState } from '../kit/health.ts';

export interface LinkCache {
  readonly kind: 'memory' | 'redis' | 'none';
  /** The long URL for a code, undefined on a miss. Throws CacheUnavailableError when the cache cannot answer. */
  get(code: string): Promise<string | undefined>;
  /** Best effort, never throws and never waits: a failed set only costs a later miss. */
  set(code: string, longUrl: string): void;
  health(): DependencyState | undefined;
  close(): Promise<void>;
}

export class CacheUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CacheUnavailableError';
  }
}

export class NoCache implements LinkCache {
  readonly kind = 'none';
  async get(): Promise<undefined> {
    return undefined;
  }
  set(): void {}
  health(): undefined {
    return undefined;
  }
  async close(): Promise<void> {}
}
