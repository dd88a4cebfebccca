// Players' profiles (the book's user table, in the history's relational store) and the book's cache of the top 10's
// profiles: the top 10 is read far more often than profiles change, so names are served from memory. A profile set
// drops its cached name before the answer, and a name read from the store is cached only if no profile was set
// while it was being read, so the cache never serves a name older than the last answered set.
import type { Db } from './db.ts';
import type { MutantName } from './mutants.ts';

/** Names cached at most; the top 10s of the months being read are far fewer. */
const CACHE_MAX = 10_000;

export class Profiles {
  private readonly cache = new Map<string, string | null>();
  /** Bumped by every set: a read that began before it does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly mutant?: MutantName,
  ) {}

  /** Creates or replaces a profile; resolves once it is stored and no cache can serve the old name. */
  async set(user: string, displayName: string): Promise<void> {
    await this.db.run(
      `INSERT INTO users (user_id, display_name, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, updated_at = excluded.updated_at`,
      [user, displayName, Date.now()],
    );
    // MUTANT profile-cache-stale: the cached name is kept after a set.
    if (this.mutant === 'profile-cache-stale') return;
    this.generation++;
    this.cache.delete(user);
  }

  /** The profile's name, or null without one (from the store). */
  async get(user: string): Promise<string | null> {
    const [row] = await this.db.all<{ display_name: string }>('SELECT display_name FROM users WHERE user_id = ?', [
      user,
    ]);
    return row?.display_name ?? null;
  }

  /** The names of these players (null for those without a profile), from the cache where it has them. */
  async namesOf(users: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    const missing = users.filter((u) => {
      if (!this.cache.has(u)) return true;
      out.set(u, this.cache.get(u)!);
      return false;
    });
    if (missing.length === 0) return out;
    const generation = this.generation;
    const rows = await this.db.all<{ user_id: string; display_name: string }>(
      `SELECT user_id, display_name FROM users WHERE user_id IN (${missing.map(() => '?').join(', ')})`,
      missing,
    );
    const found = new Map(rows.map((r) => [r.user_id, r.display_name]));
    const cacheable = generation === this.generation || this.mutant === 'profile-cache-stale';
    if (cacheable && this.cache.size + missing.length > CACHE_MAX) this.cache.clear();
    for (const u of missing) {
      const name = found.get(u) ?? null;
      out.set(u, name);
      if (cacheable) this.cache.set(u, name);
    }
    return out;
  }
}
