// The service: shorten (dedup in the store), follow (read-through cache, count the click), stats.
import { ProblemError } from '../kit/problem.ts';
import { CacheUnavailableError, type LinkCache } from './cache.ts';
import { ClickCounter } from './clicks.ts';
import { checkLongUrl } from './long-url.ts';
import type { MutantName } from './mutants.ts';
import type { LinkRecord, LinkStore } from './store.ts';

export interface ShortenerOptions {
  store: LinkStore;
  cache: LinkCache;
  mutant?: MutantName | undefined;
  /** How often pending clicks are written; default 1000 ms. */
  clickFlushMs?: number;
  log: { error: (obj: object, message: string) => void };
}

export class Shortener {
  readonly store: LinkStore;
  readonly cache: LinkCache;
  private readonly clicks: ClickCounter;
  private readonly mutant: MutantName | undefined;

  constructor(options: ShortenerOptions) {
    this.store = options.store;
    this.cache = options.cache;
    this.mutant = options.mutant;
    this.clicks = new ClickCounter(
      options.store,
      (err) => options.log.error({ err }, 'writing click counts failed; retrying on the next flush'),
      options.clickFlushMs,
      options.mutant,
    );
    this.clicks.start();
  }

  /** MUTANT click-before-lookup only: count a click for a code without looking it up. */
  countClick(code: string): void {
    this.clicks.record(code);
  }

  /** Throws ProblemError 400 invalid_url for a URL that is not an absolute http(s) URL with a host. */
  async shorten(longUrl: string): Promise<{ link: LinkRecord; created: boolean }> {
    checkLongUrl(longUrl, this.mutant);
    const result = await this.store.shorten(longUrl);
    if (result.created) this.cache.set(result.link.code, result.link.longUrl);
    return result;
  }

  /** The long URL to redirect to, or undefined for an unknown code; counts the click. */
  async follow(code: string): Promise<string | undefined> {
    let longUrl: string | undefined;
    try {
      longUrl = await this.cache.get(code);
    } catch (error) {
      if (!(error instanceof CacheUnavailableError)) throw error;
      if (this.mutant === 'cache-required') {
        // MUTANT cache-required: treats the cache as a hard dependency; a cache outage fails the redirect.
        throw new ProblemError(503, 'unavailable', 'the cache is unavailable', { cause: error });
      }
      // The cache is an optimisation: fall through to the database (the cache logs its own outage, once).
    }
    if (longUrl === undefined) {
      const link = await this.store.findByCode(code);
      if (!link) return undefined;
      longUrl = link.longUrl;
      this.cache.set(code, longUrl);
      // MUTANT click-counted-twice-on-miss: a click served from the database is recorded here and again below.
      if (this.mutant === 'click-counted-twice-on-miss') this.clicks.record(code);
    }
    if (this.mutant !== 'clicks-not-counted') this.clicks.record(code); // MUTANT clicks-not-counted skips this
    return longUrl;
  }

  /** The link with clicks = stored + pending, or undefined for an unknown code. */
  async stats(code: string): Promise<LinkRecord | undefined> {
    return this.clicks.readExact(code, () => this.store.findByCode(code));
  }

  /** Flush pending clicks, then close the cache and the store. */
  async close(): Promise<void> {
    await this.clicks.close();
    await this.cache.close();
    await this.store.close();
  }
}
