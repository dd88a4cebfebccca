// Crawl state on disk (SQLite, better-sqlite3): jobs, fetched pages, the frontier and the URLs seen. Each fetch is
// recorded with the links it adds in one transaction, so a crawler killed between two fetches resumes exactly.
import Database from 'better-sqlite3';

export interface JobConfig {
  seeds: string[];
  allowedDomains: string[];
  maxPages: number;
  maxDepth: number;
  politenessDelayMs: number;
  fetchTimeoutMs: number;
  userAgent: string;
  resolve: Record<string, string> | null;
}

export interface JobRow {
  id: string;
  config: JobConfig;
  state: 'running' | 'done';
  createdAt: string;
}

export interface PageRecord {
  url: string;
  depth: number;
  status: number;
  contentType: string | null;
  outcome: 'stored' | 'duplicate' | 'skipped' | 'failed';
  contentHash: string | null;
  duplicateOf: string | null;
  links: string[];
  fetchedAt: string;
}

export interface QueuedUrl {
  url: string;
  depth: number;
}

export class CrawlStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, config TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS pages (seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS frontier (job TEXT NOT NULL, url TEXT NOT NULL, depth INTEGER NOT NULL, PRIMARY KEY (job, url));
      CREATE TABLE IF NOT EXISTS seen (job TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (job, url));
      CREATE TABLE IF NOT EXISTS contents (job TEXT NOT NULL, hash TEXT NOT NULL, url TEXT NOT NULL, html TEXT NOT NULL, PRIMARY KEY (job, hash));
    `);
  }

  createJob(job: JobRow, seeds: QueuedUrl[]): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO jobs (id, config, state, created_at) VALUES (?, ?, ?, ?)')
        .run(job.id, JSON.stringify(job.config), job.state, job.createdAt);
      this.enqueue(job.id, seeds);
    })();
  }

  private enqueue(job: string, urls: readonly QueuedUrl[]): void {
    const seen = this.db.prepare('INSERT OR IGNORE INTO seen (job, url) VALUES (?, ?)');
    const queue = this.db.prepare('INSERT OR IGNORE INTO frontier (job, url, depth) VALUES (?, ?, ?)');
    for (const u of urls) {
      seen.run(job, u.url);
      queue.run(job, u.url, u.depth);
    }
  }

  /** One fetch: its page, its new content (if stored), the URLs it adds; the fetched URL leaves the frontier. */
  recordFetch(job: string, page: PageRecord, html: string | null, added: readonly QueuedUrl[]): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO pages (job, url, body) VALUES (?, ?, ?)').run(job, page.url, JSON.stringify(page));
      if (page.outcome === 'stored' && page.contentHash && html !== null)
        this.db
          .prepare('INSERT OR IGNORE INTO contents (job, hash, url, html) VALUES (?, ?, ?, ?)')
          .run(job, page.contentHash, page.url, html);
      this.db.prepare('DELETE FROM frontier WHERE job = ? AND url = ?').run(job, page.url);
      this.enqueue(job, added);
    })();
  }

  dropQueued(job: string, url: string): void {
    this.db.prepare('DELETE FROM frontier WHERE job = ? AND url = ?').run(job, url);
  }

  finish(job: string): void {
    this.db.prepare("UPDATE jobs SET state = 'done' WHERE id = ?").run(job);
    this.db.prepare('DELETE FROM frontier WHERE job = ?').run(job);
  }

  jobs(): JobRow[] {
    return (
      this.db.prepare('SELECT id, config, state, created_at FROM jobs').all() as {
        id: string;
        config: string;
        state: 'running' | 'done';
        created_at: string;
      }[]
    ).map((r) => ({ id: r.id, config: JSON.parse(r.config) as JobConfig, state: r.state, createdAt: r.created_at }));
  }

  frontier(job: string): QueuedUrl[] {
    return this.db.prepare('SELECT url, depth FROM frontier WHERE job = ? ORDER BY depth').all(job) as QueuedUrl[];
  }

  seenUrls(job: string): string[] {
    return (this.db.prepare('SELECT url FROM seen WHERE job = ?').all(job) as { url: string }[]).map((r) => r.url);
  }

  isSeen(job: string, url: string): boolean {
    return this.db.prepare('SELECT 1 FROM seen WHERE job = ? AND url = ?').get(job, url) !== undefined;
  }

  /** The stored page with this content hash, if any (content seen). */
  contentOwner(job: string, hash: string): string | null {
    const r = this.db.prepare('SELECT url FROM contents WHERE job = ? AND hash = ?').get(job, hash) as
      | { url: string }
      | undefined;
    return r?.url ?? null;
  }

  pages(job: string, after: number, limit: number): { pages: PageRecord[]; next: number | null } {
    const rows = this.db
      .prepare('SELECT seq, body FROM pages WHERE job = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(job, after, limit + 1) as { seq: number; body: string }[];
    const shown = rows.slice(0, limit);
    return {
      pages: shown.map((r) => JSON.parse(r.body) as PageRecord),
      next: rows.length > limit ? shown[shown.length - 1]!.seq : null,
    };
  }

  counts(job: string): { fetched: number; stored: number; duplicates: number; skipped: number; failed: number } {
    const c = { fetched: 0, stored: 0, duplicates: 0, skipped: 0, failed: 0 };
    for (const r of this.db.prepare('SELECT body FROM pages WHERE job = ?').all(job) as { body: string }[]) {
      const p = JSON.parse(r.body) as PageRecord;
      c.fetched++;
      if (p.outcome === 'stored') c.stored++;
      else if (p.outcome === 'duplicate') c.duplicates++;
      else if (p.outcome === 'skipped') c.skipped++;
      else c.failed++;
    }
    return c;
  }

  /** Forgets which pages were fetched (the resume-refetches mutant only). */
  forgetSeen(job: string): void {
    this.db.prepare('DELETE FROM seen WHERE job = ?').run(job);
  }

  close(): void {
    this.db.close();
  }
}
