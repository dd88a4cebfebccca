// Crawl state in the relational store (db.ts: SQLite by default, PostgreSQL with DATABASE_URL): jobs, fetched pages,
// the frontier, the URLs seen and the stored contents. Each fetch is recorded with the links it adds in one
// transaction (with the fetches that waited for the previous commit: a group commit), so a crawler killed between two
// fetches resumes exactly.
import type { Db, Sql } from './db.ts';

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

export type JobState = 'running' | 'stopped' | 'done';

export interface JobRow {
  id: string;
  config: JobConfig;
  state: JobState;
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

/** One fetch as recordFetches stores it. */
export interface FetchRecord {
  page: PageRecord;
  html: Uint8Array | string | null;
  added: readonly QueuedUrl[];
}

export type Counts = { fetched: number; stored: number; duplicates: number; skipped: number; failed: number };

/** Rows per multi-row INSERT (PostgreSQL takes at most 65535 parameters in one statement). */
const CHUNK = 500;

async function insertMany(sql: Sql, head: string, tail: string, rows: readonly unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const one = `(${part[0]!.map(() => '?').join(', ')})`;
    await sql.run(`${head} VALUES ${part.map(() => one).join(', ')} ${tail}`, part.flat());
  }
}

export class CrawlStore {
  constructor(readonly db: Db) {}

  async createJob(job: JobRow, seeds: QueuedUrl[]): Promise<void> {
    await this.db.tx(async (sql) => {
      await sql.run('INSERT INTO jobs (id, config, state, created_at) VALUES (?, ?, ?, ?)', [
        job.id,
        JSON.stringify(job.config),
        job.state,
        job.createdAt,
      ]);
      await this.enqueue(sql, job.id, seeds);
    });
  }

  private async enqueue(sql: Sql, job: string, urls: readonly QueuedUrl[]): Promise<void> {
    if (urls.length === 0) return;
    await insertMany(
      sql,
      'INSERT INTO seen (job, url)',
      'ON CONFLICT DO NOTHING',
      urls.map((u) => [job, u.url]),
    );
    await insertMany(
      sql,
      'INSERT INTO frontier (job, url, depth)',
      'ON CONFLICT DO NOTHING',
      urls.map((u) => [job, u.url, u.depth]),
    );
  }

  /** One fetch recorded alone (recordFetches with one). */
  recordFetch(
    job: string,
    page: PageRecord,
    html: Uint8Array | string | null,
    added: readonly QueuedUrl[],
  ): Promise<void> {
    return this.recordFetches(job, [{ page, html, added }]);
  }

  /**
   * Fetches recorded in one transaction (a group commit): each one's page, its new content (if stored: the body's bytes
   * as served; a string only from the content-as-text mutant), the URLs it adds; the fetched URLs leave the frontier.
   * Multi-row statements, so a group costs the round trips of one fetch.
   */
  async recordFetches(job: string, fetches: readonly FetchRecord[]): Promise<void> {
    if (fetches.length === 0) return;
    await this.db.tx(async (sql) => {
      // A retry of a record whose first try committed unacknowledged (the database lost mid-commit) adds nothing.
      await insertMany(
        sql,
        'INSERT INTO pages (job, url, outcome, body)',
        'ON CONFLICT DO NOTHING',
        fetches.map((f) => [job, f.page.url, f.page.outcome, JSON.stringify(f.page)]),
      );
      const contents = fetches.filter((f) => f.page.outcome === 'stored' && f.page.contentHash && f.html !== null);
      await insertMany(
        sql,
        'INSERT INTO contents (job, hash, url, html)',
        'ON CONFLICT DO NOTHING',
        contents.map((f) => [job, f.page.contentHash, f.page.url, f.html]),
      );
      const urls = fetches.map((f) => f.page.url);
      for (let i = 0; i < urls.length; i += CHUNK) {
        const part = urls.slice(i, i + CHUNK);
        await sql.run(`DELETE FROM frontier WHERE job = ? AND url IN (${part.map(() => '?').join(', ')})`, [
          job,
          ...part,
        ]);
      }
      await this.enqueue(
        sql,
        job,
        fetches.flatMap((f) => f.added),
      );
    });
  }

  async dropQueued(job: string, url: string): Promise<void> {
    await this.db.run('DELETE FROM frontier WHERE job = ? AND url = ?', [job, url]);
  }

  async finish(job: string): Promise<void> {
    await this.db.tx(async (sql) => {
      await sql.run("UPDATE jobs SET state = 'done' WHERE id = ?", [job]);
      await sql.run('DELETE FROM frontier WHERE job = ?', [job]);
    });
  }

  /** Whether the job is stored (a create whose commit's answer was lost may have committed). */
  async hasJob(job: string): Promise<boolean> {
    return (await this.db.all('SELECT 1 AS one FROM jobs WHERE id = ?', [job])).length > 0;
  }

