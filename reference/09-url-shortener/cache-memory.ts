// A bounded LRU in the process: a Map keeps insertion order, so re-inserting on a hit makes the first key the
// least recently used one, which is evicted when full.
import type { DependencyState } from '../kit/health.ts';
import type { LinkCache } from './cache.ts';

export class MemoryCache implements LinkCache {
  readonly kind = 'memory';
  private readonly entries = new Map<string, string>();

  /** 100,000 entries of ~150 bytes each is ~15-30 MB. */
  constructor(readonly maxEntries = 100_000) {}

  async get(code: string): Promise<string | undefined> {
    const value = this.entries.get(code);
    if (value !== undefined) {
      this.entries.delete(code);
      this.entries.set(code, value);
    }
    return value;
  }

  set(code: string, longUrl: string): void {
    this.entries.delete(code);
    this.entries.set(code, longUrl);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  health(): DependencyState {
    return 'embedded';
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
