// The store-level mutants (mutants.ts lists them all): each wraps the real store or its database where the broken
// thing lives, so the reference's own store code stays free of them.
import type { Db } from './db.ts';
import type { MutantName } from './mutants.ts';
import { CrawlStore, type FetchRecord } from './store.ts';

/** The crawl store the reference runs with `mutant` selected (the real one for every other mutant). */
export function storeFor(db: Db, mutant: MutantName | undefined): CrawlStore {
  if (mutant === 'tx-on-pool' && db.kind === 'postgres') return new CrawlStore(txOnPool(db));
  if (mutant === 'content-after-page-tx') return new ContentAfterPageStore(db);
  return new CrawlStore(db);
}

/**
 * MUTANT tx-on-pool: a transaction's BEGIN, its statements and its COMMIT each sent through the pool, on whichever
 * connection is free, so a fetch's record is not one transaction and its statements can land in another caller's.
 */
function txOnPool(db: Db): Db {
  const onPool = Object.create(db) as Db;
  onPool.tx = async (fn) => {
    await db.run('BEGIN');
    try {
      const result = await fn(db);
      await db.run('COMMIT');
      return result;
    } catch (e) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  };
  return onPool;
}

/**
 * MUTANT content-after-page-tx: a stored page's content written after the transaction that records the page (blind
 * bug content-stored-after-page), so a record whose commit is not heard of leaves a listed page without its content.
 */
class ContentAfterPageStore extends CrawlStore {
  override async recordFetches(job: string, fetches: readonly FetchRecord[]): Promise<void> {
    await super.recordFetches(
      job,
      fetches.map((f) => ({ ...f, html: null })),
    );
    for (const { page, html } of fetches)
      if (page.outcome === 'stored' && page.contentHash && html !== null)
        await this.db.run('INSERT INTO contents (job, hash, url, html) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
          job,
          page.contentHash,
          page.url,
          html,
        ]);
  }
}