  async setState(job: string, state: JobState): Promise<void> {
    await this.db.run('UPDATE jobs SET state = ? WHERE id = ?', [state, job]);
  }

  async jobs(): Promise<JobRow[]> {
    const rows = await this.db.all<{ id: string; config: string; state: JobState; created_at: string }>(
      'SELECT id, config, state, created_at FROM jobs ORDER BY created_at',
    );
    return rows.map((r) => ({
      id: r.id,
      config: JSON.parse(r.config) as JobConfig,
      state: r.state,
      createdAt: r.created_at,
    }));
  }

  frontier(job: string): Promise<QueuedUrl[]> {
    return this.db.all<QueuedUrl>('SELECT url, depth FROM frontier WHERE job = ? ORDER BY depth, url', [job]);
  }

  async seenUrls(job: string): Promise<string[]> {
    return (await this.db.all<{ url: string }>('SELECT url FROM seen WHERE job = ?', [job])).map((r) => r.url);
  }

  /** Which of these URLs the job has seen (the confirmation of the Bloom filter's "maybe"). */
  async seenOf(job: string, urls: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < urls.length; i += CHUNK) {
      const part = urls.slice(i, i + CHUNK);
      const rows = await this.db.all<{ url: string }>(
        `SELECT url FROM seen WHERE job = ? AND url IN (${part.map(() => '?').join(', ')})`,
        [job, ...part],
      );
      for (const r of rows) out.add(r.url);
    }
    return out;
  }

  /** The stored page of each of these content hashes that has one (content seen). */
  async contentOwners(job: string, hashes: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < hashes.length; i += CHUNK) {
      const part = hashes.slice(i, i + CHUNK);
      const rows = await this.db.all<{ hash: string; url: string }>(
        `SELECT hash, url FROM contents WHERE job = ? AND hash IN (${part.map(() => '?').join(', ')})`,
        [job, ...part],
      );
      for (const r of rows) out.set(r.hash, r.url);
    }
    return out;
  }

  /**
   * A content this job stored, as its bytes, with the content type recorded for the page that stored it (getContent).
   * Null when this job stored no content of this hash, whatever another job stored.
   */
  async content(
    job: string,
    hash: string,
    anyJob = false,
  ): Promise<{ bytes: Buffer; contentType: string | null } | null> {
    // anyJob: the contents-any-crawl mutant's lookup, by hash alone.
    const [r] = await this.db.all<{ html: Uint8Array | string; body: string | null }>(
      `SELECT c.html, p.body FROM contents c LEFT JOIN pages p ON p.job = c.job AND p.url = c.url
       WHERE ${anyJob ? '' : 'c.job = ? AND '}c.hash = ? LIMIT 1`,
      anyJob ? [hash] : [job, hash],
    );
    if (!r) return null;
    // A row of the old text schema on SQLite comes back as a string: its UTF-8 bytes are what that version stored.
    const bytes = typeof r.html === 'string' ? Buffer.from(r.html, 'utf8') : Buffer.from(r.html);
    const contentType = r.body === null ? null : (JSON.parse(r.body) as PageRecord).contentType;
    return { bytes, contentType };
  }

  async pages(job: string, after: number, limit: number): Promise<{ pages: PageRecord[]; next: number | null }> {
    const rows = await this.db.all<{ seq: number | string; body: string }>(
      'SELECT seq, body FROM pages WHERE job = ? AND seq > ? ORDER BY seq LIMIT ?',
      [job, after, limit + 1],
    );
    const shown = rows.slice(0, limit);
    return {
      pages: shown.map((r) => JSON.parse(r.body) as PageRecord),
      next: rows.length > limit ? Number(shown[shown.length - 1]!.seq) : null,
    };
  }

  async counts(job: string): Promise<Counts> {
    const c: Counts = { fetched: 0, stored: 0, duplicates: 0, skipped: 0, failed: 0 };
    const rows = await this.db.all<{ outcome: PageRecord['outcome']; n: number | string }>(
      'SELECT outcome, COUNT(*) AS n FROM pages WHERE job = ? GROUP BY outcome',
      [job],
    );
    for (const r of rows) {
      const n = Number(r.n);
      c.fetched += n;
      if (r.outcome === 'stored') c.stored += n;
      else if (r.outcome === 'duplicate') c.duplicates += n;
      else if (r.outcome === 'skipped') c.skipped += n;
      else c.failed += n;
    }
    return c;
  }

  /** Forgets which pages were fetched (the resume-refetches mutant only). */
  async forgetSeen(job: string): Promise<void> {
    await this.db.run('DELETE FROM seen WHERE job = ?', [job]);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
